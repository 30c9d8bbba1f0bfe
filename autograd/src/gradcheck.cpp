#include "lra/autograd/gradcheck.hpp"

#include <cmath>
#include <sstream>

#include "lra/core/rng.hpp"

namespace lra {
namespace {

// L = sum(w * out) in double, with w a fixed random projection of out's shape.
double project(const Tensor& out, const std::vector<float>& w) {
  std::vector<float> v = out.to_floats();
  double acc = 0.0;
  for (size_t i = 0; i < v.size(); ++i) acc += double(v[i]) * double(w[i]);
  return acc;
}

// Element k of a tensor in row-major order, through its strides.
float* element(Tensor& t, int64_t k) {
  int64_t off = 0;
  for (int d = t.dim() - 1; d >= 0; --d) {
    off += (k % t.shape()[d]) * t.strides()[d];
    k /= t.shape()[d];
  }
  return t.data<float>() + off;
}

}  // namespace

GradcheckResult gradcheck(const std::function<Var(const std::vector<Var>&)>& fn,
                          const std::vector<Tensor>& inputs, GradcheckOptions opt) {
  std::vector<Var> vars;
  for (const Tensor& t : inputs) vars.push_back(Var::param(t));
  Var out = fn(vars);
  Tensor w_t = Tensor::empty(out.shape());
  fill_normal(w_t, rng_key(opt.seed, {rng_tag("gradcheck")}), 0.0f, 1.0f);
  std::vector<float> w = w_t.to_floats();
  out.backward(w_t);

  GradcheckResult res;
  std::ostringstream report;
  int shown = 0;
  NoGradGuard no_grad;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].dtype() != DType::F32) continue;
    Tensor x = vars[i].data();  // perturbed in place (shares storage with the caller's input)
    std::vector<float> analytic = vars[i].grad().defined()
                                      ? vars[i].grad().to_floats()
                                      : std::vector<float>(size_t(x.numel()), 0.0f);
    for (int64_t k = 0; k < x.numel(); ++k) {
      float* p = element(x, k);
      float saved = *p;
      *p = saved + opt.eps;
      double plus = project(fn(vars).data(), w);
      *p = saved - opt.eps;
      double minus = project(fn(vars).data(), w);
      *p = saved;
      float numeric = float((plus - minus) / (2.0 * opt.eps));
      float err = std::fabs(analytic[k] - numeric);
      res.max_abs_error = std::max(res.max_abs_error, err);
      if (err > opt.atol + opt.rtol * std::fabs(numeric)) {
        res.ok = false;
        if (shown++ < 5)
          report << "input " << i << " element " << k << ": analytic " << analytic[k]
                 << " numeric " << numeric << "\n";
      }
    }
  }
  res.report = report.str();
  return res;
}

}  // namespace lra
