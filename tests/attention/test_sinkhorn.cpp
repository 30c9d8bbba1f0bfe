#include "attention_checks.hpp"

using namespace lra;

TEST_CASE("sinkhorn: fast path equals the dense face, padding included") {
  auto m = attn::make_mechanism("sinkhorn", test::small_options(32, {{"block", "4"}}));
  CHECK(test::fast_vs_dense(*m, 16, test::lengths_of({16, 9})) < 1e-5f);
  CHECK(test::fast_vs_dense(*m, 14, test::lengths_of({14, 3})) < 1e-5f);  // N' > N, one block
  CHECK(test::fast_vs_dense(*m, 12, test::lengths_of({12, 0})) < 1e-5f);  // empty sequence
}

TEST_CASE("sinkhorn: the dense face with one block is block-local attention") {
  // One block: S = [1], the sorted block is the block itself, so the weights are plain softmax
  // attention inside the block (each key counted twice, which cancels).
  auto m = attn::make_mechanism("sinkhorn", test::small_options(32, {{"block", "8"}}));
  NoGradGuard ng;
  Var x(test::randn({1, 8, 16}, 9));
  Tensor lengths = test::lengths_of({6});
  Tensor q = m->project_q(x).data(), k = m->project_k(x).data();
  Tensor w = m->dense_weights(q, k, lengths, nn::ForwardContext{});
  Tensor ref = kern::softmax(kern::matmul(q, k, false, true), lengths, 1.0f / std::sqrt(8.0f));
  float worst = 0.0f;
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t i = 0; i < 6; ++i)
      for (int64_t j = 0; j < 8; ++j)
        worst = std::max(worst, std::fabs(w.at({0, h, i, j}) - ref.at({0, h, i, j})));
  CHECK(worst < 1e-6f);
}

TEST_CASE("sinkhorn: full valid rows of the dense face sum to about one") {
  auto m = attn::make_mechanism("sinkhorn", test::small_options(32, {{"block", "4"}}));
  NoGradGuard ng;
  Var x(test::randn({1, 16, 16}, 9));
  Tensor lengths = test::lengths_of({16});
  Tensor w = m->dense_weights(m->project_q(x).data(), m->project_k(x).data(), lengths,
                              nn::ForwardContext{});
  Tensor rows = kern::sum(w, 3);
  // The last Sinkhorn step normalises columns: rows of S (and so these) sum to 1 only
  // approximately, up to the convergence of the iterations.
  float err = kern::max_abs(kern::add_scalar(rows, -1.0f));
  MESSAGE("max |row sum - 1| = ", err);
  CHECK(err < 0.05f);
}

TEST_CASE("sinkhorn: gradients match finite differences") {
  for (const char* iters : {"0", "5"}) {
    CAPTURE(iters);
    auto m = attn::make_mechanism("sinkhorn",
                                  test::small_options(32, {{"block", "3"}, {"n_iters", iters}}));
    auto r = test::mixer_gradcheck(*m, 8, test::lengths_of({8, 5}));
    CHECK_MESSAGE(r.ok, r.report);
  }
}

TEST_CASE("sinkhorn: the SortNet gets a gradient (LRA's einsum quirk gives it none)") {
  auto m = attn::make_mechanism("sinkhorn", test::small_options(32, {{"block", "4"}}));
  nn::ForwardContext ctx{true, 1, 1};  // training: Gumbel noise on
  Var x = Var::param(test::randn({2, 16, 16}, 5));
  sum_all(square(m->forward(x, test::lengths_of({16, 11}), ctx))).backward();
  bool found = false;
  for (auto& [name, p] : m->named_parameters())
    if (name == "sortnet_weight") {
      found = true;
      REQUIRE(p.grad().defined());
      CHECK(kern::max_abs(p.grad()) > 1e-6f);
    }
  CHECK(found);
}

TEST_CASE("sinkhorn: the padded tail does not change valid outputs") {
  auto m = attn::make_mechanism("sinkhorn", test::small_options(32, {{"block", "4"}}));
  CHECK(test::padding_leak(*m, 14, test::lengths_of({14, 6})) == 0.0f);
  CHECK(test::padding_leak(*m, 14, test::lengths_of({14, 2})) == 0.0f);
}

TEST_CASE("sinkhorn: peak memory grows linearly in N") {
  auto p1 = test::peak_bytes_fwd_bwd("sinkhorn", 256, {{"block", "32"}});
  auto p4 = test::peak_bytes_fwd_bwd("sinkhorn", 1024, {{"block", "32"}});
  double ratio = double(p4) / double(p1);
  MESSAGE("sinkhorn peak bytes N=256: ", p1, ", N=1024: ", p4, ", ratio ", ratio);
  CHECK(ratio < 8.0);
}

TEST_CASE("sinkhorn: a sequence longer than max_len is a configuration error") {
  auto m = attn::make_mechanism("sinkhorn", test::small_options(8, {{"block", "4"}}));
  CHECK_THROWS_AS(test::fast_vs_dense(*m, 12, test::lengths_of({12})), ConfigError);
}

TEST_CASE("sinkhorn: a key mask (mask_zero_tokens) equals its dense face, gradients checked") {
  // Entry 0: block 1 (keys 4-7) all hidden; entry 1 (9 valid) some hidden; entry 2 one block.
  auto m = attn::make_mechanism("sinkhorn", test::small_options(32, {{"block", "4"}}));
  Tensor km = test::random_key_mask(3, 16, 1, 0.4f, 4, 8);
  const Tensor lens = test::lengths_of({16, 9, 3});
  CHECK(test::fast_vs_dense(*m, 16, lens, 3, 1.0f, km) < 1e-5f);
  CHECK(test::key_mask_effect(*m, 16, lens, km) > 1e-3f);
  // Hidden keys are zeroed before the block means and the sorting: they reach no other query.
  CHECK(test::hidden_key_leak(*m, 16, lens, km) < 1e-5f);
  for (const char* iters : {"0", "5"}) {
    CAPTURE(iters);
    auto g = attn::make_mechanism("sinkhorn",
                                  test::small_options(32, {{"block", "3"}, {"n_iters", iters}}));
    auto r = test::mixer_gradcheck(*g, 8, test::lengths_of({8, 5}), test::kModuleCheck,
                                   test::random_key_mask(2, 8, 2, 0.4f));
    CHECK_MESSAGE(r.ok, r.report);
  }
}
