// Local attention (attention/src/local.cpp): contiguous blocks on the block-sparse kernel.
#include "../../attention/src/patterns.hpp"
#include "attention_checks.hpp"

using namespace lra;

TEST_CASE("local: the kernel layout visits exactly the block-diagonal pattern") {
  for (int64_t n : {1, 7, 12, 50, 101})
    for (int64_t block : {1, 4, 5, 50}) {
      attn::pattern::Local pat{block};
      std::string err = attn::bsa::check_layout(
          *pat.layout(n), 1, [&](int64_t, int64_t, int64_t i, int64_t j) { return pat.allowed(i, j); });
      CHECK_MESSAGE(err.empty(), "n=" << n << " block=" << block << ": " << err);
    }
}

TEST_CASE("local: fast path equals the dense face, padding included") {
  auto m = attn::make_mechanism("local", test::small_options(32, {{"block", "4"}}));
  CHECK(test::fast_vs_dense(*m, 14, test::lengths_of({14, 7})) < 1e-5f);
  CHECK(test::fast_vs_dense(*m, 14, test::lengths_of({3, 12}), 4, 2.0f) < 1e-5f);
  auto d = attn::make_mechanism("local", test::small_options(64));  // LRA default block 50
  CHECK(test::fast_vs_dense(*d, 60, test::lengths_of({60, 51})) < 1e-5f);
}

TEST_CASE("local: gradients match finite differences") {
  auto m = attn::make_mechanism("local", test::small_options(32, {{"block", "3"}}));
  auto r = test::mixer_gradcheck(*m, 8, test::lengths_of({8, 5}));
  CHECK_MESSAGE(r.ok, r.report);
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
