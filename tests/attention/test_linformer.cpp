// Linformer (attention/src/linformer.cpp).
#include <algorithm>

#include "attention_checks.hpp"

using namespace lra;

TEST_CASE("linformer: fast path equals the dense face (W = P E), padding included") {
  for (const char* share : {"true", "false"}) {
    CAPTURE(share);
    auto m = attn::make_mechanism("linformer",
                                  test::small_options(32, {{"k", "5"}, {"share_kv", share}}));
    CHECK(test::fast_vs_dense(*m, 12, test::lengths_of({12, 7})) < 1e-5f);
    CHECK(test::fast_vs_dense(*m, 20, test::lengths_of({1, 20}), 4, 2.0f) < 1e-5f);
    CHECK(test::fast_vs_dense(*m, 12, test::lengths_of({12, 12})) < 1e-5f);  // no padding
  }
}

TEST_CASE("linformer: forward's (E X) W_K order equals attend() on projected heads") {
  // forward() mixes the input along length before W_K, W_V; the base class's forward projects
  // first and calls attend(). Same outputs and gradients up to float rounding, with padding,
  // a key mask, and a separate F.
  for (const char* share : {"true", "false"}) {
    CAPTURE(share);
    auto m = attn::make_mechanism("linformer",
                                  test::small_options(12, {{"k", "5"}, {"share_kv", share}}));
    const Tensor lens = test::lengths_of({12, 9, 12});
    for (const Tensor& key_mask : {Tensor(), test::random_key_mask(3, 12, 7, 0.3f)}) {
      nn::ForwardContext ctx;
      ctx.key_mask = key_mask;
      Var x(test::randn({3, 12, 16}, 23), true);
      auto run = [&](bool mixed_first) {
        x.zero_grad();
        for (auto& p : m->named_parameters()) p.second.zero_grad();
        Var y = mixed_first ? m->forward(x, lens, ctx)
                            : m->attn::MultiHeadAttention::forward(x, lens, ctx);
        sum_all(mul(y, y)).backward();
        std::vector<std::vector<float>> out{y.data().contiguous().to_floats(),
                                            x.grad().to_floats()};
        for (auto& p : m->named_parameters()) out.push_back(p.second.grad().to_floats());
        return out;
      };
      test::check_runs_agree(run(true), run(false));
    }
  }
}

TEST_CASE("linformer: kernel=flash equals kernel=plain, with padding, key mask and dropout") {
  // tile 4 over N = 13 queries and k = 7 keys: uneven query and key tiles. Training with
  // attention dropout: both kernels draw the mask of weight (b, h, i, r) from one counter.
  for (const char* share : {"true", "false"}) {
    CAPTURE(share);
    auto run = [&](const char* kernel) {
      auto o = test::small_options(
          13, {{"k", "7"}, {"share_kv", share}, {"kernel", kernel}, {"tile", "4"}});
      o.attn_dropout = 0.2f;
      auto m = attn::make_mechanism("linformer", o);
      nn::ForwardContext ctx{true, 3, 1};
      ctx.key_mask = test::random_key_mask(2, 13, 5, 0.3f);
      Var x = Var::param(test::randn({2, 13, 16}, 41));
      Var y = m->forward(x, test::lengths_of({13, 8}), ctx);
      y.backward(test::randn({2, 13, 16}, 42));
      std::vector<float> out = y.data().contiguous().to_floats(), g = x.grad().to_floats();
      out.insert(out.end(), g.begin(), g.end());
      for (auto& p : m->named_parameters()) {
        g = p.second.grad().to_floats();
        out.insert(out.end(), g.begin(), g.end());
      }
      return out;
    };
    const auto flash = run("flash"), plain = run("plain");
    REQUIRE(flash.size() == plain.size());
    float worst = 0.0f;
    for (size_t i = 0; i < flash.size(); ++i)
      worst = std::max(worst, std::fabs(flash[i] - plain[i]));
    CHECK(worst < 1e-4f);
  }
  CHECK_THROWS_AS(attn::make_mechanism("linformer", test::small_options(8, {{"kernel", "fast"}})),
                  ConfigError);
}

TEST_CASE("linformer: the dense face gives padded keys exactly zero weight") {
  NoGradGuard ng;
  auto m = attn::make_mechanism("linformer", test::small_options(16));
  Tensor lens = test::lengths_of({9, 4});
  Var x(test::randn({2, 9, 16}, 8));
  Tensor w = m->dense_weights(m->project_q(x).data(), m->project_k(x).data(), lens, {});
  CHECK(w.shape() == Dims{2, 2, 9, 9});
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t i = 0; i < 9; ++i)
      for (int64_t j = 4; j < 9; ++j) CHECK(w.at({1, h, i, j}) == 0.0f);
}

TEST_CASE("linformer: gradients match finite differences") {
  for (const char* share : {"true", "false"}) {
    CAPTURE(share);
    auto m = attn::make_mechanism("linformer",
                                  test::small_options(8, {{"k", "4"}, {"share_kv", share}}));
    auto r = test::mixer_gradcheck(*m, 6, test::lengths_of({6, 4}));
    CHECK_MESSAGE(r.ok, r.report);
    r = test::mixer_gradcheck(*m, 6, test::lengths_of({6, 6}));  // no padding: E unmasked
    CHECK_MESSAGE(r.ok, r.report);
  }
}

