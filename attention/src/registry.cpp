#include "lra/attention/registry.hpp"

#include "lra/core/error.hpp"
#include "mechanisms.hpp"

namespace lra::attn {

const std::vector<MechanismInfo>& mechanisms() {
  static const std::vector<MechanismInfo> all = {
      softmax_mechanism(),   local_mechanism(),    sparse_mechanism(),    longformer_mechanism(),
      linformer_mechanism(), reformer_mechanism(), sinkhorn_mechanism(),  synthesizer_mechanism(),
      bigbird_mechanism(),   linear_mechanism(),   performer_mechanism(),
  };
  return all;
}

const MechanismInfo& find_mechanism(const std::string& name) {
  std::string known;
  for (const MechanismInfo& m : mechanisms()) {
    if (m.name == name) return m;
    known += " " + m.name;
  }
  throw ConfigError("unknown attention mechanism '" + cut_for_message(name) + "'; known:" + known +
                    " (see `lra_cpu models`)");
}

std::unique_ptr<MultiHeadAttention> make_mechanism(const std::string& name,
                                                   const MechanismOptions& opt) {
  const MechanismInfo& m = find_mechanism(name);
  opt.check_known(name, m.params);
  return m.make(opt);
}

}  // namespace lra::attn
