// The attention core alone, fast path vs dense face:
// lra/include/lra/lra/measure/bench_attention.hpp.
#include "lra/lra/measure/bench_attention.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>

#include "lra/attention/registry.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/allocator.hpp"
#include "lra/core/rng.hpp"

namespace lra::bench {
namespace {

struct Measure {
  double ms = 0;
  size_t peak = 0;
};

template <typename Fn>
Measure measure(Fn&& run, int reps) {
  run();  // warm the allocator's cache
  std::vector<double> times;
  size_t peak = 0;
  for (int r = 0; r < reps; ++r) {
    reset_peak_memory();
    const size_t base = memory_stats().live_bytes;
    const auto t0 = std::chrono::steady_clock::now();
    run();
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    peak = std::max(peak, memory_stats().peak_bytes - base);
  }
  std::sort(times.begin(), times.end());
  return {times[times.size() / 2], peak};
}

Tensor random_heads(int64_t n, int64_t d, uint64_t seed) {
  Tensor t = Tensor::empty({1, 1, n, d});
  fill_normal(t, rng_key(seed, {rng_tag("bench_attention")}), 0.0f, 1.0f);
  return t;
}

// (1, 1, N, N) additive bias: 0 where the dense face lets query i see key j, -inf elsewhere.
Tensor log_mask(const Tensor& weights) {
  Tensor bias = Tensor::empty(weights.shape());
  const float* w = weights.data<float>();
  float* b = bias.data<float>();
  for (int64_t i = 0; i < weights.numel(); ++i) b[i] = w[i] > 0.0f ? 0.0f : -INFINITY;
  return bias;
}

bool masked_softmax_family(const std::string& m) {
  static const std::set<std::string> family = {"transformer", "local", "sparse", "longformer",
                                               "bigbird"};
  return family.count(m) > 0;
}

}  // namespace

std::vector<CoreRow> bench_attention_core(const CoreOptions& opt) {
  std::vector<CoreRow> rows;
  const int64_t d = opt.head_dim;
  for (const std::string& name : opt.models)
    for (int64_t n : opt.lengths) {
      attn::MechanismOptions o;
      o.dim = d, o.heads = 1, o.qkv_dim = d, o.max_len = n, o.init_key = 1;
      if (auto it = opt.params.find(name); it != opt.params.end()) o.params = it->second;
      auto mech = attn::make_mechanism(name, o);
      const nn::ForwardContext ctx{true, 1, 1};
      const Tensor lengths = Tensor::from(std::vector<int32_t>{int32_t(n)}, {1});
      const Tensor q0 = random_heads(n, d, 1), k0 = random_heads(n, d, 2);
      const Tensor v0 = random_heads(n, d, 3), g = random_heads(n, d, 4);
      CoreRow row{name, n};
      const Measure fast = measure(
          [&] {
            Var q = Var::param(q0), k = Var::param(k0), v = Var::param(v0);
            mech->attend(q, k, v, lengths, ctx).backward(g);
          },
          opt.reps);
      row.fast_ms = fast.ms, row.fast_peak = fast.peak;
      const Measure dense_fwd = measure(
          [&] {
            NoGradGuard no_grad;
            Tensor w = mech->dense_weights(q0, k0, lengths, ctx);
            (void)matmul(Var(w), Var(v0));
          },
          opt.reps);
      row.dense_fwd_ms = dense_fwd.ms, row.dense_fwd_peak = dense_fwd.peak;
      if (masked_softmax_family(name)) {
        const Tensor bias = log_mask(mech->dense_weights(q0, k0, lengths, ctx));
        const float scale = 1.0f / std::sqrt(float(d));
        const Measure train = measure(
            [&] {
              Var q = Var::param(q0), k = Var::param(k0), v = Var::param(v0);
              Var s = add(matmul(q, k, false, true), Var(bias));
              matmul(softmax(s, lengths, scale), v).backward(g);
            },
            opt.reps);
        row.dense_train_ms = train.ms, row.dense_train_peak = train.peak;
      }
      rows.push_back(row);
    }
  return rows;
}

std::string core_markdown(const std::vector<CoreRow>& rows) {
  auto mib = [](size_t b) { return double(b) / double(1 << 20); };
  std::string out =
      "| mechanism | N | fast fwd+bwd ms | fast peak MiB | dense face fwd ms | dense face fwd "
      "peak MiB | masked dense fwd+bwd ms | masked dense peak MiB |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|\n";
  char line[512];
  for (const CoreRow& r : rows) {
    std::snprintf(line, sizeof line, "| %s | %lld | %.1f | %.1f | %.1f | %.1f | ", r.model.c_str(),
                  (long long)r.n, r.fast_ms, mib(r.fast_peak), r.dense_fwd_ms,
                  mib(r.dense_fwd_peak));
    out += line;
    if (r.dense_train_ms >= 0) {
      std::snprintf(line, sizeof line, "%.1f | %.1f |\n", r.dense_train_ms,
                    mib(r.dense_train_peak));
      out += line;
    } else {
      out += "- | - |\n";
    }
  }
  return out;
}

}  // namespace lra::bench
