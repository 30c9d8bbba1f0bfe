// Reversible residual layers (nn/reversible.hpp): gradcheck, equality with the same equations
// as a stored-activation graph (dropout on), memory flat in depth, backward under no_grad.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "grad_checks.hpp"
#include "lra/autograd/gradcheck.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/allocator.hpp"
#include "lra/core/rng.hpp"
#include "lra/nn/reversible.hpp"
#include "nn/helpers.hpp"
#include "test_util.hpp"

using namespace lra;
using lra::test::randn;
using namespace lra::nn;

namespace {

// Single-head softmax self-attention from autograd ops, with keyed attention dropout:
// softmax(x Wq (x Wk)ᵀ / √D, lengths) x Wv.
class TinyAttention : public TokenMixer {
 public:
  TinyAttention(int64_t dim, float attn_dropout, uint64_t key) : drop_(attn_dropout) {
    scale_ = 1.0f / std::sqrt(float(dim));
    wq_ = register_module("wq", std::make_unique<Linear>(dim, dim, false, rng_key(key, {1})));
    wk_ = register_module("wk", std::make_unique<Linear>(dim, dim, false, rng_key(key, {2})));
    wv_ = register_module("wv", std::make_unique<Linear>(dim, dim, false, rng_key(key, {3})));
  }
  Var forward(const Var& x, const Tensor& lengths, const ForwardContext& ctx) override {
    Var s = matmul(wq_->forward(x), wk_->forward(x), false, true);  // (B, N, N)
    Var p = softmax(s, lengths, scale_);
    if (ctx.training && drop_ > 0.0f) p = dropout(p, drop_, ctx.key(path() + ".attn"), true);
    return matmul(p, wv_->forward(x));
  }
  const char* name() const override { return "tiny"; }
  Linear *wq_, *wk_, *wv_;

 private:
  float drop_, scale_;
};

MixerFactory tiny_mixers(int64_t dim, float attn_dropout) {
  return [=](int layer) {
    return std::make_unique<TinyAttention>(dim, attn_dropout, rng_key(9, {uint64_t(layer)}));
  };
}

// Gradients of L = sum(w * out) w.r.t. x and every parameter, from `run`.
template <typename Run>
std::vector<Tensor> grads_of(Module& m, const Tensor& x0, const Tensor& w, Run run) {
  m.zero_grad();
  Var x = Var::param(x0);
  sum_all(mul(run(x), Var(w))).backward();
  std::vector<Tensor> g{x.grad()};
  for (auto& [name, p] : m.named_parameters()) g.push_back(p.grad());
  return g;
}

// max |a - b| / max |b| over one tensor.
float rel_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.defined());
  REQUIRE(b.defined());
  std::vector<float> va = a.to_floats(), vb = b.to_floats();
  REQUIRE(va.size() == vb.size());
  float num = 0.0f, den = 0.0f;
  for (size_t i = 0; i < va.size(); ++i) {
    num = std::max(num, std::fabs(va[i] - vb[i]));
    den = std::max(den, std::fabs(vb[i]));
  }
  return den > 0.0f ? num / den : num;
}

}  // namespace

TEST_CASE("reversible: gradcheck of a 2-layer stack w.r.t. input and every parameter") {
  const int64_t D = 4;
  ReversibleEncoder enc(D, 6, 2, 0.2f, tiny_mixers(D, 0.2f), 5);
  const ForwardContext ctx{true, 7, 3};  // dropout on: the same masks in every evaluation
  const Tensor lengths = nn::test::i32({4}, {1});
  std::vector<Var*> slots;
  for (int l = 0; l < 2; ++l) {
    ReversibleBlock& b = enc.block(l);
    auto& att = dynamic_cast<TinyAttention&>(b.mixer());
    for (Var* v : {&b.ln1().weight(), &b.ln1().bias(), &att.wq_->weight(), &att.wk_->weight(),
                   &att.wv_->weight(), &b.ln2().weight(), &b.ln2().bias(), &b.mlp().fc1().weight(),
                   &b.mlp().fc1().bias(), &b.mlp().fc2().weight(), &b.mlp().fc2().bias()})
      slots.push_back(v);
  }
  slots.push_back(&enc.final_norm().weight());
  slots.push_back(&enc.final_norm().bias());
  std::vector<Tensor> inputs{randn({1, 5, D}, 1)};
  uint64_t k = 100;
  for (Var* s : slots) inputs.push_back(randn(s->shape(), k++, 0.5f));  // LN off its 1/0 init
  auto fn = [&](const std::vector<Var>& in) {
    for (size_t i = 0; i < slots.size(); ++i) *slots[i] = in[i + 1];
    return enc.forward(in[0], lengths, ctx);
  };
  GradcheckResult r = gradcheck(fn, inputs, lra::test::kModuleCheck);
  INFO(r.report);
  CHECK(r.ok);
}

