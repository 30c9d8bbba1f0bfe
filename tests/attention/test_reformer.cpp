#include <algorithm>
#include <chrono>
#include <functional>

#include "attention_checks.hpp"
#include "lra/core/threading.hpp"

using namespace lra;

namespace {

// Gradient checks through LSH buckets: a step of 3e-3, since the 1e-2 of kModuleCheck moves a
// projected query across a bucket boundary (the hash is piecewise constant). At this step the
// largest error is 1.42 on the scale of tests/grad_checks.hpp; bound 4 (atol 4e-4, rtol 4e-3).
constexpr GradcheckOptions kHashedCheck{3e-3f, 4e-4f, 4e-3f, 1};

// Full shared-QK softmax attention: keys = q / ‖q‖, logits · scale (0: 1/√d), own position at −5e4
// (a token sees itself only when nothing else is visible), padded keys at weight 0. (B, H, N, d)
// out.
Tensor full_shared_qk(const Tensor& q, const Tensor& v, const Tensor& lengths, float scale = 0.0f,
                      bool self_mask = true) {
  const int64_t n = q.size(2), d = q.size(3);
  Tensor norm =
      kern::unary(kern::Unary::Sqrt, kern::sum(kern::unary(kern::Unary::Square, q), 3, true));
  Tensor khat = kern::binary(kern::Binary::Div, q, norm);
  if (scale == 0.0f) scale = 1.0f / std::sqrt(float(d));
  Tensor s = kern::mul_scalar(kern::matmul(q, khat, false, true), scale);
  for (int64_t b = 0; b < s.size(0) && self_mask; ++b)
    for (int64_t h = 0; h < s.size(1); ++h)
      for (int64_t i = 0; i < n; ++i)
        s.select(0, b).select(0, h).select(0, i).select(0, i).fill_(-5e4f);
  return kern::matmul(kern::softmax(s, lengths), v);
}

float max_valid_diff(const Tensor& a, const Tensor& b, const Tensor& lengths) {
  float worst = 0.0f;
  auto lens = lengths.to_ints();
  for (int64_t bi = 0; bi < a.size(0); ++bi)
    for (int64_t h = 0; h < a.size(1); ++h)
      for (int64_t i = 0; i < lens[size_t(bi)]; ++i)
        for (int64_t d = 0; d < a.size(3); ++d)
          worst = std::max(worst, std::fabs(a.at({bi, h, i, d}) - b.at({bi, h, i, d})));
  return worst;
}

// As test::fast_vs_dense, over every row: padded queries follow the dense face too (a window
// with no valid key spreads uniformly over its padded keys).
float all_rows_fast_vs_dense(attn::MultiHeadAttention& m, int64_t n, const Tensor& lengths) {
  NoGradGuard ng;
  nn::ForwardContext ctx;
  Var x(test::randn({lengths.size(0), n, 16}, 8));
  Var q = m.project_q(x), k = m.project_k(x), v = m.project_v(x);
  Tensor fast = m.attend(q, k, v, lengths, ctx).data();
  Tensor dense = kern::matmul(m.dense_weights(q.data(), k.data(), lengths, ctx), v.data());
  return kern::max_abs(kern::binary(kern::Binary::Sub, fast, dense));
}

}  // namespace

TEST_CASE("reformer: one bucket is full shared-QK attention (self masked, padding masked)") {
  for (const char* hashes : {"1", "3"}) {
    CAPTURE(hashes);
    auto m = attn::make_mechanism(
        "reformer", test::small_options(32, {{"n_buckets", "1"}, {"n_hashes", hashes}}));
    NoGradGuard ng;
    Tensor lengths = test::lengths_of({12, 7});
    Var x(test::randn({2, 12, 16}, 3));
    Var q = m->project_q(x), v = m->project_v(x);
    Tensor fast = m->attend(q, m->project_k(x), v, lengths, nn::ForwardContext{}).data();
    CHECK(max_valid_diff(fast, full_shared_qk(q.data(), v.data(), lengths), lengths) < 1e-5f);
    CHECK(test::fast_vs_dense(*m, 12, lengths) < 1e-5f);
  }
}

TEST_CASE("reformer: the LRA code's choices (logit_scale = √d, no self mask) as options") {
  struct Case {
    std::map<std::string, std::string> params;
    float scale;
    bool self_mask;
  };
  for (const Case& c :
       {Case{{{"logit_scale", "4"}}, 4.0f, true}, Case{{{"self_mask", "false"}}, 0.0f, false},
        Case{{{"logit_scale", "4"}, {"self_mask", "false"}}, 4.0f, false}}) {
    auto params = c.params;
    params["n_buckets"] = "1";
    CAPTURE(c.scale);
    CAPTURE(c.self_mask);
    auto m = attn::make_mechanism("reformer", test::small_options(32, params));
    NoGradGuard ng;
    Tensor lengths = test::lengths_of({12, 7});
    Var x(test::randn({2, 12, 16}, 3));
    Var q = m->project_q(x), v = m->project_v(x);
    Tensor fast = m->attend(q, m->project_k(x), v, lengths, nn::ForwardContext{}).data();
    Tensor want = full_shared_qk(q.data(), v.data(), lengths, c.scale, c.self_mask);
    CHECK(max_valid_diff(fast, want, lengths) < 1e-5f);
    CHECK(max_valid_diff(fast, full_shared_qk(q.data(), v.data(), lengths), lengths) > 1e-3f);
    CHECK(test::fast_vs_dense(*m, 12, lengths) < 1e-5f);
  }
}