TEST_CASE("linformer: without padding, E (k, N) is broadcast and gets the masked path's gradient") {
  // Full lengths and no key mask take E_N as it is (its gradient summed GEMM by GEMM over the
  // batch); an all-ones key mask forces the (B, 1, k, N) mask product: same outputs and
  // parameter gradients up to the order of dE's sum over the batch.
  for (const char* share : {"true", "false"}) {
    CAPTURE(share);
    auto m = attn::make_mechanism("linformer",
                                  test::small_options(12, {{"k", "5"}, {"share_kv", share}}));
    Var x(test::randn({3, 12, 16}, 21));
    const Tensor lens = test::lengths_of({12, 12, 12});
    auto run = [&](const Tensor& key_mask) {
      nn::ForwardContext ctx;
      ctx.key_mask = key_mask;
      for (auto& p : m->named_parameters()) p.second.zero_grad();
      Var y = m->forward(x, lens, ctx);
      sum_all(mul(y, y)).backward();
      std::vector<std::vector<float>> out{y.data().contiguous().to_floats()};
      for (auto& p : m->named_parameters()) out.push_back(p.second.grad().to_floats());
      return out;
    };
    test::check_runs_agree(run({}), run(test::random_key_mask(3, 12, 1, 0.0f)));  // all ones
  }
}

TEST_CASE("linformer: E gets a gradient on valid columns only") {
  auto m = attn::make_mechanism("linformer", test::small_options(10, {{"k", "3"}}));
  Var x(test::randn({2, 8, 16}, 9));
  sum_all(m->forward(x, test::lengths_of({5, 3}), {})).backward();
  auto params = m->named_parameters();
  auto it = std::find_if(params.begin(), params.end(), [](auto& p) { return p.first == "E"; });
  REQUIRE(it != params.end());
  Tensor g = it->second.grad();
  REQUIRE(g.defined());
  CHECK(g.shape() == Dims{3, 10});
  for (int64_t r = 0; r < 3; ++r) {
    for (int64_t j = 5; j < 10; ++j) CHECK(g.at({r, j}) == 0.0f);  // beyond every valid length
    CHECK(std::fabs(g.at({r, 0})) > 0.0f);
  }
}

TEST_CASE("linformer: the padded tail does not change valid outputs") {
  auto m = attn::make_mechanism("linformer", test::small_options(32));
  CHECK(test::padding_leak(*m, 10, test::lengths_of({10, 6})) == 0.0f);
}

TEST_CASE("linformer: lengths beyond max_len are an error naming E") {
  auto m = attn::make_mechanism("linformer", test::small_options(8));
  Var x(test::randn({1, 9, 16}, 1));
  CHECK_THROWS_WITH_AS(m->forward(x, test::lengths_of({9}), {}), doctest::Contains("max_len"),
                       ShapeError);
}

TEST_CASE("linformer: peak memory grows linearly in N") {
  size_t a = test::peak_bytes_fwd_bwd("linformer", 256);
  size_t b = test::peak_bytes_fwd_bwd("linformer", 1024);
  double ratio = double(b) / double(a);
  MESSAGE("linformer peak bytes N=256: " << a << ", N=1024: " << b << ", ratio " << ratio);
  CHECK(ratio < 8.0);
}

TEST_CASE("linformer: a key mask (mask_zero_tokens) equals its dense face, gradients checked") {
  // Hidden keys' columns of E (and F) are zeroed: hidden keys and values enter neither K' nor V'.
  Tensor km = test::random_key_mask(2, 12, 1, 0.4f, 0, 4);
  for (const char* share : {"true", "false"}) {
    CAPTURE(share);
    auto m = attn::make_mechanism("linformer",
                                  test::small_options(32, {{"k", "5"}, {"share_kv", share}}));
    CHECK(test::fast_vs_dense(*m, 12, test::lengths_of({12, 7}), 3, 1.0f, km) < 1e-5f);
    CHECK(test::key_mask_effect(*m, 12, test::lengths_of({12, 7}), km) > 1e-3f);
    auto g = attn::make_mechanism("linformer",
                                  test::small_options(8, {{"k", "4"}, {"share_kv", share}}));
    auto r = test::mixer_gradcheck(*g, 6, test::lengths_of({6, 4}), test::kModuleCheck,
                                   test::random_key_mask(2, 6, 2, 0.4f));
    CHECK_MESSAGE(r.ok, r.report);
  }
  // The dense face gives hidden keys exactly zero weight.
  auto m = attn::make_mechanism("linformer", test::small_options(16));
  Tensor w = test::masked_dense_face(*m, 12, test::lengths_of({12, 7}), km);
  for (int64_t i = 0; i < 12; ++i)
    for (int64_t j = 0; j < 4; ++j) CHECK(w.at({0, 1, i, j}) == 0.0f);
}
