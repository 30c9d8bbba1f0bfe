// Var: a tensor that remembers how it was made (define-by-run reverse-mode autograd).
//
//   Var x = Var::param(Tensor::ones({2, 3}));   // leaf that wants a gradient
//   Var y = sum_all(mul(x, x));                  // each op records a Node
//   y.backward();                                // x.grad() == 2 * x
//
// A Node holds the op's inputs and a backward closure that captures only the tensors the
// derivative needs (never the output Var: no cycles). backward() walks the graph in reverse
// topological order, accumulates gradients into inputs, and releases every node it has
// consumed (and the gradients of non-leaf vars), so a step's activations die with it.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lra/core/tensor.hpp"

namespace lra {

struct Node;

struct VarImpl {
  Tensor data;
  Tensor grad;                 // undefined until something flows back
  std::shared_ptr<Node> node;  // null for leaves
  bool requires_grad = false;
};

class Var {
 public:
  Var() = default;
  explicit Var(Tensor data, bool requires_grad = false);
  static Var param(Tensor data) { return Var(std::move(data), true); }

  bool defined() const { return impl_ != nullptr; }
  const Tensor& data() const { return impl_->data; }
  Tensor& data() { return impl_->data; }
  const Tensor& grad() const { return impl_->grad; }
  Tensor& grad() { return impl_->grad; }
  bool requires_grad() const { return impl_ && impl_->requires_grad; }
  bool is_leaf() const { return !impl_->node; }
  const Dims& shape() const { return impl_->data.shape(); }
  int64_t size(int axis) const { return impl_->data.size(axis); }
  int dim() const { return impl_->data.dim(); }
  float item() const { return impl_->data.item(); }
  void zero_grad() { impl_->grad = Tensor(); }

  // Seeds d(this)/d(this) = 1 (this must hold one element) and runs the graph backwards.
  // retain_graph keeps nodes and intermediate gradients (for tests and double backward).
  void backward(bool retain_graph = false);
  // Same with an explicit upstream gradient of this var's shape.
  void backward(const Tensor& grad_output, bool retain_graph = false);

  // A new leaf that shares the data but not the history.
  Var detach() const { return Var(impl_->data, false); }

  VarImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<VarImpl>& shared() const { return impl_; }

 private:
  std::shared_ptr<VarImpl> impl_;
};

// Input gradients an op's backward writes: grads[i] for inputs[i]. needs(i) tells whether
// input i wants one (so an op can skip work); leave a slot undefined when it gets none.
struct InputGrads {
  std::vector<Tensor> grads;
  std::vector<bool> wanted;
  bool needs(size_t i) const { return wanted[i]; }
  void set(size_t i, Tensor g) { grads[i] = std::move(g); }
};

using BackwardFn = std::function<void(const Tensor& grad_output, InputGrads& out)>;

struct Node {
  const char* op = "";
  std::vector<Var> inputs;
  BackwardFn backward;
  // Storage versions (Tensor::version) of the inputs and of the output when the node was made:
  // backward refuses to run if one changed, i.e. a tensor the op may have saved (any input, or
  // its output) was written in place in between. The output is watched without owning it.
  std::vector<uint64_t> input_versions;
  std::weak_ptr<Storage> out_storage;
  uint64_t out_version = 0;
  // Set by view ops whose backward only re-views its gradient (reshape, permute, transpose,
  // unsqueeze): the var's gradient may then stay in whatever layout it arrives in.
  bool grad_layout_free = false;
};

// Record the result of an op: returns a Var holding `out` with a Node when grad mode is on
// and any input requires a gradient; otherwise a plain leaf (no history, nothing saved).
Var make_result(Tensor out, const char* op, std::vector<Var> inputs, BackwardFn backward);
// Same for a view op whose backward only re-views g: marks its node grad_layout_free.
Var make_view_result(Tensor out, const char* op, const Var& x, BackwardFn backward);

// ---- grad mode ---------------------------------------------------------------------------
bool grad_enabled();
// RAII scope with gradients off (evaluation, inference): ops record nothing.
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};
// RAII scope with gradients on whatever the enclosing mode: for a node's backward that
// rebuilds and differentiates a local graph (recomputation, nn/reversible.hpp). Nested
// backward() calls are safe: traversal state is per call, leaves accumulate as usual.
class EnableGradGuard {
 public:
  EnableGradGuard();
  ~EnableGradGuard();
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace lra
