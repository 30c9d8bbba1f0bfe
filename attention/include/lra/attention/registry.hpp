// The registry of attention mechanisms: name -> summary, parameters and a factory.
// Adding a mechanism = one file in attention/src/ + one line in registry.cpp; what the benchmark
// knows of it (paper name and numbers, bench and picture parameters) is its one row in
// lra/src/measure/mechanism_facts.cpp (a test fails until the row is there).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lra/attention/multihead.hpp"
#include "lra/attention/options.hpp"

namespace lra::attn {

struct MechanismInfo {
  std::string name;     // command-line name, e.g. "transformer"
  std::string title;    // e.g. "Transformer (softmax attention)"
  std::string summary;  // one line: what it sees and its cost
  std::vector<ParamSpec> params;
  std::function<std::unique_ptr<MultiHeadAttention>(const MechanismOptions&)> make;
};

const std::vector<MechanismInfo>& mechanisms();
// Throws ConfigError naming the unknown mechanism and listing the known ones.
const MechanismInfo& find_mechanism(const std::string& name);
// Builds a mechanism after checking its named parameters are all known.
std::unique_ptr<MultiHeadAttention> make_mechanism(const std::string& name,
                                                   const MechanismOptions& opt);

}  // namespace lra::attn
