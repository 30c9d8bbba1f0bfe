// The Performer projection W (m, d) that layer `layer` of an LraModel with seed `seed` draws
// (default redraw=0, scaling=0): the keys of lra/src/train/model.cpp (init -> mixer -> layer)
// and attention/src/performer.cpp ("performer.features"). Shared by the golden_projection tool,
// which hands W to tests/golden/make_golden.py, and tests/lra/test_golden.cpp, which checks that
// a golden file holds these draws.
#pragma once
#include <cstdint>

#include "../../attention/src/lowrank_ops.hpp"
#include "lra/core/rng.hpp"
#include "lra/core/tensor.hpp"

namespace lra::golden {

inline Tensor performer_projection(uint64_t seed, int layer, int64_t m, int64_t d) {
  const uint64_t mixer = rng_key(seed, {rng_tag("init"), rng_tag("mixer")});
  const uint64_t init = rng_key(mixer, {uint64_t(layer)});
  return attn::ops::gaussian_orthogonal_matrix(m, d, rng_key(init, {rng_tag("performer.features")}),
                                               0);
}

}  // namespace lra::golden
