// What the measuring code knows about each attention mechanism, one row per registered mechanism
// in one table (lra/src/measure/mechanism_facts.cpp; a test checks every registered mechanism has
// its row): the paper's name, its LRA Table 1 accuracies and Table 2 speed-up (docs/lra.md
// sections 7 and 8), and the parameters the bench and the pattern pictures run it with. The
// attention layer keeps what the mechanism is (registry.hpp); these are facts of the benchmark.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lra::facts {

using Params = std::map<std::string, std::string>;

struct Mechanism {
  std::string name;     // registry name, e.g. "local"
  std::string display;  // the paper's name, e.g. "Local Attention"
  // LRA Table 1, test accuracy (%): ListOps, Text, Retrieval, Image, Pathfinder, and their
  // average (Path-X: FAIL for every model); none for a mechanism the paper did not run.
  std::optional<std::array<double, 5>> table1;
  std::optional<double> table1_average;
  // LRA Table 2: training steps/s relative to the Transformer at 4K (TPU v3); none when the
  // paper did not benchmark it (Sparse Transformer, Longformer).
  std::optional<double> speedup_4k;
  Params bench_params;  // the bench's defaults (the PyTorch twin's hyper-parameters)
  // The pattern pictures' parameters at length `len`: blocks scaled to N so the structure shows.
  Params (*picture_params)(int64_t len) = nullptr;
};

// Table 1's task columns, in order: "listops", "text", "retrieval", "image", "pathfinder".
const std::array<const char*, 5>& table1_tasks();

const std::vector<Mechanism>& mechanisms();         // registry order
const Mechanism* find(const std::string& name);     // nullptr when there is no row
std::string display_name(const std::string& name);  // the name itself when there is no row
Params bench_params(const std::string& name);       // {} when none
Params picture_params(const std::string& name, int64_t len);

}  // namespace lra::facts
