#include <cmath>
#include <vector>

#include "attention_checks.hpp"

using namespace lra;

TEST_CASE("transformer: fast path equals the dense face, padding included") {
  auto m = attn::make_mechanism("transformer", test::small_options(32));
  CHECK(test::fast_vs_dense(*m, 12, test::lengths_of({12, 7})) < 1e-5f);
}

TEST_CASE("transformer: gradients match finite differences") {
  auto m = attn::make_mechanism("transformer", test::small_options(32));
  auto r = test::mixer_gradcheck(*m, 6, test::lengths_of({6, 4}));
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("transformer: the padded tail does not change valid outputs") {
  auto m = attn::make_mechanism("transformer", test::small_options(32));
  CHECK(test::padding_leak(*m, 10, test::lengths_of({10, 6})) == 0.0f);
}

TEST_CASE("registry: unknown names and parameters are errors that list the valid ones") {
  CHECK_THROWS_WITH_AS(attn::make_mechanism("transfomer", test::small_options(8)),
                       doctest::Contains("known: transformer"), ConfigError);
  CHECK_THROWS_WITH_AS(attn::make_mechanism("transformer", test::small_options(8, {{"blok", "4"}})),
                       doctest::Contains("unknown parameter 'blok'"), ConfigError);
}

namespace {

// Mixer output (B, N, D) and the gradient of every input and parameter, for an upstream
// gradient that is zero on padded rows (kernel=flash outputs 0 there, kernel=plain does not).
struct MixerRun {
  std::vector<float> y, grads;
};

MixerRun run_mixer(const std::string& kernel, const Tensor& lengths, int64_t n, bool training,
                   float attn_dropout, uint64_t step = 1) {
  auto o = test::small_options(32, {{"kernel", kernel}, {"tile", "4"}});
  o.attn_dropout = attn_dropout;
  auto m = attn::make_mechanism("transformer", o);
  const int64_t b = lengths.size(0);
  Var x = Var::param(test::randn({b, n, 16}, 61));
  nn::ForwardContext ctx{training, 3, step};
  Var y = m->forward(x, lengths, ctx);
  Tensor g = test::randn({b, n, 16}, 62);
  auto lens = lengths.to_ints();
  for (int64_t bi = 0; bi < b; ++bi)
    for (int64_t i = lens[size_t(bi)]; i < n; ++i) g.select(0, bi).select(0, i).zero_();
  y.backward(g);
  MixerRun r;
  for (int64_t bi = 0; bi < b; ++bi)
    for (int64_t i = 0; i < lens[size_t(bi)]; ++i)
      for (int64_t d = 0; d < 16; ++d) r.y.push_back(y.data().at({bi, i, d}));
  r.grads = x.grad().to_floats();
  for (const auto& [name, p] : m->named_parameters()) {
    std::vector<float> gp = p.grad().to_floats();
    r.grads.insert(r.grads.end(), gp.begin(), gp.end());
  }
  return r;
}

float max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  float w = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) w = std::max(w, std::fabs(a[i] - b[i]));
  return w;
}

}  // namespace

TEST_CASE("transformer: kernel=flash equals kernel=plain, outputs and gradients") {
  Tensor lens = test::lengths_of({13, 6, 9});
  MixerRun flash = run_mixer("flash", lens, 13, false, 0.0f);
  MixerRun plain = run_mixer("plain", lens, 13, false, 0.0f);
  CHECK(max_diff(flash.y, plain.y) < 1e-5f);
  CHECK(max_diff(flash.grads, plain.grads) < 1e-4f);
}

