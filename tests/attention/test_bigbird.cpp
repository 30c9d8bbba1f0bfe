// BigBird ITC (attention/src/bigbird.cpp): window + global + random blocks on the block-sparse
// kernel, one pattern per head and per sequence length.
#include <set>

#include "../../attention/src/patterns.hpp"
#include "attention_checks.hpp"

using namespace lra;

TEST_CASE("bigbird: the kernel layout visits exactly the pattern, per head and length") {
  for (auto [block, window, random] : {std::tuple{4, 3, 1}, {3, 1, 2}, {64, 3, 3}, {2, 5, 0}})
    for (int64_t n : {1, 10, 33, 130})
      for (int64_t len : {n, n / 2 + 1}) {
        attn::pattern::BigBird pat{block, window, random, 2, 17};
        std::string err = attn::bsa::check_layout(
            *pat.layout(n, len), 2,
            [&](int64_t, int64_t h, int64_t i, int64_t j) { return pat.allowed(h, i, j, len); }, 0,
            len);
        CHECK_MESSAGE(err.empty(),
                      "n=" << n << " len=" << len << " block=" << block << ": " << err);
      }
}

TEST_CASE("bigbird: the random graph is fixed, distinct, outside window and globals") {
  attn::pattern::BigBird pat{64, 3, 3, 4, 123};
  std::set<std::vector<int32_t>> seen;
  for (int64_t h = 0; h < 4; ++h)
    for (int64_t q = 1; q < 15; ++q) {
      auto r = pat.random_blocks(h, q, 16);
      CHECK(r == pat.random_blocks(h, q, 16));  // a counter draw: the same every time
      CHECK(r.size() == 3);
      std::set<int32_t> u(r.begin(), r.end());
      CHECK(u.size() == r.size());
      for (int32_t kb : r) CHECK((kb > 0 && kb < 15 && std::abs(kb - q) > 1));
      seen.insert(r);
    }
  CHECK(seen.size() > 20);  // heads and rows differ
  attn::pattern::BigBird other = pat;
  other.key = 124;  // another layer or seed: another graph
  int same = 0;
  for (int64_t q = 1; q < 15; ++q)
    same += pat.random_blocks(0, q, 16) == other.random_blocks(0, q, 16);
  CHECK(same < 14);
}

TEST_CASE("bigbird: fast path equals the dense face, padding included") {
  auto m =
      attn::make_mechanism("bigbird", test::small_options(64, {{"block", "4"}, {"random", "1"}}));
  CHECK(test::fast_vs_dense(*m, 30, test::lengths_of({30, 17})) < 1e-5f);
  CHECK(test::fast_vs_dense(*m, 30, test::lengths_of({5, 26}), 4, 2.0f) < 1e-5f);
  auto d = attn::make_mechanism("bigbird", test::small_options(700));  // LRA: 64, 3, 3
  CHECK(test::fast_vs_dense(*d, 600, test::lengths_of({600})) < 1e-5f);
}

TEST_CASE("bigbird: a sequence gets the same output whatever it is batched with") {
  auto m =
      attn::make_mechanism("bigbird", test::small_options(64, {{"block", "4"}, {"random", "2"}}));
  NoGradGuard ng;
  nn::ForwardContext ctx;
  Tensor x = test::randn({2, 40, 16}, 81);
  Tensor both = m->forward(Var(x), test::lengths_of({40, 23}), ctx).data();
  Tensor alone =
      m->forward(Var(x.slice(0, 1, 2).slice(1, 0, 23).contiguous()), test::lengths_of({23}), ctx)
          .data();
  float worst = 0.0f;
  for (int64_t i = 0; i < 23; ++i)
    for (int64_t d = 0; d < 16; ++d)
      worst = std::max(worst, std::fabs(both.at({1, i, d}) - alone.at({0, i, d})));
  CHECK(worst < 1e-5f);
}

TEST_CASE("bigbird: gradients match finite differences") {
  auto m =
      attn::make_mechanism("bigbird", test::small_options(32, {{"block", "2"}, {"random", "1"}}));
  auto r = test::mixer_gradcheck(*m, 13, test::lengths_of({13, 8}));
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("bigbird: the padded tail does not change valid outputs") {
  auto m =
      attn::make_mechanism("bigbird", test::small_options(32, {{"block", "3"}, {"random", "1"}}));
  CHECK(test::padding_leak(*m, 20, test::lengths_of({20, 10})) == 0.0f);
}

TEST_CASE("bigbird: peak memory grows linearly in N") {
  size_t a = test::peak_bytes_fwd_bwd("bigbird", 1024),
         b = test::peak_bytes_fwd_bwd("bigbird", 4096);
  double ratio = double(b) / double(a);
  MESSAGE("bigbird peak bytes N=1024: " << a << ", N=4096: " << b << ", ratio " << ratio);
  CHECK(ratio < 8.0);
}

TEST_CASE("bigbird: a key mask (mask_zero_tokens) equals its dense face, gradients checked") {
  auto m =
      attn::make_mechanism("bigbird", test::small_options(64, {{"block", "4"}, {"random", "1"}}));
  Tensor km = test::random_key_mask(2, 30, 1, 0.4f, 4, 8);
  CHECK(test::fast_vs_dense(*m, 30, test::lengths_of({30, 17}), 3, 1.0f, km) < 1e-5f);
  CHECK(test::key_mask_effect(*m, 30, test::lengths_of({30, 17}), km) > 1e-3f);
  auto g =
      attn::make_mechanism("bigbird", test::small_options(32, {{"block", "2"}, {"random", "1"}}));
  auto r = test::mixer_gradcheck(*g, 13, test::lengths_of({13, 8}), test::kModuleCheck,
                                 test::random_key_mask(2, 13, 2, 0.4f));
  CHECK_MESSAGE(r.ok, r.report);
}
