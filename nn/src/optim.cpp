// Adam (flax/LRA form with decoupled weight decay), SGD, gradient norm and clipping.
// Update loops are plain element loops over contiguous f32 (auto-vectorised; this file is
// built with -fno-math-errno so sqrt vectorises) split across threads by parallel_for.
#include "lra/nn/optim.hpp"

#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "lra/core/threading.hpp"

namespace lra::nn {
namespace {

constexpr int64_t kGrain = 1 << 14;  // elements per parallel chunk

template <typename Name>
void check_param(const Name& name, const Var& p, const char* who) {
  LRA_CHECK(p.defined(), Error, who, ": parameter '", name, "' is undefined");
  LRA_CHECK(p.data().dtype() == DType::F32 && p.data().is_contiguous(), Error, who, ": parameter '",
            name, "' must be a contiguous f32 tensor, got ", p.data().describe());
}

// The gradient of p as contiguous f32 of p's shape, or undefined. `name` is anything
// streamable (only formatted on error).
template <typename Name>
Tensor grad_of(const Var& p, const Name& name, const char* who) {
  const Tensor& g = p.grad();
  if (!g.defined()) return g;
  LRA_CHECK(g.shape() == p.shape() && g.dtype() == DType::F32, ShapeError, who, ": gradient of '",
            name, "' is ", g.describe(), " for a parameter ", p.data().describe());
  return g.contiguous();
}

// Unique parameters (a Var listed twice counts once).
std::vector<Var> unique_vars(const std::vector<Var>& params) {
  std::set<const VarImpl*> seen;
  std::vector<Var> out;
  for (const Var& p : params)
    if (p.defined() && seen.insert(p.impl()).second) out.push_back(p);
  return out;
}

std::vector<Var> vars_of(const std::vector<std::pair<std::string, Var>>& named) {
  std::vector<Var> out;
  for (const auto& [name, p] : named) out.push_back(p);
  return out;
}

}  // namespace

// ---- Adam ----------------------------------------------------------------------------------

Adam::Adam(std::vector<std::pair<std::string, Var>> params, AdamConfig cfg) : cfg_(cfg) {
  LRA_CHECK(cfg.beta1 >= 0 && cfg.beta1 < 1 && cfg.beta2 >= 0 && cfg.beta2 < 1, ConfigError,
            "Adam: betas must be in [0, 1), got ", cfg.beta1, ", ", cfg.beta2);
  LRA_CHECK(cfg.eps >= 0 && cfg.weight_decay >= 0, ConfigError,
            "Adam: eps and weight_decay must be non-negative");
  std::set<std::string> names;
  std::set<const VarImpl*> vars;
  for (auto& [name, p] : params) {
    check_param(name, p, "Adam");
    LRA_CHECK(names.insert(name).second, Error, "Adam: parameter name '", name, "' appears twice");
    LRA_CHECK(vars.insert(p.impl()).second, Error, "Adam: parameter '", name,
              "' is the same variable as an earlier one (it would be updated twice)");
    slots_.push_back({name, p, Tensor::zeros(p.shape()), Tensor::zeros(p.shape())});
  }
}

void Adam::step(float lr) {
  ++steps_;
  const double t = double(steps_);
  const float b1 = cfg_.beta1, b2 = cfg_.beta2, eps = cfg_.eps, wd = cfg_.weight_decay;
  const float c1 = float(1.0 / (1.0 - std::pow(double(b1), t)));  // 1 / bias correction
  const float c2 = float(1.0 / (1.0 - std::pow(double(b2), t)));
  for (Slot& s : slots_) {
    Tensor g = grad_of(s.param, s.name, "Adam");
    if (!g.defined()) continue;
    s.param.data().bump_version();  // legal after backward; an error before it
    float* p = s.param.data().data<float>();
    float* m = s.m.data<float>();
    float* v = s.v.data<float>();
    const float* gp = g.data<float>();
    parallel_for(g.numel(), kGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        float gi = gp[i];
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float update = (mi * c1) / (std::sqrt(vi * c2) + eps) + wd * p[i];
        p[i] -= lr * update;
      }
    });
  }
}

void Adam::zero_grad() {
  for (Slot& s : slots_) s.param.zero_grad();
}

std::vector<std::pair<std::string, Tensor>> Adam::state() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const Slot& s : slots_) out.emplace_back("m." + s.name, s.m.clone());
  for (const Slot& s : slots_) out.emplace_back("v." + s.name, s.v.clone());
  return out;
}