TEST_CASE("reversible: gradients equal the stored-activation graph's, dropout on and off") {
  const int64_t D = 8;
  for (float p : {0.0f, 0.1f}) {
    ReversibleEncoder enc(D, 16, 3, p, tiny_mixers(D, p), 11);
    const ForwardContext ctx{p > 0.0f, 3, 17};
    const Tensor lengths = nn::test::i32({7, 5}, {2});
    const Tensor x = randn({2, 7, D}, 2), w = randn({2, 7, D}, 3);
    auto rec = [&](const Var& v) { return enc.forward(v, lengths, ctx); };
    auto ref = [&](const Var& v) { return enc.forward_stored(v, lengths, ctx); };
    Tensor out_rec, out_ref;
    {
      NoGradGuard no_grad;
      out_rec = rec(Var(x)).data();
      out_ref = ref(Var(x)).data();
    }
    CHECK(rel_diff(out_rec, out_ref) <= 1e-6f);
    std::vector<Tensor> g_rec = grads_of(enc, x, w, rec), g_ref = grads_of(enc, x, w, ref);
    auto names = enc.named_parameters();
    REQUIRE(g_rec.size() == names.size() + 1);
    float worst = 0.0f;
    for (size_t i = 0; i < g_rec.size(); ++i) {
      INFO("dropout " << p << ", " << (i == 0 ? std::string("input") : names[i - 1].first));
      float d = rel_diff(g_rec[i], g_ref[i]);
      CHECK(d <= 1e-5f);
      worst = std::max(worst, d);
    }
    MESSAGE("dropout ", p, ": largest relative gradient difference ", worst);
  }
}

TEST_CASE("reversible: backward under NoGradGuard still recomputes (nested grad mode)") {
  const int64_t D = 8;
  ReversibleEncoder enc(D, 16, 2, 0.1f, tiny_mixers(D, 0.1f), 4);
  const ForwardContext ctx{true, 1, 2};
  const Tensor lengths = nn::test::i32({6}, {1});
  const Tensor x = randn({1, 6, D}, 5), w = randn({1, 6, D}, 6);
  auto rec = [&](const Var& v) { return enc.forward(v, lengths, ctx); };
  std::vector<Tensor> want = grads_of(enc, x, w, rec);
  enc.zero_grad();
  Var xv = Var::param(x);
  Var loss = sum_all(mul(rec(xv), Var(w)));
  {
    NoGradGuard no_grad;
    loss.backward();
    CHECK_FALSE(grad_enabled());  // the guard inside backward restored the mode
  }
  CHECK(grad_enabled());
  CHECK(rel_diff(xv.grad(), want[0]) == 0.0f);
  auto params = enc.parameters();
  for (size_t i = 0; i < params.size(); ++i) CHECK(rel_diff(params[i].grad(), want[i + 1]) == 0.0f);
}

TEST_CASE("reversible: a parameter-only graph (input needs no gradient) still trains") {
  const int64_t D = 4;
  ReversibleEncoder enc(D, 8, 2, 0.0f, tiny_mixers(D, 0.0f), 8);
  Var out = enc.forward(Var(randn({1, 3, D}, 9)), nn::test::i32({3}, {1}), {});
  REQUIRE(out.requires_grad());
  sum_all(mul(out, out)).backward();
  for (auto& [name, p] : enc.named_parameters()) {
    INFO(name);
    CHECK(p.grad().defined());
  }
}

TEST_CASE("reversible: parameter names differ from the standard encoder's") {
  ReversibleEncoder rev(4, 8, 1, 0.0f, tiny_mixers(4, 0.0f), 1);
  Encoder std_enc(4, 8, 1, 0.0f, tiny_mixers(4, 0.0f), 1);
  auto rn = rev.named_parameters(), sn = std_enc.named_parameters();
  REQUIRE(rn.size() == sn.size());
  CHECK(rn.front().first == "rev_blocks.0.ln1.weight");
  CHECK(sn.front().first == "blocks.0.ln1.weight");
  for (size_t i = 0; i < rn.size(); ++i) {  // same init key: same initial weights
    INFO(rn[i].first);
    CHECK(rel_diff(rn[i].second.data(), sn[i].second.data()) == 0.0f);
  }
  CHECK_THROWS_AS(rev.block(1), ConfigError);
}

// Extra peak bytes of one forward + backward (parameter gradients included).
template <typename Enc>
size_t step_peak(Enc& enc, const Tensor& x0, const Tensor& lengths, const ForwardContext& ctx) {
  enc.zero_grad();
  size_t base = memory_stats().live_bytes;
  reset_peak_memory();
  {
    Var x = Var::param(x0);
    sum_all(enc.forward(x, lengths, ctx)).backward();
  }
  return memory_stats().peak_bytes - base;
}

TEST_CASE("reversible: activation memory stays flat with depth (N = 512, D = 64)") {
  const int64_t N = 512, D = 64;
  const ForwardContext ctx{true, 1, 1};
  const Tensor x = randn({1, N, D}, 12), lengths = nn::test::i32({int32_t(N)}, {1});
  size_t std_peak[2], rev_peak[2];
  const int depth[2] = {1, 6};
  for (int i = 0; i < 2; ++i) {
    Encoder s(D, 128, depth[i], 0.1f, tiny_mixers(D, 0.1f), 2);
    ReversibleEncoder r(D, 128, depth[i], 0.1f, tiny_mixers(D, 0.1f), 2);
    step_peak(s, x, lengths, ctx);  // warm the allocator's cache; counters are byte-exact anyway
    std_peak[i] = step_peak(s, x, lengths, ctx);
    rev_peak[i] = step_peak(r, x, lengths, ctx);
  }
  double std_growth = double(std_peak[1]) / double(std_peak[0]);
  double rev_growth = double(rev_peak[1]) / double(rev_peak[0]);
  MESSAGE("standard: depth 1 ", std_peak[0] >> 10, " KiB, depth 6 ", std_peak[1] >> 10, " KiB (x",
          std_growth, "); reversible: depth 1 ", rev_peak[0] >> 10, " KiB, depth 6 ",
          rev_peak[1] >> 10, " KiB (x", rev_growth, ")");
  CHECK(std_growth > 4.0);  // stored activations: ~one layer's worth per layer
  CHECK(rev_growth < 1.5);  // recomputation: one layer's graph at a time (+ 6 layers' grads)
  CHECK(rev_peak[1] * 3 < std_peak[1]);
}
