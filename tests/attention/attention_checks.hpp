// Shared checks every attention mechanism must pass (tests/attention/test_<mechanism>.cpp):
//   fast path == dense face, gradients by finite differences, padded tail invisible to valid
//   positions, and peak memory growth with N.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "grad_checks.hpp"
#include "lra/attention/registry.hpp"
#include "lra/autograd/gradcheck.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/allocator.hpp"
#include "lra/core/rng.hpp"
#include "test_util.hpp"

namespace lra::test {

inline attn::MechanismOptions small_options(int64_t max_len,
                                            std::map<std::string, std::string> params = {}) {
  attn::MechanismOptions o;
  o.dim = 16;
  o.heads = 2;
  o.qkv_dim = 16;
  o.max_len = max_len;
  o.attn_dropout = 0.0f;
  o.init_key = 7;
  o.params = std::move(params);
  return o;
}

inline Tensor lengths_of(std::initializer_list<int32_t> v) {
  return Tensor::from(std::span<const int32_t>(v.begin(), v.size()), {int64_t(v.size())});
}

// i32 (B, n) key mask (ctx.key_mask): each key hidden with probability `hidden` (seeded), and
// keys [run_begin, run_end) of entry 0 all hidden (a run longer than a block leaves queries with
// no visible key).
inline Tensor random_key_mask(int64_t B, int64_t n, uint64_t seed, float hidden = 0.4f,
                              int64_t run_begin = 0, int64_t run_end = 0) {
  Tensor u = Tensor::empty({B, n});
  fill_uniform(u, rng_key(seed, {rng_tag("key_mask")}), 0.0f, 1.0f);
  Tensor km = Tensor::empty({B, n}, DType::I32);
  for (int64_t i = 0; i < B * n; ++i)
    km.data<int32_t>()[i] = (i >= run_begin && i < run_end) || u.data<float>()[i] < hidden ? 0 : 1;
  return km;
}

// Two runs' results (outputs, then gradients: one vector each, in the same order) agree within
// tol x max(1, the largest |value| of the vector), and no vector of b is all zeros.
inline void check_runs_agree(const std::vector<std::vector<float>>& a,
                             const std::vector<std::vector<float>>& b, float tol = 1e-5f) {
  REQUIRE(a.size() == b.size());
  for (size_t t = 0; t < a.size(); ++t) {
    CAPTURE(t);
    REQUIRE(a[t].size() == b[t].size());
    float worst = 0.0f, largest = 0.0f;
    for (size_t i = 0; i < a[t].size(); ++i) {
      worst = std::max(worst, std::fabs(a[t][i] - b[t][i]));
      largest = std::max(largest, std::fabs(b[t][i]));
    }
    CHECK(largest > 0.0f);
    CHECK(worst <= tol * std::max(1.0f, largest));
  }
}

// Max |y1 - y2| over the outputs (B, n, 16) at positions where compared(b, i).
template <class Where>
float max_output_change(const Tensor& y1, const Tensor& y2, Where compared) {
  float worst = 0.0f;
  for (int64_t bi = 0; bi < y1.size(0); ++bi)
    for (int64_t i = 0; i < y1.size(1); ++i)
      if (compared(bi, i))
        for (int64_t d = 0; d < 16; ++d)
          worst = std::max(worst, std::fabs(y1.at({bi, i, d}) - y2.at({bi, i, d})));
  return worst;
}

// Max change of the valid outputs of forward() when key_mask is applied: a mask that is
// ignored gives 0.
inline float key_mask_effect(attn::MultiHeadAttention& m, int64_t n, const Tensor& lengths,
                             const Tensor& key_mask) {
  NoGradGuard ng;
  nn::ForwardContext plain, masked;
  masked.key_mask = key_mask;
  Var x(randn({lengths.size(0), n, 16}, 13));
  const auto lens = lengths.to_ints();
  return max_output_change(m.forward(x, lengths, plain).data(),
                           m.forward(x, lengths, masked).data(),
                           [&](int64_t bi, int64_t i) { return i < lens[size_t(bi)]; });
}

// The dense face (B, H, n, n) of a random input (seed 8) under key_mask.
inline Tensor masked_dense_face(attn::MultiHeadAttention& m, int64_t n, const Tensor& lengths,
                                const Tensor& key_mask) {
  NoGradGuard ng;
  nn::ForwardContext ctx;
  ctx.key_mask = key_mask;
  Var x(randn({lengths.size(0), n, 16}, 8));
  return m.dense_weights(m.project_q(x).data(), m.project_k(x).data(), lengths, ctx);
}

// Largest |fast - dense| over valid query rows, for projected heads of a random input;
// key_mask (B, n) i32 as ctx.key_mask when given.
inline float fast_vs_dense(attn::MultiHeadAttention& m, int64_t n, const Tensor& lengths,
                           uint64_t seed = 3, float scale = 1.0f, const Tensor& key_mask = {}) {
  NoGradGuard ng;
  nn::ForwardContext ctx;  // eval
  ctx.key_mask = key_mask;
  int64_t b = lengths.size(0);
  Var x(randn({b, n, 16}, seed, scale));
  Var q = m.project_q(x), k = m.project_k(x), v = m.project_v(x);
  Tensor fast = m.attend(q, k, v, lengths, ctx).data().contiguous();
  Tensor w = m.dense_weights(q.data(), k.data(), lengths, ctx);
  Tensor dense = kern::matmul(w, v.data());
  float worst = 0.0f;
  for (int64_t bi = 0; bi < b; ++bi)
    for (int64_t h = 0; h < fast.size(1); ++h)
      for (int64_t i = 0; i < lengths.to_ints()[size_t(bi)]; ++i)
        for (int64_t d = 0; d < fast.size(3); ++d)
          worst = std::max(worst, std::fabs(fast.at({bi, h, i, d}) - dense.at({bi, h, i, d})));
  return worst;
}

// Finite-difference check of d(out)/d(x) through the whole mixer (projections included).
inline GradcheckResult mixer_gradcheck(attn::MultiHeadAttention& m, int64_t n,
                                       const Tensor& lengths, GradcheckOptions opt = kModuleCheck,
                                       const Tensor& key_mask = {}) {
  nn::ForwardContext ctx;
  ctx.key_mask = key_mask;
  int64_t b = lengths.size(0);
  Tensor x = randn({b, n, 16}, 5, 0.5f);
  return gradcheck([&](const std::vector<Var>& in) { return m.forward(in[0], lengths, ctx); }, {x},
                   opt);
}

// Max change of the outputs at positions where compared(b, i) when the inputs at positions
// where replaced(b, i) get other values (noise x3).
template <class Replaced, class Compared>
float replaced_input_change(attn::MultiHeadAttention& m, int64_t n, const Tensor& lengths,
                            const nn::ForwardContext& ctx, Replaced replaced, Compared compared) {
  NoGradGuard ng;
  const int64_t b = lengths.size(0);
  Tensor x1 = randn({b, n, 16}, 11);
  Tensor x2 = x1.clone();
  Tensor noise = randn({b, n, 16}, 12, 3.0f);
  for (int64_t bi = 0; bi < b; ++bi)
    for (int64_t i = 0; i < n; ++i)
      if (replaced(bi, i)) x2.select(0, bi).select(0, i).copy_(noise.select(0, bi).select(0, i));
  return max_output_change(m.forward(Var(x1), lengths, ctx).data(),
                           m.forward(Var(x2), lengths, ctx).data(), compared);
}

// Max change of valid outputs when the padded tail of the input is replaced by other values.
inline float padding_leak(attn::MultiHeadAttention& m, int64_t n, const Tensor& lengths) {
  const auto lens = lengths.to_ints();
  auto valid = [&](int64_t bi, int64_t i) { return i < lens[size_t(bi)]; };
  return replaced_input_change(
      m, n, lengths, nn::ForwardContext{}, [&](int64_t bi, int64_t i) { return !valid(bi, i); },
      valid);
}

// Max change of the outputs at visible positions when the inputs at positions the key mask
// hides are replaced by other values: hidden keys must influence no other query.
inline float hidden_key_leak(attn::MultiHeadAttention& m, int64_t n, const Tensor& lengths,
                             const Tensor& key_mask) {
  nn::ForwardContext ctx;
  ctx.key_mask = key_mask;
  const auto lens = lengths.to_ints();
  auto hidden = [&](int64_t bi, int64_t i) { return key_mask.data<int32_t>()[bi * n + i] == 0; };
  return replaced_input_change(m, n, lengths, ctx, hidden, [&](int64_t bi, int64_t i) {
    return i < lens[size_t(bi)] && !hidden(bi, i);
  });
}

// Peak allocator bytes of one forward + backward at length n (batch 1, d = 64 per head).
inline size_t peak_bytes_fwd_bwd(const std::string& name, int64_t n,
                                 std::map<std::string, std::string> params = {}) {
  attn::MechanismOptions o;
  o.dim = 64;
  o.heads = 1;
  o.qkv_dim = 64;
  o.max_len = n;
  o.init_key = 1;
  o.params = std::move(params);
  auto m = attn::make_mechanism(name, o);
  Var x = Var::param(randn({1, n, 64}, 2));
  Tensor lengths = Tensor::from(std::vector<int32_t>{int32_t(n)}, {1});
  nn::ForwardContext ctx{true, 1, 1};
  reset_peak_memory();
  size_t base = memory_stats().live_bytes;
  Var y = m->forward(x, lengths, ctx);
  sum_all(y).backward();
  return memory_stats().peak_bytes - base;
}

}  // namespace lra::test
