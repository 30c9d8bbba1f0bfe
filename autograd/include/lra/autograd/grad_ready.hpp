// Gradient-ready hook: backward() tells a listener when a leaf's gradient is final, so a caller
// can use it while the backward of the rest of the graph still runs (data-parallel training
// starts summing a layer's gradients over the ranks while the layers below are differentiated).
//
//   GradReadyScope scope([&](VarImpl& leaf) { send(leaf.grad); });
//   loss.backward();   // calls the listener once per leaf the graph reaches
//
// backward() visits the graph in reverse topological order, so when it reaches a leaf every
// node that reads the leaf has run: nothing in this pass adds to its gradient any more (the
// gradient may be undefined if nothing flowed back). Leaves the graph does not reach are not
// reported. The scope is per thread and serves the outermost backward() only: a nested pass
// (a node whose backward differentiates a local graph, nn/reversible.hpp) sees no listener,
// since its leaves may still receive gradient from the outer pass.
#pragma once
#include <functional>
#include <vector>

#include "lra/autograd/var.hpp"

namespace lra {

using GradReadyFn = std::function<void(VarImpl& leaf)>;

// Installs `fn` for the backward() calls of this thread until the scope ends (scopes nest: the
// previous listener comes back; an empty `fn` listens to nothing).
class GradReadyScope {
 public:
  explicit GradReadyScope(GradReadyFn fn);
  ~GradReadyScope();
  GradReadyScope(const GradReadyScope&) = delete;
  GradReadyScope& operator=(const GradReadyScope&) = delete;

 private:
  GradReadyFn fn_;
  const GradReadyFn* previous_;
};

// The leaves backward() from `root` reports (every var needing a gradient that the graph
// under `root` reaches), in no particular order. A leaf not among them keeps its gradient
// through that backward(), as long as no node's backward writes a gradient to a var that is
// not one of its inputs (nn/reversible.hpp lists its parameters as inputs for this).
std::vector<VarImpl*> graph_leaves(const Var& root);

namespace detail {
// Held by backward() for one pass: takes this thread's listener (nested passes then see none)
// and gives it back when the pass ends, also on an exception.
class GradReadyClaim {
 public:
  GradReadyClaim();
  ~GradReadyClaim();
  GradReadyClaim(const GradReadyClaim&) = delete;
  GradReadyClaim& operator=(const GradReadyClaim&) = delete;
  void leaf_final(VarImpl& leaf) const {
    if (fn_ && *fn_) (*fn_)(leaf);
  }

 private:
  const GradReadyFn* fn_;
};
}  // namespace detail

}  // namespace lra
