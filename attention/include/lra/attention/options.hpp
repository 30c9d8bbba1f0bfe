// MechanismOptions: what every attention mechanism is built from — the model's shape plus
// mechanism-specific hyper-parameters given by name ("block=64", "features=256").
// Every named parameter a mechanism reads is recorded; asking for an unknown one is an
// error that lists the valid names, so a typo on the command line is never ignored.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace lra::attn {

struct ParamSpec {
  std::string name;
  std::string default_value;
  std::string help;
};

class MechanismOptions {
 public:
  int64_t dim = 64;        // model width D
  int64_t heads = 2;       // H
  int64_t qkv_dim = 64;    // H * d (d = qkv_dim / heads)
  int64_t max_len = 2048;  // longest sequence the model is built for (incl. CLS)
  float attn_dropout = 0.0f;
  int layer = 0;          // index of the encoder block (seeds layer-specific draws)
  uint64_t init_key = 0;  // parameter initialisation key

  // Overrides "name=value" for mechanism-specific parameters.
  std::map<std::string, std::string> params;

  // Typed access with the mechanism's default; records the name as known.
  int64_t get_int(const ParamSpec& spec) const;
  double get_float(const ParamSpec& spec) const;
  bool get_bool(const ParamSpec& spec) const;
  std::string get_string(const ParamSpec& spec) const;

  // Throws ConfigError if `params` holds a name outside `specs` (naming it and the valid ones).
  void check_known(const std::string& mechanism, const std::vector<ParamSpec>& specs) const;

  int64_t head_dim() const { return qkv_dim / heads; }
};

// Parses "a=1,b=2" into a map; throws ConfigError on a malformed item.
std::map<std::string, std::string> parse_param_list(const std::string& text);

}  // namespace lra::attn
