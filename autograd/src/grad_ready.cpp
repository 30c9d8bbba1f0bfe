// The gradient-ready listener of this thread (lra/autograd/grad_ready.hpp).
#include "lra/autograd/grad_ready.hpp"

#include <unordered_set>
#include <utility>

namespace lra {
namespace {
thread_local const GradReadyFn* g_listener = nullptr;
}  // namespace

GradReadyScope::GradReadyScope(GradReadyFn fn) : fn_(std::move(fn)), previous_(g_listener) {
  g_listener = &fn_;
}
GradReadyScope::~GradReadyScope() {
  g_listener = previous_;
}

std::vector<VarImpl*> graph_leaves(const Var& root) {
  std::vector<VarImpl*> leaves;
  if (!root.requires_grad()) return leaves;
  std::unordered_set<VarImpl*> seen{root.impl()};
  std::vector<VarImpl*> stack{root.impl()};
  while (!stack.empty()) {
    VarImpl* v = stack.back();
    stack.pop_back();
    if (!v->node)
      leaves.push_back(v);
    else
      for (const Var& in : v->node->inputs)
        if (in.impl() && in.impl()->requires_grad && seen.insert(in.impl()).second)
          stack.push_back(in.impl());
  }
  return leaves;
}

namespace detail {
GradReadyClaim::GradReadyClaim() : fn_(std::exchange(g_listener, nullptr)) {}
GradReadyClaim::~GradReadyClaim() {
  g_listener = fn_;
}
}  // namespace detail

}  // namespace lra
