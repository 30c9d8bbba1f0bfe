// Local attention (attention/src/local.cpp): contiguous blocks on the block-sparse kernel.
#include <cmath>

#include "../../attention/src/patterns.hpp"
#include "attention_checks.hpp"

using namespace lra;

TEST_CASE("local: the kernel layout visits exactly the block-diagonal pattern") {
  for (int64_t n : {1, 7, 12, 50, 101, 300, 600})
    for (int64_t block : {1, 4, 5, 50, 129, 150, 256}) {
      attn::pattern::Local pat{block};
      std::string err = attn::bsa::check_layout(
          *pat.layout(n), 1,
          [&](int64_t, int64_t, int64_t i, int64_t j) { return pat.allowed(i, j); });
      CHECK_MESSAGE(err.empty(), "n=" << n << " block=" << block << ": " << err);
    }
}

TEST_CASE("local: fast path equals the dense face, padding included") {
  auto m = attn::make_mechanism("local", test::small_options(32, {{"block", "4"}}));
  CHECK(test::fast_vs_dense(*m, 14, test::lengths_of({14, 7})) < 1e-5f);
  CHECK(test::fast_vs_dense(*m, 14, test::lengths_of({3, 12}), 4, 2.0f) < 1e-5f);
  auto d = attn::make_mechanism("local", test::small_options(64));  // LRA default block 50
  CHECK(test::fast_vs_dense(*d, 60, test::lengths_of({60, 51})) < 1e-5f);
  auto big = attn::make_mechanism("local", test::small_options(512, {{"block", "150"}}));
  CHECK(test::fast_vs_dense(*big, 400, test::lengths_of({400, 290})) < 1e-5f);  // sub-tiled
}

TEST_CASE("local: gradients match finite differences") {
  auto m = attn::make_mechanism("local", test::small_options(32, {{"block", "3"}}));
  auto r = test::mixer_gradcheck(*m, 8, test::lengths_of({8, 5}));
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("local: long blocks (sub-tiled, masked at block edges) keep exact gradients") {
  // Blocks of 150 > 128 are cut into 64-row tiles; the kernel's gradients must equal those of
  // dense attention under the block-diagonal mask.
  const int64_t n = 330;
  attn::pattern::Local pat{150};
  attn::bsa::Spec spec;
  spec.layouts = {pat.layout(n)};
  spec.scale = 0.5f;
  Tensor lens = test::lengths_of({330, 280});
  Tensor q0 = test::randn({2, 1, n, 4}, 1), k0 = test::randn({2, 1, n, 4}, 2);
  Tensor v0 = test::randn({2, 1, n, 4}, 3), g = test::randn({2, 1, n, 4}, 4);
  for (int64_t i = 280; i < n; ++i) g.select(0, 1).select(0, 0).select(0, i).zero_();
  Var q = Var::param(q0), k = Var::param(k0), v = Var::param(v0);
  attn::bsa::attention(q, k, v, lens, spec).backward(g);
  Tensor bias = Tensor::zeros({1, 1, n, n});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      if (!pat.allowed(i, j)) bias.data<float>()[i * n + j] = -INFINITY;
  Var q2 = Var::param(q0), k2 = Var::param(k0), v2 = Var::param(v0);
  matmul(softmax(add(matmul(q2, k2, false, true), Var(bias)), lens, 0.5f), v2).backward(g);
  for (auto [a, b] :
       {std::pair{q.grad(), q2.grad()}, {k.grad(), k2.grad()}, {v.grad(), v2.grad()}}) {
    std::vector<float> x = a.to_floats(), y = b.to_floats();
    float worst = 0.0f;
    for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(x[i] - y[i]));
    CHECK(worst < 1e-5f);
  }
}

TEST_CASE("local: the padded tail does not change valid outputs") {
  auto m = attn::make_mechanism("local", test::small_options(32, {{"block", "4"}}));
  CHECK(test::padding_leak(*m, 10, test::lengths_of({10, 6})) == 0.0f);
}

TEST_CASE("local: peak memory grows linearly in N") {
  size_t a = test::peak_bytes_fwd_bwd("local", 256), b = test::peak_bytes_fwd_bwd("local", 1024);
  double ratio = double(b) / double(a);
  MESSAGE("local peak bytes N=256: " << a << ", N=1024: " << b << ", ratio " << ratio);
  CHECK(ratio < 8.0);
}

TEST_CASE("local: a key mask (mask_zero_tokens) equals its dense face, gradients checked") {
  // Entry 0: keys 0-4 hidden, so block 0 (block 4) has no visible key: its queries output 0.
  auto m = attn::make_mechanism("local", test::small_options(32, {{"block", "4"}}));
  Tensor km = test::random_key_mask(2, 14, 1, 0.4f, 0, 5);
  CHECK(test::fast_vs_dense(*m, 14, test::lengths_of({14, 9}), 3, 1.0f, km) < 1e-5f);
  CHECK(test::key_mask_effect(*m, 14, test::lengths_of({14, 9}), km) > 1e-3f);
  auto g = attn::make_mechanism("local", test::small_options(32, {{"block", "3"}}));
  auto r = test::mixer_gradcheck(*g, 8, test::lengths_of({8, 5}), test::kModuleCheck,
                                 test::random_key_mask(2, 8, 2, 0.4f, 0, 2));
  CHECK_MESSAGE(r.ok, r.report);
}
