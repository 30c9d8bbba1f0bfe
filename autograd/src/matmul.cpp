// matmul on Var: C = op(A) op(B), op = identity or transpose, batch dims broadcast.
//
//   d op(A) = G op(B)^T        d op(B) = op(A)^T G
//   so, in matmul(x, y, trans_x, trans_y) terms (no transpose is ever materialised):
//     dA = ta ? matmul(B, G, tb, true)  : matmul(G, B, false, !tb)
//     dB = tb ? matmul(G, A, true, ta)  : matmul(A, G, !ta, false)
//   A gradient computed per broadcast batch entry is summed back to its input's batch shape.
//   Shapes: A (..., M, K) [ta: (..., K, M)], B (..., K, N) [tb: (..., N, K)], G (..., M, N).
//
// Linear-layer case: A (..., M, K) with a 2-D B. dB then sums over every row of every batch
// entry, so A and G are flattened to (rows, K) and (rows, N) and dB is one GEMM.
#include "lra/autograd/ops.hpp"

namespace lra {
namespace {

Tensor reduce_to(const Tensor& g, const Dims& shape) {
  return g.shape() == shape ? g : kern::sum_to(g, shape);
}

Tensor flatten_rows(const Tensor& t) {
  return t.reshape({-1, t.size(-1)});
}

}  // namespace

Var matmul(const Var& a, const Var& b, bool trans_a, bool trans_b) {
  Tensor out = kern::matmul(a.data(), b.data(), trans_a, trans_b);
  Tensor keep_a = b.requires_grad() ? a.data() : Tensor();  // dB reads A
  Tensor keep_b = a.requires_grad() ? b.data() : Tensor();  // dA reads B
  return make_result(
      out, "matmul", {a, b},
      [keep_a, keep_b, sa = a.shape(), sb = b.shape(), ta = trans_a, tb = trans_b](const Tensor& g,
                                                                                   InputGrads& in) {
        if (in.needs(0)) {
          Tensor da = ta ? kern::matmul(keep_b, g, tb, true) : kern::matmul(g, keep_b, false, !tb);
          in.set(0, reduce_to(da, sa));
        }
        if (in.needs(1)) {
          Tensor db;
          if (sb.size() == 2 && sa.size() > 2 && !ta) {  // fold batch dims into rows
            Tensor a2 = flatten_rows(keep_a), g2 = flatten_rows(g);
            db = tb ? kern::matmul(g2, a2, true, false) : kern::matmul(a2, g2, true, false);
          } else {
            db = tb ? kern::matmul(g, keep_a, true, ta) : kern::matmul(keep_a, g, !ta, false);
          }
          in.set(1, reduce_to(db, sb));
        }
      });
}

}  // namespace lra