void Adam::load_state(const std::vector<std::pair<std::string, Tensor>>& s, int64_t steps) {
  std::map<std::string, const Tensor*> given;
  std::ostringstream problems;
  int n = 0;
  auto problem = [&](const std::string& text) {
    problems << "\n  " << text;
    ++n;
  };
  for (const auto& [name, t] : s)
    if (!given.emplace(name, &t).second) problem("'" + name + "' appears twice");
  LRA_CHECK(steps >= 0, CheckpointError, "Adam state: negative step count ", steps);

  std::set<std::string> expected;
  for (const Slot& slot : slots_)
    for (const char* kind : {"m.", "v."}) {
      std::string name = kind + slot.name;
      expected.insert(name);
      auto it = given.find(name);
      if (it == given.end()) {
        problem("missing '" + name + "' (expected f32" + slot.param.shape().str() + ")");
        continue;
      }
      const Tensor& t = *it->second;
      if (!t.defined() || t.dtype() != DType::F32 || !(t.shape() == slot.param.shape()))
        problem("'" + name + "': expected f32" + slot.param.shape().str() + ", found " +
                t.describe());
    }
  for (const auto& [name, t] : given)
    if (!expected.count(name)) problem("unexpected '" + name + "' (no such parameter)");
  LRA_CHECK(n == 0, CheckpointError, "Adam state does not match the model's parameters (", n,
            " problem", n == 1 ? "" : "s", ", nothing loaded):", problems.str());

  for (Slot& slot : slots_) {
    slot.m.copy_(*given.at("m." + slot.name));
    slot.v.copy_(*given.at("v." + slot.name));
  }
  steps_ = steps;
}

// ---- SGD -----------------------------------------------------------------------------------

SGD::SGD(std::vector<Var> params, float momentum)
    : params_(std::move(params)), buf_(params_.size()), momentum_(momentum) {
  LRA_CHECK(momentum >= 0 && momentum < 1, ConfigError, "SGD: momentum must be in [0, 1), got ",
            momentum);
  for (size_t i = 0; i < params_.size(); ++i) check_param(i, params_[i], "SGD");
}

SGD::SGD(const std::vector<std::pair<std::string, Var>>& params, float momentum)
    : SGD(vars_of(params), momentum) {}

void SGD::step(float lr) {
  for (size_t k = 0; k < params_.size(); ++k) {
    Tensor g = grad_of(params_[k], k, "SGD");
    if (!g.defined()) continue;
    params_[k].data().bump_version();
    float* p = params_[k].data().data<float>();
    const float* gp = g.data<float>();
    if (momentum_ == 0.0f) {
      parallel_for(g.numel(), kGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) p[i] -= lr * gp[i];
      });
      continue;
    }
    if (!buf_[k].defined()) buf_[k] = Tensor::zeros(g.shape());
    float* buf = buf_[k].data<float>();
    const float mu = momentum_;
    parallel_for(g.numel(), kGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        buf[i] = mu * buf[i] + gp[i];
        p[i] -= lr * buf[i];
      }
    });
  }
}

void SGD::zero_grad() {
  for (Var& p : params_) p.zero_grad();
}

// ---- gradient norm -------------------------------------------------------------------------

float grad_norm(const std::vector<Var>& params) {
  double total = 0.0;
  for (const Var& p : unique_vars(params)) {
    Tensor g = grad_of(p, "grad_norm", "grad_norm");
    if (!g.defined()) continue;
    const float* gp = g.data<float>();
    int64_t n = g.numel();
    for (int64_t i0 = 0; i0 < n; i0 += 4096) {  // float blocks (vectorised), double total
      int64_t i1 = std::min(n, i0 + 4096);
      float acc = 0.0f;
      for (int64_t i = i0; i < i1; ++i) acc += gp[i] * gp[i];
      total += double(acc);
    }
  }
  return float(std::sqrt(total));
}

float clip_grad_norm(const std::vector<Var>& params, float max_norm) {
  float norm = grad_norm(params);
  if (!(max_norm > 0.0f) || !(norm > max_norm)) return norm;  // NaN norm: leave grads alone
  const float scale = max_norm / norm;
  for (Var p : unique_vars(params)) {
    Tensor& g = p.grad();
    if (!g.defined()) continue;
    // A gradient tensor may be shared (the autograd takes a first contribution without a
    // copy), so scale a private copy unless this Var is its only owner.
    if (!g.is_contiguous() || g.storage().use_count() > 1) g = g.clone();
    g.bump_version();
    float* gp = g.data<float>();
    parallel_for(g.numel(), kGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) gp[i] *= scale;
    });
  }
  return norm;
}

}  // namespace lra::nn
