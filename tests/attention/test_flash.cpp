// The block-sparse online-softmax kernel (attention/src/block_sparse.hpp) with the dense
// layout, i.e. FlashAttention: held to the plain matmul -> softmax -> matmul composition,
// forward and backward, with padding, dropout, uneven tiles and any thread count.
#include <cmath>
#include <vector>

#include "../../attention/src/block_sparse.hpp"
#include "../../attention/src/patterns.hpp"
#include "attention_checks.hpp"
#include "lra/core/threading.hpp"

using namespace lra;

namespace {

float max_abs_diff(const Tensor& a, const Tensor& b) {
  std::vector<float> x = a.to_floats(), y = b.to_floats();
  REQUIRE(x.size() == y.size());
  float worst = 0.0f;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(x[i] - y[i]));
  return worst;
}

// Zeroes rows i >= len_b of a (B, H, N, d) tensor (the flash kernel outputs 0 there).
Tensor zero_padded_rows(const Tensor& t, const std::vector<int32_t>& len) {
  Tensor c = t.contiguous().clone();
  for (int64_t b = 0; b < c.size(0); ++b)
    for (int64_t h = 0; h < c.size(1); ++h)
      for (int64_t i = len[size_t(b)]; i < c.size(2); ++i)
        c.select(0, b).select(0, h).select(0, i).zero_();
  return c;
}

struct Case {
  int64_t B, H, N, d, tile;
  std::vector<int32_t> len;
  int64_t Nk = 0;  // > 0: a rectangular call, N queries x Nk keys, no lengths (len all N)
};

// Flash (block-sparse kernel, dense layout) vs plain autograd attention: outputs and the
// gradients of q, k, v under an upstream gradient that is zero on padded query rows.
void compare_with_plain(const Case& c, float dropout, uint64_t seed) {
  const bool rect = c.Nk > 0;
  const int64_t nk = rect ? c.Nk : c.N;
  Tensor lens = rect ? Tensor() : Tensor::from(std::span<const int32_t>(c.len), {c.B});
  const float scale = 1.0f / std::sqrt(float(c.d));
  Tensor q0 = test::randn({c.B, c.H, c.N, c.d}, seed);
  Tensor k0 = test::randn({c.B, c.H, nk, c.d}, seed + 1);
  Tensor v0 = test::randn({c.B, c.H, nk, c.d}, seed + 2);
  Tensor g = zero_padded_rows(test::randn({c.B, c.H, c.N, c.d}, seed + 3), c.len);
  const uint64_t key = rng_key(seed, {rng_tag("drop")});

  Var q = Var::param(q0), k = Var::param(k0), v = Var::param(v0);
  attn::bsa::Spec spec;
  spec.layouts = {attn::bsa::dense_layout(c.N, c.tile, rect ? c.Nk : -1)};
  spec.scale = scale;
  spec.dropout = dropout;
  spec.dropout_key = key;
  Var o = attn::bsa::attention(q, k, v, lens, spec);
  o.backward(g);

  Var q2 = Var::param(q0), k2 = Var::param(k0), v2 = Var::param(v0);
  Var p = softmax(matmul(q2, k2, false, true), lens, scale);
  p = dropout > 0 ? lra::dropout(p, dropout, key, true) : p;
  Var o2 = matmul(p, v2);
  o2.backward(g);

  CHECK(max_abs_diff(o.data(), zero_padded_rows(o2.data(), c.len)) < 1e-5f);
  CHECK(max_abs_diff(q.grad(), q2.grad()) < 1e-5f);
  CHECK(max_abs_diff(k.grad(), k2.grad()) < 1e-5f);
  CHECK(max_abs_diff(v.grad(), v2.grad()) < 1e-5f);
}

}  // namespace

TEST_CASE("flash: equals plain attention, forward and backward, padding and uneven tiles") {
  // N not a multiple of the tile; one sequence shorter than a tile, one empty; B·H small
  // (backward partial sums, Note [slots]) and large (direct accumulation).
  compare_with_plain({2, 2, 37, 8, 16, {37, 20}}, 0.0f, 1);
  compare_with_plain({1, 1, 50, 16, 8, {43}}, 0.0f, 2);
  compare_with_plain({3, 4, 19, 4, 64, {19, 5, 0}}, 0.0f, 3);
  compare_with_plain({2, 1, 64, 32, 64, {64, 64}}, 0.0f, 4);
}

TEST_CASE("flash: dropout regenerated from its key matches the plain path's dropout") {
  compare_with_plain({2, 2, 33, 8, 16, {33, 21}}, 0.1f, 5);
  compare_with_plain({1, 1, 40, 8, 8, {40}}, 0.5f, 6);
}

