// Synthesizer (attention/src/synthesizer.cpp) and its fused op
// (attention/src/lowrank_ops.hpp: biased_softmax).
#include "../../attention/src/lowrank_ops.hpp"
#include "attention_checks.hpp"

using namespace lra;

namespace {
const char* kModes[] = {"random", "random_only", "factorized", "factorized_only"};
}

TEST_CASE("synthesizer: fast path equals the dense face in every mode, padding included") {
  for (const char* mode : kModes) {
    CAPTURE(mode);
    auto m =
        attn::make_mechanism("synthesizer", test::small_options(16, {{"mode", mode}, {"k", "4"}}));
    CHECK(test::fast_vs_dense(*m, 12, test::lengths_of({12, 7})) < 1e-5f);
  }
}

TEST_CASE("synthesizer: random mode is softmax(QK^T/sqrt(d) + R), random_only ignores tokens") {
  NoGradGuard ng;
  Tensor lens = test::lengths_of({6, 6});
  Var x(test::randn({2, 6, 16}, 4));
  auto m = attn::make_mechanism("synthesizer", test::small_options(10));
  Tensor q = m->project_q(x).data(), k = m->project_k(x).data();
  Tensor r = m->named_parameters()[0].second.data();  // R (H, 10, 10), registered first
  REQUIRE(r.shape() == Dims{2, 10, 10});
  Tensor logits = kern::binary(
      kern::Binary::Add, kern::mul_scalar(kern::matmul(q, k, false, true), 1.0f / std::sqrt(8.0f)),
      r.slice(1, 0, 6).slice(2, 0, 6));
  Tensor want = kern::softmax(logits, lens);
  Tensor got = m->dense_weights(q, k, lens, {});
  CHECK(kern::max_abs(kern::binary(kern::Binary::Sub, got, want)) < 1e-6f);

  auto only =
      attn::make_mechanism("synthesizer", test::small_options(10, {{"mode", "random_only"}}));
  Tensor w = only->dense_weights(q, k, lens, {});
  CHECK(kern::max_abs(kern::binary(kern::Binary::Sub, w.select(0, 0), w.select(0, 1))) == 0.0f);
}

TEST_CASE("synthesizer: gradients match finite differences") {
  for (const char* mode : kModes) {
    CAPTURE(mode);
    auto m =
        attn::make_mechanism("synthesizer", test::small_options(8, {{"mode", mode}, {"k", "3"}}));
    auto r = test::mixer_gradcheck(*m, 6, test::lengths_of({6, 4}));
    CHECK_MESSAGE(r.ok, r.report);
  }
}

TEST_CASE("lowrank ops: biased_softmax matches finite differences for q, k and R") {
  Tensor lens = test::lengths_of({5, 3});
  auto r = gradcheck(
      [&](const std::vector<Var>& in) {
        // bias as a strided slice of a bigger table, like R[:, :N, :N]
        Var bias = slice(slice(in[2], 1, 0, 5), 2, 0, 5);
        Var p = attn::ops::biased_softmax(in[0], in[1], bias, lens, 0.5f, 2, 2, 5);
        return matmul(p, in[3]);
      },
      {test::randn({2, 2, 5, 3}, 51), test::randn({2, 2, 5, 3}, 52), test::randn({2, 7, 7}, 53),
       test::randn({2, 2, 5, 3}, 54)},
      test::kModuleCheck);
  CHECK_MESSAGE(r.ok, r.report);
  auto r2 = gradcheck(  // no dot-product term
      [&](const std::vector<Var>& in) {
        return matmul(attn::ops::biased_softmax({}, {}, in[0], lens, 1.0f, 2, 2, 5), in[1]);
      },
      {test::randn({2, 5, 5}, 55), test::randn({2, 2, 5, 3}, 56)}, test::kModuleCheck);
  CHECK_MESSAGE(r2.ok, r2.report);
}

TEST_CASE("synthesizer: the padded tail does not change valid outputs") {
  for (const char* mode : kModes) {
    CAPTURE(mode);
    auto m = attn::make_mechanism("synthesizer", test::small_options(16, {{"mode", mode}}));
    CHECK(test::padding_leak(*m, 10, test::lengths_of({10, 6})) == 0.0f);
  }
}

TEST_CASE("synthesizer: unknown modes are errors that list the valid ones") {
  CHECK_THROWS_WITH_AS(
      attn::make_mechanism("synthesizer", test::small_options(8, {{"mode", "dense"}})),
      doctest::Contains("random_only"), ConfigError);
}

TEST_CASE("synthesizer: quadratic, as the method is (peak bytes reported, not bounded)") {
  size_t a = test::peak_bytes_fwd_bwd("synthesizer", 256);
  size_t b = test::peak_bytes_fwd_bwd("synthesizer", 1024);
  MESSAGE("synthesizer peak bytes N=256: " << a << ", N=1024: " << b << ", ratio "
                                           << double(b) / double(a) << " (quadratic: ~16)");
  CHECK(b > a);
}

TEST_CASE("synthesizer: a key mask (mask_zero_tokens) equals its dense face in every mode") {
  // Hidden keys' columns of the logits are -inf: weight 0; entry 0 hides keys 0-3.
  Tensor km = test::random_key_mask(2, 12, 1, 0.4f, 0, 4);
  for (const char* mode : kModes) {
    CAPTURE(mode);
    auto m =
        attn::make_mechanism("synthesizer", test::small_options(16, {{"mode", mode}, {"k", "4"}}));
    CHECK(test::fast_vs_dense(*m, 12, test::lengths_of({12, 7}), 3, 1.0f, km) < 1e-5f);
    CHECK(test::key_mask_effect(*m, 12, test::lengths_of({12, 7}), km) > 1e-3f);
    Tensor w = test::masked_dense_face(*m, 12, test::lengths_of({12, 7}), km);
    float row = 0.0f;
    for (int64_t j = 0; j < 12; ++j) row += w.at({0, 1, 5, j});
    CHECK(std::fabs(row - 1.0f) < 1e-5f);
    for (int64_t j = 0; j < 4; ++j) CHECK(w.at({0, 1, 5, j}) == 0.0f);
  }
}

TEST_CASE("synthesizer: gradients with a key mask match finite differences") {
  Tensor km = test::random_key_mask(2, 6, 2, 0.4f);
  km.data<int32_t>()[0] = km.data<int32_t>()[1] = 0;
  for (const char* mode : kModes) {
    CAPTURE(mode);
    auto m =
        attn::make_mechanism("synthesizer", test::small_options(8, {{"mode", mode}, {"k", "3"}}));
    auto r = test::mixer_gradcheck(*m, 6, test::lengths_of({6, 4}), test::kModuleCheck, km);
    CHECK_MESSAGE(r.ok, r.report);
  }
}

TEST_CASE("lowrank ops: biased_softmax gives a row with every key hidden weight 0, not NaN") {
  NoGradGuard ng;
  Tensor km = Tensor::zeros({1, 5}, DType::I32);
  Var r(test::randn({2, 5, 5}, 3));
  Tensor p = attn::ops::biased_softmax({}, {}, r, {}, 1.0f, 1, 2, 5, km).data();
  for (float x : p.to_floats()) CHECK(x == 0.0f);
}
