// Sparse Transformer, fixed pattern (attention/src/sparse.cpp): own block + gathered summary
// columns on the block-sparse kernel.
#include "../../attention/src/patterns.hpp"
#include "attention_checks.hpp"

using namespace lra;

TEST_CASE("sparse: the kernel layout visits exactly the fixed pattern, causal or not") {
  for (int64_t n : {1, 9, 23, 64, 131})
    for (auto [block, summary, tile] :
         {std::tuple{5, 2, 3}, {5, 0, 4}, {7, 7, 5}, {50, 10, 64}, {4, 1, 2}})
      for (bool causal : {false, true}) {
        attn::pattern::Fixed pat{block, summary, causal, tile};
        std::string err = attn::bsa::check_layout(
            *pat.layout(n), 1,
            [&](int64_t, int64_t, int64_t i, int64_t j) { return pat.allowed(i, j); });
        CHECK_MESSAGE(err.empty(), "n=" << n << " block=" << block << " summary=" << summary
                                        << " causal=" << causal << ": " << err);
      }
}

TEST_CASE("sparse: fast path equals the dense face, padding included") {
  for (const char* causal : {"false", "true"}) {
    auto m = attn::make_mechanism(
        "sparse", test::small_options(32, {{"block", "5"}, {"summary", "2"}, {"causal", causal}}));
    CHECK(test::fast_vs_dense(*m, 23, test::lengths_of({23, 12})) < 1e-5f);
    CHECK(test::fast_vs_dense(*m, 23, test::lengths_of({4, 19}), 4, 2.0f) < 1e-5f);
  }
  auto d = attn::make_mechanism("sparse", test::small_options(256));  // LRA's l = 50, c = 10
  CHECK(test::fast_vs_dense(*d, 230, test::lengths_of({230, 101})) < 1e-5f);
}

TEST_CASE("sparse: gradients match finite differences") {
  // Summary tiles of 64 gather positions from several blocks: block 3, summary 1 over 11
  // positions exercises the gathered tile (and its scattered dK, dV) and the own-block mask.
  auto m =
      attn::make_mechanism("sparse", test::small_options(32, {{"block", "3"}, {"summary", "1"}}));
  auto r = test::mixer_gradcheck(*m, 11, test::lengths_of({11, 7}));
  CHECK_MESSAGE(r.ok, r.report);
  auto c = attn::make_mechanism(
      "sparse", test::small_options(32, {{"block", "3"}, {"summary", "1"}, {"causal", "true"}}));
  auto rc = test::mixer_gradcheck(*c, 8, test::lengths_of({8, 6}));
  CHECK_MESSAGE(rc.ok, rc.report);
}

TEST_CASE("sparse: the padded tail does not change valid outputs") {
  auto m =
      attn::make_mechanism("sparse", test::small_options(32, {{"block", "4"}, {"summary", "1"}}));
  CHECK(test::padding_leak(*m, 14, test::lengths_of({14, 6})) == 0.0f);
}

TEST_CASE("sparse: peak memory grows linearly in N") {
  size_t a = test::peak_bytes_fwd_bwd("sparse", 256), b = test::peak_bytes_fwd_bwd("sparse", 1024);
  double ratio = double(b) / double(a);
  MESSAGE("sparse peak bytes N=256: " << a << ", N=1024: " << b << ", ratio " << ratio);
  CHECK(ratio < 8.0);
}

TEST_CASE("sparse: a key mask (mask_zero_tokens) equals its dense face, gradients checked") {
  // Hidden keys among the own blocks and the gathered summary columns.
  for (const char* causal : {"false", "true"}) {
    auto m = attn::make_mechanism(
        "sparse", test::small_options(32, {{"block", "5"}, {"summary", "2"}, {"causal", causal}}));
    Tensor km = test::random_key_mask(2, 23, 1, 0.4f, 0, 3);
    CHECK(test::fast_vs_dense(*m, 23, test::lengths_of({23, 12}), 3, 1.0f, km) < 1e-5f);
    CHECK(test::key_mask_effect(*m, 23, test::lengths_of({23, 12}), km) > 1e-3f);
  }
  auto m =
      attn::make_mechanism("sparse", test::small_options(32, {{"block", "3"}, {"summary", "1"}}));
  auto r = test::mixer_gradcheck(*m, 11, test::lengths_of({11, 7}), test::kModuleCheck,
                                 test::random_key_mask(2, 11, 2, 0.4f));
  CHECK_MESSAGE(r.ok, r.report);
}