TEST_CASE("flash: rectangular calls (N queries x Nk keys) equal plain attention") {
  // Linformer's k projected keys: fewer and more keys than queries, uneven tiles, dropout
  // drawn at the (B, H, N, Nk) weights' flat index.
  compare_with_plain({2, 2, 37, 8, 16, {37, 37}, 21}, 0.0f, 11);
  compare_with_plain({1, 3, 10, 4, 4, {10}, 23}, 0.0f, 12);
  compare_with_plain({3, 1, 70, 16, 64, {70, 70, 70}, 130}, 0.0f, 13);
  compare_with_plain({2, 1, 33, 8, 16, {33, 33}, 40}, 0.2f, 14);
  // lengths and key masks describe square problems only
  Tensor q = test::randn({1, 1, 8, 4}, 1), k = test::randn({1, 1, 5, 4}, 2);
  attn::bsa::Spec spec;
  spec.layouts = {attn::bsa::dense_layout(8, 4, 5)};
  CHECK_THROWS_WITH_AS(attn::bsa::forward(q, k, k, test::lengths_of({8}), spec),
                       doctest::Contains("need as many keys as queries"), ShapeError);
}

TEST_CASE("flash: gradients match finite differences (through the op alone)") {
  Tensor lens = test::lengths_of({9, 6});
  attn::bsa::Spec spec;
  spec.layouts = {attn::bsa::dense_layout(9, 4)};
  spec.scale = 0.7f;
  auto r = gradcheck(
      [&](const std::vector<Var>& in) {
        return attn::bsa::attention(in[0], in[1], in[2], lens, spec);
      },
      {test::randn({2, 1, 9, 3}, 31), test::randn({2, 1, 9, 3}, 32), test::randn({2, 1, 9, 3}, 33)},
      test::kModuleCheck);
  CHECK_MESSAGE(r.ok, r.report);
  spec.dropout = 0.3f;  // a fixed key: the same mask at every evaluation
  spec.dropout_key = 99;
  auto r2 = gradcheck(
      [&](const std::vector<Var>& in) {
        return attn::bsa::attention(in[0], in[1], in[2], lens, spec);
      },
      {test::randn({2, 1, 9, 3}, 34), test::randn({2, 1, 9, 3}, 35), test::randn({2, 1, 9, 3}, 36)},
      test::kModuleCheck);
  CHECK_MESSAGE(r2.ok, r2.report);
}

TEST_CASE("flash: results are bit-identical for any thread count") {
  const int before = num_threads();
  Tensor lens = test::lengths_of({70});
  attn::bsa::Spec spec;
  spec.layouts = {attn::bsa::dense_layout(70, 16)};
  spec.scale = 0.25f;
  spec.dropout = 0.2f;
  spec.dropout_key = 5;
  Tensor q = test::randn({1, 1, 70, 16}, 41), k = test::randn({1, 1, 70, 16}, 42);
  Tensor v = test::randn({1, 1, 70, 16}, 43), g = test::randn({1, 1, 70, 16}, 44);
  std::vector<std::vector<float>> runs;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    auto f = attn::bsa::forward(q, k, v, lens, spec);
    auto gr = attn::bsa::backward(q, k, v, f.o, f.lse, g, lens, spec);
    std::vector<float> all = f.o.to_floats();
    for (const Tensor& t : {gr.dq, gr.dk, gr.dv}) {
      std::vector<float> x = t.to_floats();
      all.insert(all.end(), x.begin(), x.end());
    }
    runs.push_back(all);
  }
  set_num_threads(before);
  CHECK(runs[0] == runs[1]);
}

TEST_CASE("flash: a valid query with no visible key outputs 0, never NaN") {
  attn::bsa::Spec spec;
  auto lay = std::make_shared<attn::bsa::BlockLayout>();
  lay->n = 4;
  lay->tile_q = 2;
  int32_t t0 = lay->add_key_range(0, 2);
  lay->visit(t0, 1);  // rows 0-1: key tile {0, 1}, masked away entirely
  lay->end_row();
  lay->visit(t0);  // rows 2-3: keys 0, 1
  lay->end_row();
  lay->mask_tile = [](int64_t, int, int64_t, int64_t ni, const int32_t*, int64_t nk, float* s,
                      int64_t rs, int64_t cs) {
    for (int64_t x = 0; x < ni; ++x)
      for (int64_t y = 0; y < nk; ++y) s[x * rs + y * cs] = -INFINITY;
  };
  spec.layouts = {lay};
  Var q = Var::param(test::randn({1, 1, 4, 2}, 51));
  Var k = Var::param(test::randn({1, 1, 4, 2}, 52));
  Var v = Var::param(test::randn({1, 1, 4, 2}, 53));
  Var o = attn::bsa::attention(q, k, v, {}, spec);
  sum_all(o).backward();
  for (float x : o.data().to_floats()) CHECK(std::isfinite(x));
  CHECK(o.data().at({0, 0, 0, 0}) == 0.0f);
  CHECK(o.data().at({0, 0, 1, 1}) == 0.0f);
  for (float x : q.grad().to_floats()) CHECK(std::isfinite(x));
}

