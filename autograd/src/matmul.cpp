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
// Other broadcast operands (e.g. Linformer's (B, 1, k, N) projection against (B, H, N, d) keys):
// the gradient is accumulated GEMM by GEMM with beta = 1 over the broadcast batch entries
// (matmul_reduced), never materialised for the full batch and then summed (a (B, H, k, N)
// temporary and a sum_to pass); when every batch axis is summed (Linformer's (k, N) E without
// padding) that is one kern::matmul_sum, whose tile tasks each add up all the entries.
#include "lra/autograd/ops.hpp"

namespace lra {
namespace {

Tensor reduce_to(const Tensor& g, const Dims& shape) {
  return g.shape() == shape ? g : kern::sum_to(g, shape);
}

Tensor flatten_rows(const Tensor& t) {
  return t.reshape({-1, t.size(-1)});
}

Dims batch_of(const Tensor& t) {
  Dims b = t.shape();
  b.erase(b.size() - 1);
  b.erase(b.size() - 1);
  return b;
}

// op(x) op(y) summed over the batch entries that broadcast onto one entry of `target`
// (batch dims + (M, N)): for each index of the summed dims, one batched matmul_into with
// beta = 1 into the result, in a fixed order (so independent of the thread count).
Tensor matmul_reduced(const Tensor& x, const Tensor& y, bool tx, bool ty, const Dims& target) {
  const Dims full = broadcast_shapes(batch_of(x), batch_of(y));
  Dims tb = target;
  tb.erase(tb.size() - 1);
  tb.erase(tb.size() - 1);
  const int lead = full.size() - tb.size();
  std::vector<int> summed;  // axes of `full` that target does not have (or has as 1)
  Dims kept;
  for (int d = 0; d < full.size(); ++d) {
    const int j = d - lead;
    if (full[d] > 1 && (j < 0 || tb[j] == 1))
      summed.push_back(d);
    else
      kept.push_back(full[d]);
  }
  if (lead < 0 || summed.empty()) return reduce_to(kern::matmul(x, y, tx, ty), target);
  // every batch axis summed: one (M, N) sum, its tiles split over the threads (not per entry)
  if (kept.numel() == 1) return kern::matmul_sum(x, y, tx, ty).reshape(target);
  auto expanded = [&](const Tensor& t) {
    Dims s = full;
    s.push_back(t.size(-2));
    s.push_back(t.size(-1));
    return t.expand(s);
  };
  const Tensor xe = expanded(x), ye = expanded(y);
  Dims out_shape = kept;
  out_shape.push_back(target[target.size() - 2]);
  out_shape.push_back(target[target.size() - 1]);
  Tensor out = Tensor::empty(target);
  Tensor view = out.view(out_shape);
  int64_t combos = 1;
  for (int d : summed) combos *= full[d];
  for (int64_t r = 0; r < combos; ++r) {
    Tensor xr = xe, yr = ye;
    int64_t rem = r;
    for (int i = int(summed.size()) - 1; i >= 0; --i) {  // highest axis first: indices stay valid
      const int d = summed[size_t(i)];
      xr = xr.select(d, rem % full[d]);
      yr = yr.select(d, rem % full[d]);
      rem /= full[d];
    }
    kern::matmul_into(view, xr, yr, tx, ty, 1.0f, r == 0 ? 0.0f : 1.0f);
  }
  return out;
}

}  // namespace

Var matmul(const Var& a, const Var& b, bool trans_a, bool trans_b) {
  Tensor out = kern::matmul(a.data(), b.data(), trans_a, trans_b);
  Tensor keep_a = b.requires_grad() ? a.data() : Tensor();  // dB reads A
  Tensor keep_b = a.requires_grad() ? b.data() : Tensor();  // dA reads B
  return make_result(out, "matmul", {a, b},
                     [keep_a, keep_b, sa = a.shape(), sb = b.shape(), ta = trans_a, tb = trans_b](
                         const Tensor& g, InputGrads& in) {
                       if (in.needs(0)) {
                         in.set(0, ta ? matmul_reduced(keep_b, g, tb, true, sa)
                                      : matmul_reduced(g, keep_b, false, !tb, sa));
                       }
                       if (in.needs(1)) {
                         Tensor db;
                         if (sb.size() == 2 && sa.size() > 2 && !ta) {  // fold batch dims into rows
                           Tensor a2 = flatten_rows(keep_a), g2 = flatten_rows(g);
                           db = tb ? kern::matmul(g2, a2, true, false)
                                   : kern::matmul(a2, g2, true, false);
                         } else {
                           db = tb ? matmul_reduced(g, keep_a, true, ta, sb)
                                   : matmul_reduced(keep_a, g, !ta, false, sb);
                         }
                         in.set(1, reduce_to(db, sb));
                       }
                     });
}

}  // namespace lra
