// Indexing ops. Each gathers in forward and scatter-adds in backward (repeated indices
// accumulate); they save only the indices and the input's shape, never the input.
//
//   embedding     out[i, :] = table[ids[i], :]       dtable[ids[i], :] += g[i, :]
//   index_select  out = x[..., index, ...]           dx[..., index, ...] += g
//   gather_rows   out[b, m] = x[b, idx[b, m]]        dx[b, idx[b, m]] += g[b, m]
//   cumsum        y = cumsum(x)                      dx = cumsum(g) in the other direction
#include "lra/autograd/ops.hpp"

namespace lra {

Var embedding(const Var& table, const Tensor& ids) {
  Tensor out = kern::embedding(table.data(), ids);
  return make_result(out, "embedding", {table},
                     [ids, shape = table.shape()](const Tensor& g, InputGrads& in) {
                       if (!in.needs(0)) return;
                       Tensor dt = Tensor::zeros(shape);  // (V, D)
                       kern::embedding_backward_(dt, ids, g);
                       in.set(0, dt);
                     });
}

Var index_select(const Var& x, int axis, const Tensor& index) {
  Tensor out = kern::index_select(x.data(), axis, index);
  return make_result(out, "index_select", {x},
                     [axis, index, shape = x.shape()](const Tensor& g, InputGrads& in) {
                       if (!in.needs(0)) return;
                       Tensor dx = Tensor::zeros(shape);
                       kern::index_add_(dx, axis, index, g);
                       in.set(0, dx);
                     });
}

Var gather_rows(const Var& x, const Tensor& idx) {
  Tensor out = kern::gather_rows(x.data(), idx);
  return make_result(out, "gather_rows", {x},
                     [idx, shape = x.shape()](const Tensor& g, InputGrads& in) {
                       if (!in.needs(0)) return;
                       Tensor dx = Tensor::zeros(shape);  // (B, N, D)
                       kern::scatter_add_rows_(dx, idx, g);
                       in.set(0, dx);
                     });
}

Var cumsum(const Var& x, int axis, bool reverse) {
  Tensor out = kern::cumsum(x.data(), axis, reverse);
  return make_result(out, "cumsum", {x}, [axis, reverse](const Tensor& g, InputGrads& in) {
    if (in.needs(0)) in.set(0, kern::cumsum(g, axis, !reverse));
  });
}

}  // namespace lra
