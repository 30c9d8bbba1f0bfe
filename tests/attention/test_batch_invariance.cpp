// Every mechanism: a sequence's outputs do not depend on what it is batched with. A 37-token
// sequence alone in a batch of length 37 must give the same valid outputs as when it shares a
// batch with a 64-token sequence (its tail padded with large noise to N = 64).
#include <cstdio>

#include "attention_checks.hpp"

namespace lra::test {
namespace {

constexpr int64_t kShort = 37, kLong = 64, kMaxLen = 64;

// Max |y_alone - y_batched| over the short sequence's valid outputs. With with_mask, each
// example carries its own key mask (ctx.key_mask): the batch-mate's is a different one.
float batching_change(attn::MultiHeadAttention& m, bool with_mask = false) {
  NoGradGuard ng;
  nn::ForwardContext ctx, ctx_both;  // eval
  Tensor seq = randn({1, kShort, 16}, 21);
  Tensor batch = randn({2, kLong, 16}, 22, 10.0f);  // row 1's tail: noise x10
  batch.select(0, 1).slice(0, 0, kShort).copy_(seq.select(0, 0));
  if (with_mask) {
    ctx.key_mask = random_key_mask(1, kShort, 23);
    ctx_both.key_mask = random_key_mask(2, kLong, 24, 0.7f);
    ctx_both.key_mask.select(0, 1).slice(0, 0, kShort).copy_(ctx.key_mask.select(0, 0));
  }
  Tensor alone = m.forward(Var(seq), lengths_of({int32_t(kShort)}), ctx).data();
  Tensor both =
      m.forward(Var(batch), lengths_of({int32_t(kLong), int32_t(kShort)}), ctx_both).data();

  float worst = 0.0f;
  for (int64_t i = 0; i < kShort; ++i)
    for (int64_t d = 0; d < 16; ++d)
      worst = std::max(worst, std::fabs(alone.at({0, i, d}) - both.at({1, i, d})));
  return worst;
}

TEST_CASE("every mechanism: a sequence's output does not depend on its batch-mates or padding") {
  for (const attn::MechanismInfo& info : attn::mechanisms()) {
    auto m = attn::make_mechanism(info.name, small_options(kMaxLen));
    const float diff = batching_change(*m);
    std::printf("batch invariance %-14s max |diff| = %.3g\n", info.name.c_str(), double(diff));
    CHECK_MESSAGE(diff < 1e-4f, info.name, ": alone vs batched differ by ", diff);
  }
}

TEST_CASE("every mechanism: with key masks, an example's output ignores its batch-mates' masks") {
  for (const attn::MechanismInfo& info : attn::mechanisms()) {
    auto m = attn::make_mechanism(info.name, small_options(kMaxLen));
    const float diff = batching_change(*m, true);
    std::printf("batch invariance, key mask %-14s max |diff| = %.3g\n", info.name.c_str(),
                double(diff));
    CHECK_MESSAGE(diff < 1e-4f, info.name, ": alone vs batched differ by ", diff);
  }
}

TEST_CASE(
    "reformer: chunking comes from max_len, so batching changes nothing also with "
    "bucket_size and several rounds") {
  for (auto params : std::vector<std::map<std::string, std::string>>{
           {{"n_hashes", "3"}}, {{"bucket_size", "8"}, {"n_hashes", "2"}}, {{"wrap", "false"}}}) {
    auto m = attn::make_mechanism("reformer", small_options(kMaxLen, params));
    CHECK(batching_change(*m) < 1e-4f);
  }
}

}  // namespace
}  // namespace lra::test
