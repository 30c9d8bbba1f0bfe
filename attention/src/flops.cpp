// The work of one layer's attention core in floating-point operations, forward, counted from
// the sizes (a multiply-add is 2 FLOPs; softmax and elementwise passes are not counted). With
// B batch, N tokens, D width, d = D / H per head:
//   scores + weighted sum:   2 x 2BN S D, S = the keys each query sees
//   transformer, synthesizer S = N; local S = block; longformer S = window;
//   sparse S = block + summary N/block; bigbird S = (window + 2 + random) block;
//   sinkhorn S = 2 block; reformer S = 2 chunk x rounds (all capped at N)
//   linformer: + E X (2BNkD; and F X without share_kv), S = k
//   linear (elu+1 features): phi(K)^T V and phi(Q)(.): 2 x 2BNDd
//   performer: features of Q and K (2 x 2BNmD) + 2 x 2BNmD, m features
#include "lra/attention/flops.hpp"

#include <algorithm>
#include <cmath>

#include "lra/attention/registry.hpp"
#include "lra/core/error.hpp"

namespace lra::attn {
namespace {

// The registry's description of a mechanism's parameter; `params` over its default, read as
// the mechanism reads it (MechanismOptions).
const ParamSpec& spec_of(const std::string& model, const std::string& name) {
  for (const ParamSpec& p : find_mechanism(model).params)
    if (p.name == name) return p;
  throw ConfigError("attention FLOPs: mechanism " + model + " has no parameter " + name);
}

MechanismOptions options(const std::map<std::string, std::string>& params) {
  MechanismOptions o;
  o.params = params;
  return o;
}

double param(const std::string& model, const std::map<std::string, std::string>& params,
             const std::string& name) {
  return options(params).get_float(spec_of(model, name));
}

}  // namespace

double attention_flops(const std::string& m, const std::map<std::string, std::string>& params,
                       int64_t batch, int64_t seq_len, int64_t dim, int64_t heads) {
  const double B = double(batch), N = double(seq_len), D = double(dim);
  const double d = D / double(std::max<int64_t>(1, heads));
  auto p = [&](const char* name) { return param(m, params, name); };
  auto keys = [&](double s) { return 4.0 * B * N * std::min(s, N) * D; };
  if (m == "transformer" || m == "synthesizer") return keys(N);
  if (m == "local") return keys(p("block"));
  if (m == "longformer") return keys(p("window"));
  if (m == "sparse") {
    const double b = p("block");
    return keys(b + p("summary") * N / b);
  }
  if (m == "bigbird") return keys((p("window") + 2.0 + p("random")) * p("block"));
  if (m == "sinkhorn") return keys(2.0 * p("block"));
  if (m == "reformer") {
    const double size = p("bucket_size");
    const double chunk = size > 0 ? size : std::ceil(N / p("n_buckets"));
    return p("n_hashes") * keys(2.0 * chunk);
  }
  if (m == "linformer") {
    const double k = std::min(p("k"), N);
    const bool shared = options(params).get_bool(spec_of(m, "share_kv"));  // F X as well if not
    return (shared ? 2.0 : 4.0) * B * N * k * D + keys(k);
  }
  if (m == "linear") return 4.0 * B * N * D * d;
  if (m == "performer") return 8.0 * B * N * p("features") * D;
  throw ConfigError("attention FLOPs: no count for mechanism " + m);
}

double projection_flops(const std::string& m, const std::map<std::string, std::string>& params,
                        int64_t batch, int64_t seq_len, int64_t dim) {
  const double B = double(batch), N = double(seq_len), D = double(dim);
  const double rows_kv = m == "linformer" ? std::min(param(m, params, "k"), N) : N;
  return 4.0 * B * N * D * D + 4.0 * B * rows_kv * D * D;
}

}  // namespace lra::attn
