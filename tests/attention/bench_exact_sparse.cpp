// Manual benchmark (skipped by default) of the exact and structured-sparse mechanisms:
// forward + backward of the attention core at batch 1, one head, d = 64, fast path vs the
// dense face computed as masked N x N attention with autograd (its weights are
// dense_weights(q, k), so its output is dense_weights @ v). Run:
//   test_attention -tc='bench: *' --no-skip
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <vector>

#include "../../attention/src/patterns.hpp"
#include "attention_checks.hpp"

using namespace lra;

namespace {

struct Measure {
  double ms = 0;      // median wall-clock
  double cpu_ms = 0;  // median process CPU time (all threads): robust to a shared machine
  size_t peak = 0;
};

double cpu_now_ms() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) * 1e-6;
}

template <typename Fn>
Measure measure(Fn&& run, int reps) {
  run();  // warm the allocator cache
  std::vector<double> times, cpu;
  size_t peak = 0;
  for (int r = 0; r < reps; ++r) {
    reset_peak_memory();
    const size_t base = memory_stats().live_bytes;
    auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_now_ms();
    run();
    cpu.push_back(cpu_now_ms() - c0);
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    peak = std::max(peak, memory_stats().peak_bytes - base);
  }
  std::sort(times.begin(), times.end());
  std::sort(cpu.begin(), cpu.end());
  return {times[times.size() / 2], cpu[cpu.size() / 2], peak};
}

// (1, 1, N, N) additive bias: 0 where the mechanism lets query i see key j, -inf elsewhere.
Tensor pattern_bias(const std::string& name, int64_t n) {
  Tensor bias = Tensor::zeros({1, 1, n, n});
  float* p = bias.data<float>();
  attn::pattern::Local local;
  attn::pattern::Fixed fixed;
  attn::pattern::Window window;
  attn::pattern::BigBird bigbird;
  bigbird.key = rng_key(1, {rng_tag("bigbird.random_blocks")});  // any fixed graph
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      bool ok = true;
      if (name == "local") ok = local.allowed(i, j);
      if (name == "sparse") ok = fixed.allowed(i, j);
      if (name == "longformer") ok = window.allowed(i, j);
      if (name == "bigbird") ok = bigbird.allowed(0, i, j, n);
      p[i * n + j] = ok ? 0.0f : -INFINITY;
    }
  return bias;
}

}  // namespace

TEST_CASE("bench: exact and structured-sparse attention, fast path vs dense face" *
          doctest::skip()) {
  std::printf("%-12s %5s | %9s %9s %12s | %9s %9s %12s | %s\n", "mechanism", "N", "fast ms",
              "fast cpu", "fast peak B", "dense ms", "dense cpu", "dense peak B", "mixer peak B");
  for (const char* name : {"transformer", "local", "sparse", "longformer", "bigbird"})
    for (int64_t n : {1024, 4096}) {
      attn::MechanismOptions o;
      o.dim = 64, o.heads = 1, o.qkv_dim = 64, o.max_len = n, o.init_key = 1;
      auto m = attn::make_mechanism(name, o);
      nn::ForwardContext ctx{true, 1, 1};
      Tensor lengths = Tensor::from(std::vector<int32_t>{int32_t(n)}, {1});
      Tensor q0 = test::random_tensor({1, 1, n, 64}, 1), k0 = test::random_tensor({1, 1, n, 64}, 2);
      Tensor v0 = test::random_tensor({1, 1, n, 64}, 3), g = test::random_tensor({1, 1, n, 64}, 4);
      const int reps = n <= 1024 ? 7 : 3;
      Measure fast = measure(
          [&] {
            Var q = Var::param(q0), k = Var::param(k0), v = Var::param(v0);
            m->attend(q, k, v, lengths, ctx).backward(g);
          },
          reps);
      Tensor bias = pattern_bias(name, n);
      Measure dense = measure(
          [&] {
            Var q = Var::param(q0), k = Var::param(k0), v = Var::param(v0);
            Var s = matmul(q, k, false, true);
            if (std::string(name) != "transformer") s = add(s, Var(bias));
            matmul(softmax(s, lengths, 0.125f), v).backward(g);
          },
          reps);
      size_t mixer = test::peak_bytes_fwd_bwd(name, n);
      std::printf("%-12s %5lld | %9.1f %9.1f %12zu | %9.1f %9.1f %12zu | %zu\n", name, (long long)n,
                  fast.ms, fast.cpu_ms, fast.peak, dense.ms, dense.cpu_ms, dense.peak, mixer);
      std::fflush(stdout);
    }
}

TEST_CASE("bench: flash tile sizes and attention dropout" * doctest::skip()) {
  for (int64_t n : {1024, 4096})
    for (const char* tile : {"32", "64", "128"})
      for (const char* drop : {"0", "0.1"}) {
        attn::MechanismOptions o;
        o.dim = 64, o.heads = 1, o.qkv_dim = 64, o.max_len = n, o.init_key = 1;
        o.attn_dropout = std::stof(drop);
        o.params = {{"tile", tile}};
        auto m = attn::make_mechanism("transformer", o);
        o.params = {{"kernel", "plain"}};
        auto plain = attn::make_mechanism("transformer", o);
        nn::ForwardContext ctx{true, 1, 1};
        Tensor lengths = Tensor::from(std::vector<int32_t>{int32_t(n)}, {1});
        Tensor q0 = test::random_tensor({1, 1, n, 64}, 1),
               k0 = test::random_tensor({1, 1, n, 64}, 2);
        Tensor v0 = test::random_tensor({1, 1, n, 64}, 3),
               g = test::random_tensor({1, 1, n, 64}, 4);
        const int reps = n <= 1024 ? 7 : 3;
        auto run = [&](attn::MultiHeadAttention& mech) {
          return measure(
              [&] {
                Var q = Var::param(q0), k = Var::param(k0), v = Var::param(v0);
                mech.attend(q, k, v, lengths, ctx).backward(g);
              },
              reps);
        };
        Measure f = run(*m), p = run(*plain);
        std::printf(
            "N=%5lld tile=%4s dropout=%4s | flash %8.1f ms %8.1f cpu %10zu B | plain %8.1f ms "
            "%8.1f cpu %10zu B\n",
            (long long)n, tile, drop, f.ms, f.cpu_ms, f.peak, p.ms, p.cpu_ms, p.peak);
        std::fflush(stdout);
      }
}