TEST_CASE("transformer: attention dropout is the same mask in both kernels, fixed per step") {
  Tensor lens = test::lengths_of({11, 7});
  MixerRun flash = run_mixer("flash", lens, 11, true, 0.2f);
  MixerRun plain = run_mixer("plain", lens, 11, true, 0.2f);
  MixerRun eval = run_mixer("flash", lens, 11, false, 0.2f);
  CHECK(max_diff(flash.y, plain.y) < 1e-5f);
  CHECK(max_diff(flash.grads, plain.grads) < 1e-4f);
  CHECK(max_diff(flash.y, eval.y) > 1e-3f);  // dropout did something
  MixerRun again = run_mixer("flash", lens, 11, true, 0.2f);
  CHECK(again.y == flash.y);  // same (seed, step): same mask, bit for bit
  CHECK(again.grads == flash.grads);
  MixerRun next = run_mixer("flash", lens, 11, true, 0.2f, 2);
  CHECK(max_diff(next.y, flash.y) > 1e-3f);  // next step: a new mask
}

TEST_CASE("transformer: kernel=flash gradients match finite differences") {
  auto m = attn::make_mechanism("transformer", test::small_options(32, {{"tile", "4"}}));
  auto r = test::mixer_gradcheck(*m, 9, test::lengths_of({9, 5}));
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("transformer: a key mask (mask_zero_tokens) equals its dense face, gradients checked") {
  // Entry 0: keys 1, 4, 5 hidden, some inside the first tile; entry 1: padded, key 2 hidden.
  const std::vector<int32_t> mask = {1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1};
  Tensor km = Tensor::from(std::span<const int32_t>(mask), {2, 9});
  auto m = attn::make_mechanism("transformer", test::small_options(32, {{"tile", "4"}}));
  CHECK(test::fast_vs_dense(*m, 9, test::lengths_of({9, 6}), 3, 1.0f, km) < 1e-5f);
  {  // the mask is not ignored: query 0 of entry 0 changes
    NoGradGuard ng;
    nn::ForwardContext plain, masked;
    masked.key_mask = km;
    Var x(test::randn({2, 9, 16}, 7));
    Tensor a = m->forward(x, test::lengths_of({9, 6}), plain).data();
    Tensor b = m->forward(x, test::lengths_of({9, 6}), masked).data();
    CHECK(std::fabs(a.at({0, 0, 0}) - b.at({0, 0, 0})) > 1e-4f);
  }
  auto r = test::mixer_gradcheck(*m, 9, test::lengths_of({9, 6}), test::kModuleCheck, km);
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("transformer: kernel=plain with a key mask equals its dense face and kernel=flash") {
  const std::vector<int32_t> mask = {0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1};
  Tensor km = Tensor::from(std::span<const int32_t>(mask), {2, 9});
  auto plain = attn::make_mechanism("transformer", test::small_options(32, {{"kernel", "plain"}}));
  CHECK(test::fast_vs_dense(*plain, 9, test::lengths_of({9, 6}), 3, 1.0f, km) < 1e-5f);
  NoGradGuard ng;
  nn::ForwardContext ctx;
  ctx.key_mask = km;
  auto flash = attn::make_mechanism("transformer", test::small_options(32, {{"tile", "4"}}));
  Var x(test::randn({2, 9, 16}, 7));
  Tensor a = plain->forward(x, test::lengths_of({9, 6}), ctx).data();
  Tensor b = flash->forward(x, test::lengths_of({9, 6}), ctx).data();
  CHECK(kern::max_abs(kern::binary(kern::Binary::Sub, a.slice(1, 0, 6), b.slice(1, 0, 6))) < 1e-5f);
}

TEST_CASE("transformer: kernel=flash peak memory grows linearly in N, kernel=plain does not") {
  size_t a = test::peak_bytes_fwd_bwd("transformer", 256);
  size_t b = test::peak_bytes_fwd_bwd("transformer", 1024);
  size_t c = test::peak_bytes_fwd_bwd("transformer", 256, {{"kernel", "plain"}});
  size_t d = test::peak_bytes_fwd_bwd("transformer", 1024, {{"kernel", "plain"}});
  double ratio = double(b) / double(a), plain_ratio = double(d) / double(c);
  MESSAGE("transformer flash peak bytes N=256: " << a << ", N=1024: " << b << ", ratio " << ratio
                                                 << "; plain: " << c << ", " << d << ", ratio "
                                                 << plain_ratio);
  CHECK(ratio < 8.0);
  CHECK(plain_ratio > 10.0);
}