TEST_CASE("reformer: fast path equals the dense face of the actual buckets and chunks") {
  const std::vector<std::map<std::string, std::string>> configs = {
      {},                                                           // LRA: 10 buckets
      {{"n_buckets", "4"}},                                         // chunks of 4 (+ wrap)
      {{"n_buckets", "4"}, {"wrap", "false"}},                      // paper look-one-back
      {{"n_buckets", "4"}, {"n_hashes", "3"}},                      // union of 3 rounds
      {{"n_buckets", "4"}, {"n_hashes", "3"}, {"dedup", "false"}},  // counted per round
      {{"bucket_size", "3"}, {"n_hashes", "2"}},                    // c = 3, 6 buckets
  };
  for (const auto& params : configs) {
    std::string label;
    for (const auto& [k, v] : params) label += k + "=" + v + " ";
    CAPTURE(label);
    auto m = attn::make_mechanism("reformer", test::small_options(16, params));  // chunks of L=16
    CHECK(test::fast_vs_dense(*m, 16, test::lengths_of({16, 9})) < 1e-5f);
    CHECK(test::fast_vs_dense(*m, 13, test::lengths_of({13, 1})) < 1e-5f);  // N' > N, len 1
    CHECK(all_rows_fast_vs_dense(*m, 14, test::lengths_of({14, 5})) < 1e-5f);
  }
}

TEST_CASE("reformer: the hash is keyed by (seed, step): fixed within a step, fresh across steps") {
  auto m = attn::make_mechanism("reformer", test::small_options(32, {{"n_buckets", "4"}}));
  NoGradGuard ng;
  Var x(test::randn({1, 16, 16}, 4));
  Tensor lengths = test::lengths_of({16});
  nn::ForwardContext a{false, 1, 5}, b{false, 1, 6};
  Tensor ya = m->forward(x, lengths, a).data(), ya2 = m->forward(x, lengths, a).data();
  Tensor yb = m->forward(x, lengths, b).data();
  CHECK(kern::max_abs(kern::binary(kern::Binary::Sub, ya, ya2)) == 0.0f);
  CHECK(kern::max_abs(kern::binary(kern::Binary::Sub, ya, yb)) > 0.0f);
}

TEST_CASE("reformer: output and gradients are bitwise independent of the thread count") {
  auto m = attn::make_mechanism("reformer",
                                test::small_options(64, {{"n_buckets", "4"}, {"n_hashes", "2"}}));
  nn::ForwardContext ctx{true, 1, 2};
  Tensor x0 = test::randn({2, 40, 16}, 6);
  auto run = [&](int threads) {
    set_num_threads(threads);
    Var x = Var::param(x0.clone());
    Var y = m->forward(x, test::lengths_of({40, 23}), ctx);
    sum_all(square(y)).backward();
    return std::make_pair(y.data().to_floats(), x.grad().to_floats());
  };
  const int before = num_threads();
  auto one = run(1), two = run(2);
  set_num_threads(before);
  CHECK(one.first == two.first);
  CHECK(one.second == two.second);
}

TEST_CASE("reformer: gradients match finite differences") {
  // The hash is piecewise constant in x: the step must not move a vector across a bucket
  // boundary, so the check uses few buckets and a moderate step.
  for (const auto& params : std::vector<std::map<std::string, std::string>>{
           {{"n_buckets", "2"}, {"n_hashes", "2"}},
           {{"n_buckets", "2"}, {"n_hashes", "2"}, {"dedup", "false"}},
           {{"n_buckets", "4"}, {"n_hashes", "2"}},  // windows of 4 of 8 keys
           {{"n_buckets", "4"}, {"wrap", "false"}},
           {{"n_buckets", "2"}, {"logit_scale", "3"}},
           {{"n_buckets", "2"}, {"n_hashes", "2"}, {"self_mask", "false"}},
           {{"n_buckets", "1"}}}) {
    std::string label;
    for (const auto& [k, v] : params) label += k + "=" + v + " ";
    CAPTURE(label);
    auto m = attn::make_mechanism("reformer", test::small_options(8, params));  // chunks of L=8
    auto r = test::mixer_gradcheck(*m, 8, test::lengths_of({8, 5}), kHashedCheck);
    CHECK_MESSAGE(r.ok, r.report);
  }
}

