#include "lra/autograd/var.hpp"

#include <unordered_map>
#include <unordered_set>

#include "lra/autograd/grad_ready.hpp"
#include "lra/core/kernels.hpp"

namespace lra {
namespace {
thread_local bool g_grad_enabled = true;

// Ops whose backward only re-views its gradient (make_view_result), so it may arrive in any
// layout. A leaf's gradient is read by optimisers: it stays contiguous.
bool layout_free(const Node* node) {
  return node && node->grad_layout_free;
}

// Adds g into v's gradient. The first contribution is taken without a copy, and in its own
// layout when v's op only re-views it: flash attention writes dq, dk, dv as (B, N, H, d)
// buffers seen as (B, H, N, d), and split_heads' permute and reshape then give the projection
// its (B, N, H·d) gradient with no copy (before: a contiguous() at each of the two vars).
void accumulate(VarImpl* v, Tensor g) {
  LRA_CHECK(g.shape() == v->data.shape(), ShapeError, "gradient of shape ", g.shape().str(),
            " for a variable of shape ", v->data.shape().str());
  if (!v->grad.defined()) {
    v->grad = g.is_contiguous() || layout_free(v->node.get()) ? std::move(g) : g.contiguous();
  } else {
    // never write shared storage, and add into a contiguous buffer
    if (v->grad.storage().use_count() > 1 || !v->grad.is_contiguous()) v->grad = v->grad.clone();
    kern::axpy_(v->grad, g);
  }
}

// Reverse topological order of the graph under `root` (iterative DFS: graphs can be deep).
std::vector<VarImpl*> topo_order(VarImpl* root) {
  std::vector<VarImpl*> order;
  std::unordered_set<VarImpl*> seen;
  std::vector<std::pair<VarImpl*, size_t>> stack{{root, 0}};
  seen.insert(root);
  while (!stack.empty()) {
    auto& [v, next] = stack.back();
    if (v->node && next < v->node->inputs.size()) {
      VarImpl* in = v->node->inputs[next++].impl();
      if (in && in->requires_grad && seen.insert(in).second) stack.push_back({in, 0});
    } else {
      order.push_back(v);
      stack.pop_back();
    }
  }
  return {order.rbegin(), order.rend()};
}

// Backward of `node` would read what its op saved: refuse if an input or the output was written
// in place since the op ran (the gradient would silently be wrong).
void check_versions(const Node& node) {
  const char* fix =
      "; the gradient would be wrong. Write into a clone() instead, or run backward() before "
      "changing it (e.g. an optimiser step belongs after backward)";
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    if (!node.inputs[i].defined()) continue;
    const uint64_t now = node.inputs[i].data().version();
    LRA_CHECK(now == node.input_versions[i], Error, "tensor saved by ", node.op, " (input ", i,
              ", ", node.inputs[i].data().describe(), ") was modified in place after it was saved",
              " (version ", node.input_versions[i], " -> ", now, ")", fix);
  }
  if (auto out = node.out_storage.lock()) {
    const uint64_t now = out->version.load(std::memory_order_relaxed);
    LRA_CHECK(now == node.out_version, Error, "tensor saved by ", node.op,
              " (its output) was modified in place after it was saved (version ", node.out_version,
              " -> ", now, ")", fix);
  }
}
}  // namespace

Var::Var(Tensor data, bool requires_grad) : impl_(std::make_shared<VarImpl>()) {
  impl_->data = std::move(data);
  impl_->requires_grad = requires_grad;
}

void Var::backward(bool retain_graph) {
  LRA_CHECK(impl_->data.numel() == 1, ShapeError,
            "backward() without a gradient needs a one-element output, got ",
            impl_->data.describe());
  backward(Tensor::ones(impl_->data.shape()), retain_graph);
}

void Var::backward(const Tensor& grad_output, bool retain_graph) {
  LRA_CHECK(impl_->requires_grad, Error,
            "backward() on a value that does not require grad (built under NoGradGuard, or "
            "from inputs that need no gradient)");
  std::vector<VarImpl*> order = topo_order(impl_.get());
  // Own every var until its visit: releasing a consumer's node must not free a var whose
  // gradient is still to be propagated. Each reference is dropped right after the visit.
  std::unordered_map<VarImpl*, std::shared_ptr<VarImpl>> owner;
  for (VarImpl* v : order) {
    if (!v->node) continue;
    v->grad = Tensor();  // a non-leaf gradient left by a retain_graph pass would count twice
    for (const Var& in : v->node->inputs) owner.emplace(in.impl(), in.shared());
  }
  const detail::GradReadyClaim ready;  // the listener of the outermost pass (grad_ready.hpp)
  accumulate(impl_.get(), grad_output);
  for (VarImpl* v : order) {
    auto it = owner.find(v);
    std::shared_ptr<VarImpl> keep = it == owner.end() ? nullptr : std::move(it->second);
    Node* node = v->node.get();
    if (!node) ready.leaf_final(*v);  // its readers have all run: its gradient is final
    if (!node || !v->grad.defined()) continue;
    check_versions(*node);
    InputGrads in;
    in.grads.resize(node->inputs.size());
    in.wanted.resize(node->inputs.size());
    for (size_t i = 0; i < node->inputs.size(); ++i) in.wanted[i] = node->inputs[i].requires_grad();
    node->backward(v->grad, in);
    for (size_t i = 0; i < node->inputs.size(); ++i)
      if (in.wanted[i] && in.grads[i].defined())
        accumulate(node->inputs[i].impl(), std::move(in.grads[i]));
    if (!retain_graph) {
      v->node.reset();     // releases saved tensors and input references
      v->grad = Tensor();  // a non-leaf's gradient is consumed
    }
  }
}

Var make_result(Tensor out, const char* op, std::vector<Var> inputs, BackwardFn backward) {
  bool any = false;
  if (g_grad_enabled)
    for (const Var& v : inputs) any = any || v.requires_grad();
  Var r(std::move(out), any);
  if (any) {
    auto node = std::make_shared<Node>();
    node->op = op;
    node->inputs = std::move(inputs);
    node->backward = std::move(backward);
    for (const Var& in : node->inputs)  // an optional input may be undefined
      node->input_versions.push_back(in.defined() ? in.data().version() : 0);
    node->out_storage = r.data().storage();
    node->out_version = r.data().version();
    r.impl()->node = std::move(node);
  }
  return r;
}

Var make_view_result(Tensor out, const char* op, const Var& x, BackwardFn backward) {
  Var r = make_result(std::move(out), op, {x}, std::move(backward));
  if (r.impl()->node) r.impl()->node->grad_layout_free = true;
  return r;
}

bool grad_enabled() {
  return g_grad_enabled;
}
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) {
  g_grad_enabled = false;
}
NoGradGuard::~NoGradGuard() {
  g_grad_enabled = previous_;
}
EnableGradGuard::EnableGradGuard() : previous_(g_grad_enabled) {
  g_grad_enabled = true;
}
EnableGradGuard::~EnableGradGuard() {
  g_grad_enabled = previous_;
}

}  // namespace lra