TEST_CASE("block-sparse layouts: kernel gradients equal masked dense attention") {
  // Every layout family, with B·H >= 8 (one slot: dk, dv written in place, gathered tiles
  // scattered) and B·H = 1 (several slots: compact partial sums).
  attn::pattern::Fixed fixed{4, 1, false, 3};
  attn::pattern::Fixed causal{3, 2, true, 4};
  attn::pattern::Window window{2, 3, true, 4};
  attn::pattern::BigBird bigbird{3, 3, 1, 1, 9};
  const int64_t n = 23;
  struct Family {
    const char* name;
    std::shared_ptr<attn::bsa::BlockLayout> layout;
    attn::bsa::Pattern allowed;
  };
  std::vector<Family> families = {
      {"sparse", fixed.layout(n),
       [&](int64_t, int64_t, int64_t i, int64_t j) { return fixed.allowed(i, j); }},
      {"sparse causal", causal.layout(n),
       [&](int64_t, int64_t, int64_t i, int64_t j) { return causal.allowed(i, j); }},
      {"window+global", window.layout(n),
       [&](int64_t, int64_t, int64_t i, int64_t j) { return window.kernel_allowed(i, j); }},
      {"bigbird", bigbird.layout(n, n),
       [&](int64_t, int64_t, int64_t i, int64_t j) { return bigbird.allowed(0, i, j, n); }}};
  for (const Family& f : families)
    for (int64_t B : {1, 8}) {
      std::vector<int32_t> len(static_cast<size_t>(B), static_cast<int32_t>(n));
      if (B > 1) len[1] = 17;  // padding, within the last tiles
      Tensor lens = Tensor::from(std::span<const int32_t>(len), {B});
      attn::bsa::Spec spec;
      spec.layouts = {f.layout};
      spec.scale = 0.5f;
      Tensor q0 = test::randn({B, 1, n, 4}, 91), k0 = test::randn({B, 1, n, 4}, 92);
      Tensor v0 = test::randn({B, 1, n, 4}, 93);
      Tensor g = zero_padded_rows(test::randn({B, 1, n, 4}, 94), len);
      Var q = Var::param(q0), k = Var::param(k0), v = Var::param(v0);
      Var o = attn::bsa::attention(q, k, v, lens, spec);
      o.backward(g);
      Tensor bias = Tensor::zeros({1, 1, n, n});
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j)
          if (!f.allowed(0, 0, i, j)) bias.data<float>()[i * n + j] = -INFINITY;
      Var q2 = Var::param(q0), k2 = Var::param(k0), v2 = Var::param(v0);
      Var o2 = matmul(softmax(add(matmul(q2, k2, false, true), Var(bias)), lens, 0.5f), v2);
      o2.backward(g);
      INFO(f.name << ", B = " << B);
      CHECK(max_abs_diff(o.data(), zero_padded_rows(o2.data(), len)) < 1e-5f);
      CHECK(max_abs_diff(q.grad(), q2.grad()) < 1e-5f);
      CHECK(max_abs_diff(k.grad(), k2.grad()) < 1e-5f);
      CHECK(max_abs_diff(v.grad(), v2.grad()) < 1e-5f);
    }
}

