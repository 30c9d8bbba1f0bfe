// One row per mechanism: its paper name, LRA Table 1 and Table 2 numbers (docs/lra.md sections 7
// and 8) and its bench and picture parameters. A new mechanism adds its row here.
#include "lra/lra/measure/mechanism_facts.hpp"

#include <algorithm>

namespace lra::facts {
namespace {

std::string part(int64_t len, int64_t d) {
  return std::to_string(std::max<int64_t>(1, len / d));
}

Params none(int64_t) {
  return {};
}
Params eighth_block(int64_t len) {
  return {{"block", part(len, 8)}};
}
Params sparse_picture(int64_t len) {
  return {{"block", part(len, 8)}, {"summary", part(len, 32)}};
}
Params longformer_picture(int64_t len) {
  return {{"window", part(len, 8)}};
}
Params bigbird_picture(int64_t len) {
  return {{"block", part(len, 16)}};
}
Params performer_picture(int64_t) {
  return {{"dense", "features"}};
}  // what its fast path computes

}  // namespace

const std::array<const char*, 5>& table1_tasks() {
  static const std::array<const char*, 5> t = {"listops", "text", "retrieval", "image",
                                               "pathfinder"};
  return t;
}

const std::vector<Mechanism>& mechanisms() {
  using T = std::array<double, 5>;
  static const std::vector<Mechanism> all = {
      // name, display, Table 1 (ListOps Text Retrieval Image Pathfinder), avg, Table 2 4K,
      // bench parameters, picture parameters
      {"transformer", "Transformer", T{36.37, 64.27, 57.46, 42.44, 71.40}, 54.39, 1.0, {}, none},
      {"local",
       "Local Attention",
       T{15.82, 52.98, 53.39, 41.46, 66.63},
       46.06,
       5.3,
       {{"block", "256"}},
       eighth_block},
      {"sparse",
       "Sparse Trans.",
       T{17.07, 63.58, 59.59, 44.24, 71.71},
       51.24,
       std::nullopt,
       {},
       sparse_picture},
      {"longformer",
       "Longformer",
       T{35.63, 62.85, 56.89, 42.22, 69.71},
       53.46,
       std::nullopt,
       {},
       longformer_picture},
      {"linformer",
       "Linformer",
       T{35.70, 53.94, 52.27, 38.56, 76.34},
       51.36,
       5.5,
       {{"k", "256"}},
       none},
      {"reformer", "Reformer", T{37.27, 56.10, 53.40, 38.07, 68.50}, 50.67, 0.8, {}, none},
      {"sinkhorn",
       "Sinkhorn Trans.",
       T{33.67, 61.20, 53.83, 41.23, 67.45},
       51.39,
       3.8,
       {},
       eighth_block},
      {"synthesizer", "Synthesizer", T{36.99, 61.68, 54.67, 41.61, 69.45}, 52.88, 1.4, {}, none},
      {"bigbird", "BigBird", T{36.05, 64.02, 59.29, 40.83, 74.87}, 55.01, 1.1, {}, bigbird_picture},
      {"linear", "Linear Trans.", T{16.13, 65.90, 53.09, 42.34, 75.30}, 50.55, 5.6, {}, none},
      {"performer",
       "Performer",
       T{18.01, 65.40, 53.82, 42.77, 77.05},
       51.41,
       5.7,
       {{"features", "256"}},
       performer_picture},
  };
  return all;
}

const Mechanism* find(const std::string& name) {
  for (const Mechanism& m : mechanisms())
    if (m.name == name) return &m;
  return nullptr;
}

std::string display_name(const std::string& name) {
  const Mechanism* m = find(name);
  return m ? m->display : name;
}

Params bench_params(const std::string& name) {
  const Mechanism* m = find(name);
  return m ? m->bench_params : Params{};
}

Params picture_params(const std::string& name, int64_t len) {
  const Mechanism* m = find(name);
  return m && m->picture_params ? m->picture_params(len) : Params{};
}

}  // namespace lra::facts
