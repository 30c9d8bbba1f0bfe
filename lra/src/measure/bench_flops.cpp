// The work of one bench configuration in floating-point operations, counted from the model's
// sizes (a multiply-add is 2 FLOPs; elementwise passes, softmax and layer norm are not counted).
// Per layer, forward, with B batch, N tokens, D width, M MLP width:
//   projections  Q, K, V, output:         4 x 2BND^2 (attn::projection_flops; Linformer less)
//   MLP          D -> M -> D:             2 x 2BNDM
//   attention    attn::attention_flops (attention/src/flops.cpp, per mechanism)
// A training step counts 3x the forward (backward = twice the forward's products), the
// usual convention; an inference step 1x.
#include "lra/attention/flops.hpp"
#include "lra/lra/measure/bench.hpp"

namespace lra::bench {

double attention_flops(const Config& c) {
  return attn::attention_flops(c.model, c.params, c.batch, c.seq_len, c.dim, c.heads);
}

double flops_per_step(const Config& c) {
  const double B = double(c.batch), N = double(c.seq_len), D = double(c.dim);
  const double layer = attn::projection_flops(c.model, c.params, c.batch, c.seq_len, c.dim) +
                       4.0 * B * N * D * double(c.mlp_dim) + attention_flops(c);
  return double(c.layers) * layer * (c.inference ? 1.0 : 3.0);
}

}  // namespace lra::bench