TEST_CASE("reformer: gradients with attention dropout match finite differences") {
  auto o = test::small_options(8, {{"n_buckets", "2"}, {"n_hashes", "2"}});
  o.attn_dropout = 0.2f;
  auto m = attn::make_mechanism("reformer", o);
  nn::ForwardContext ctx{true, 3, 1};
  Tensor x = test::randn({2, 8, 16}, 5, 0.5f);
  Tensor lengths = test::lengths_of({8, 5});
  auto r = gradcheck([&](const std::vector<Var>& in) { return m->forward(in[0], lengths, ctx); },
                     {x}, kHashedCheck);
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("reformer: the padded tail does not change valid outputs") {
  for (const auto& params : std::vector<std::map<std::string, std::string>>{
           {}, {{"n_buckets", "4"}, {"n_hashes", "3"}}, {{"bucket_size", "2"}}}) {
    auto m = attn::make_mechanism("reformer", test::small_options(32, params));
    CHECK(test::padding_leak(*m, 14, test::lengths_of({14, 6})) == 0.0f);
  }
}

TEST_CASE("reformer: peak memory grows linearly in N with a fixed bucket size") {
  auto p1 = test::peak_bytes_fwd_bwd("reformer", 256, {{"bucket_size", "32"}, {"n_hashes", "2"}});
  auto p4 = test::peak_bytes_fwd_bwd("reformer", 1024, {{"bucket_size", "32"}, {"n_hashes", "2"}});
  double ratio = double(p4) / double(p1);
  MESSAGE("reformer peak bytes N=256: ", p1, ", N=1024: ", p4, ", ratio ", ratio);
  CHECK(ratio < 8.0);
}

TEST_CASE("reformer: invalid hyper-parameters are configuration errors") {
  CHECK_THROWS_AS(attn::make_mechanism("reformer", test::small_options(8, {{"n_buckets", "3"}})),
                  ConfigError);
  CHECK_THROWS_AS(attn::make_mechanism("reformer", test::small_options(8, {{"n_hashes", "0"}})),
                  ConfigError);
  CHECK_THROWS_AS(attn::make_mechanism("reformer", test::small_options(8, {{"logit_scale", "-1"}})),
                  ConfigError);
}

TEST_CASE("reformer: a key mask (mask_zero_tokens) equals its dense face, gradients checked") {
  // Hidden keys get no weight in the chunk softmax; entry 0 hides keys 0-8, so some queries
  // see no visible key in any round (output 0). Several rounds, with and without dedup.
  Tensor km = test::random_key_mask(2, 24, 1, 0.4f, 0, 9);
  const Tensor lens = test::lengths_of({24, 15});
  for (auto params : std::vector<std::map<std::string, std::string>>{
           {}, {{"n_hashes", "3"}, {"n_buckets", "4"}}, {{"n_hashes", "2"}, {"dedup", "false"}}}) {
    CAPTURE(params.size());
    auto m = attn::make_mechanism("reformer", test::small_options(24, params));
    CHECK(test::fast_vs_dense(*m, 24, lens, 3, 1.0f, km) < 1e-5f);
    CHECK(test::key_mask_effect(*m, 24, lens, km) > 1e-3f);
    auto g = attn::make_mechanism("reformer", test::small_options(8, params));
    // kHashedCheck as above: another step or other lengths flip a bucket (also unmasked)
    auto r = test::mixer_gradcheck(*g, 8, test::lengths_of({8, 5}), kHashedCheck,
                                   test::random_key_mask(2, 8, 2, 0.5f, 0, 3));
    CHECK_MESSAGE(r.ok, r.report);
  }
}

TEST_CASE("reformer: a query that sees only hidden keys outputs 0, not their mean") {
  // Every key hidden but the last: with one bucket (full shared-QK attention) every query sees
  // key 7 only (the self-mask lets query 7 fall back to itself); hide all and every output is 0.
  NoGradGuard ng;
  auto m = attn::make_mechanism("reformer", test::small_options(8, {{"n_buckets", "1"}}));
  Var x(test::randn({1, 8, 16}, 4));
  Var q = m->project_q(x), v = m->project_v(x);
  nn::ForwardContext ctx;
  ctx.key_mask = Tensor::zeros({1, 8}, DType::I32);
  Tensor o = m->attend(q, q, v, test::lengths_of({8}), ctx).data();
  for (float e : o.to_floats()) CHECK(e == 0.0f);
  ctx.key_mask.data<int32_t>()[7] = 1;
  o = m->attend(q, q, v, test::lengths_of({8}), ctx).data().contiguous();
  Tensor vc = v.data().contiguous();
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t i = 0; i < 8; ++i)
      for (int64_t e = 0; e < 8; ++e)
        CHECK(std::fabs(o.at({0, h, i, e}) - vc.at({0, h, 7, e})) < 1e-5f);
}