TEST_CASE("flash: a key mask hides keys from every query, forward and backward") {
  // Masked columns inside and across tiles, padding, and an entry whose keys are all hidden
  // (its rows output 0, never NaN).
  const int64_t B = 3, H = 2, n = 11, d = 4;
  std::vector<int32_t> len = {11, 7, 5};
  std::vector<int32_t> mask(size_t(B * n), 1);
  for (int64_t j : {0, 3, 4, 9}) mask[size_t(j)] = 0;
  for (int64_t j : {1, 2, 6}) mask[size_t(n + j)] = 0;
  for (int64_t j = 0; j < n; ++j) mask[size_t(2 * n + j)] = 0;
  Tensor lens = Tensor::from(std::span<const int32_t>(len), {B});
  attn::bsa::Spec spec;
  spec.layouts = {attn::bsa::dense_layout(n, 4)};
  spec.scale = 0.5f;
  spec.key_mask = Tensor::from(std::span<const int32_t>(mask), {B, n});
  Tensor q0 = test::randn({B, H, n, d}, 61), k0 = test::randn({B, H, n, d}, 62);
  Tensor v0 = test::randn({B, H, n, d}, 63);
  Tensor g = zero_padded_rows(test::randn({B, H, n, d}, 64), len);
  Var q = Var::param(q0), k = Var::param(k0), v = Var::param(v0);
  Var o = attn::bsa::attention(q, k, v, lens, spec);
  o.backward(g);
  // Reference on entries 0, 1: plain attention with a -inf bias on the hidden keys.
  Tensor bias = Tensor::zeros({2, 1, 1, n});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t j = 0; j < n; ++j)
      if (!mask[size_t(b * n + j)]) bias.data<float>()[b * n + j] = -INFINITY;
  auto first2 = [](const Tensor& t) { return t.slice(0, 0, 2).contiguous(); };
  Var q2 = Var::param(first2(q0)), k2 = Var::param(first2(k0)), v2 = Var::param(first2(v0));
  Tensor lens2 = test::lengths_of({11, 7});
  Var o2 = matmul(softmax(add(matmul(q2, k2, false, true), Var(bias)), lens2, 0.5f), v2);
  o2.backward(first2(g));
  const std::vector<int32_t> len2 = {11, 7};
  CHECK(max_abs_diff(first2(o.data()), zero_padded_rows(o2.data(), len2)) < 1e-5f);
  CHECK(max_abs_diff(first2(q.grad()), q2.grad()) < 1e-5f);
  CHECK(max_abs_diff(first2(k.grad()), k2.grad()) < 1e-5f);
  CHECK(max_abs_diff(first2(v.grad()), v2.grad()) < 1e-5f);
  // Hidden keys get no value gradient; the fully hidden entry outputs 0 with zero gradients.
  CHECK(v.grad().at({0, 1, 3, 2}) == 0.0f);
  for (float x : o.data().slice(0, 2, 3).contiguous().to_floats()) CHECK(x == 0.0f);
  for (float x : q.grad().to_floats()) CHECK(std::isfinite(x));
  // Layouts of the visible keys only (what the Transformer runs): the same result.
  attn::bsa::Spec compact = spec;
  compact.layouts.clear();
  for (int64_t b = 0; b < B; ++b)
    compact.layouts.push_back(
        attn::bsa::visible_keys_layout(n, 4, mask.data() + b * n, len[size_t(b)]));
  Var q3 = Var::param(q0), k3 = Var::param(k0), v3 = Var::param(v0);
  Var o3 = attn::bsa::attention(q3, k3, v3, lens, compact);
  o3.backward(g);
  CHECK(max_abs_diff(o.data(), o3.data()) < 1e-6f);
  CHECK(max_abs_diff(q.grad(), q3.grad()) < 1e-6f);
  CHECK(max_abs_diff(k.grad(), k3.grad()) < 1e-6f);
  CHECK(max_abs_diff(v.grad(), v3.grad()) < 1e-6f);
  // A malformed mask is an error naming its expected shape.
  spec.key_mask = Tensor::zeros({B, n - 1}, DType::I32);
  CHECK_THROWS_WITH_AS(attn::bsa::forward(q0, k0, v0, lens, spec),
                       doctest::Contains("key_mask must be contiguous i32 (3, 11)"), ShapeError);
}

TEST_CASE("flash: gradients with a key mask match finite differences") {
  Tensor lens = test::lengths_of({9, 6});
  const std::vector<int32_t> mask = {0, 1, 1, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1};
  attn::bsa::Spec spec;
  spec.layouts = {attn::bsa::dense_layout(9, 4)};
  spec.scale = 0.7f;
  spec.key_mask = Tensor::from(std::span<const int32_t>(mask), {2, 9});
  auto r = gradcheck(
      [&](const std::vector<Var>& in) {
        return attn::bsa::attention(in[0], in[1], in[2], lens, spec);
      },
      {test::randn({2, 1, 9, 3}, 71), test::randn({2, 1, 9, 3}, 72), test::randn({2, 1, 9, 3}, 73)},
      test::kModuleCheck);
  CHECK_MESSAGE(r.ok, r.report);
}
