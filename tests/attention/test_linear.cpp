// Linear Transformer (attention/src/linear.cpp) and the fused ops it is built from
// (attention/src/lowrank_ops.hpp: elu_features, linear_attention).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <vector>

#include "../../attention/src/lowrank_ops.hpp"
#include "attention_checks.hpp"

using namespace lra;

TEST_CASE("linear: fast path equals the dense face, padding included") {
  auto m = attn::make_mechanism("linear", test::small_options(32));
  CHECK(test::fast_vs_dense(*m, 12, test::lengths_of({12, 7})) < 1e-5f);
  CHECK(test::fast_vs_dense(*m, 12, test::lengths_of({3, 12}), 4, 2.0f) < 1e-5f);
}

TEST_CASE("linear: gradients match finite differences") {
  auto m = attn::make_mechanism("linear", test::small_options(32));
  auto r = test::mixer_gradcheck(*m, 6, test::lengths_of({6, 4}));
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("linear: the padded tail does not change valid outputs") {
  auto m = attn::make_mechanism("linear", test::small_options(32));
  CHECK(test::padding_leak(*m, 10, test::lengths_of({10, 6})) == 0.0f);
}

TEST_CASE("linear: peak memory grows linearly in N") {
  size_t a = test::peak_bytes_fwd_bwd("linear", 256), b = test::peak_bytes_fwd_bwd("linear", 1024);
  double ratio = double(b) / double(a);
  MESSAGE("linear peak bytes N=256: " << a << ", N=1024: " << b << ", ratio " << ratio);
  CHECK(ratio < 8.0);
}

TEST_CASE("lowrank ops: elu_features and linear_attention match finite differences") {
  Tensor lens = test::lengths_of({5, 3});
  // Each op alone (no pads: linear_attention requires zero phi_k rows at pads) ...
  auto r1 =
      gradcheck([&](const std::vector<Var>& in) { return attn::ops::elu_features(in[0], lens); },
                {test::randn({2, 2, 5, 3}, 21)}, test::kModuleCheck);
  CHECK_MESSAGE(r1.ok, r1.report);
  auto r2 = gradcheck(
      [&](const std::vector<Var>& in) {
        return attn::ops::linear_attention(in[0], in[1], in[2], {}, 1e-6f,
                                           attn::ops::DenGuard::Add);
      },
      {attn::ops::elu_features(Var(test::randn({2, 2, 5, 4}, 22)), {}).data(),
       attn::ops::elu_features(Var(test::randn({2, 2, 5, 4}, 23)), {}).data(),
       test::randn({2, 2, 5, 3}, 24)},
      test::kModuleCheck);
  CHECK_MESSAGE(r2.ok, r2.report);
  // ... and composed with pads, both normaliser guards.
  for (auto guard : {attn::ops::DenGuard::Add, attn::ops::DenGuard::Lra}) {
    auto r3 = gradcheck(
        [&](const std::vector<Var>& in) {
          return attn::ops::linear_attention(attn::ops::elu_features(in[0], {}),
                                             attn::ops::elu_features(in[1], lens), in[2], lens,
                                             1e-6f, guard);
        },
        {test::randn({2, 2, 5, 4}, 25), test::randn({2, 2, 5, 4}, 26),
         test::randn({2, 2, 5, 3}, 27)},
        test::kModuleCheck);
    CHECK_MESSAGE(r3.ok, r3.report);
  }
}

TEST_CASE("lowrank ops: a sequence with no valid key gives zeros, not NaN") {
  NoGradGuard ng;
  Tensor lens = test::lengths_of({0, 4});
  Var q(test::randn({2, 1, 4, 3}, 31)), k(test::randn({2, 1, 4, 3}, 32));
  Var v(test::randn({2, 1, 4, 3}, 33));
  Tensor o =
      attn::ops::linear_attention(attn::ops::elu_features(q, {}), attn::ops::elu_features(k, lens),
                                  v, lens, 1e-6f, attn::ops::DenGuard::Add)
          .data();
  for (float x : o.select(0, 0).to_floats()) CHECK(x == 0.0f);
  for (float x : o.to_floats()) CHECK(std::isfinite(x));
}

TEST_CASE("linear: a key mask (mask_zero_tokens) equals its dense face, gradients checked") {
  // Hidden keys' phi(k) rows are zeroed: they and their values enter neither KV nor z.
  auto m = attn::make_mechanism("linear", test::small_options(32));
  Tensor km = test::random_key_mask(2, 12, 1, 0.4f, 0, 4);
  CHECK(test::fast_vs_dense(*m, 12, test::lengths_of({12, 7}), 3, 1.0f, km) < 1e-5f);
  CHECK(test::key_mask_effect(*m, 12, test::lengths_of({12, 7}), km) > 1e-3f);
  // The dense face gives hidden keys exactly zero weight.
  Tensor w = test::masked_dense_face(*m, 12, test::lengths_of({12, 7}), km);
  for (int64_t j = 0; j < 4; ++j) CHECK(w.at({0, 1, 5, j}) == 0.0f);
  auto r = test::mixer_gradcheck(*m, 6, test::lengths_of({6, 4}), test::kModuleCheck,
                                 test::random_key_mask(2, 6, 2, 0.4f));
  CHECK_MESSAGE(r.ok, r.report);
}
