// Longformer (attention/src/longformer.cpp): banded block-sparse kernel + optional global CLS.
#include <cmath>

#include "../../attention/src/patterns.hpp"
#include "attention_checks.hpp"

using namespace lra;

TEST_CASE("longformer: the kernel layout visits exactly the band (and the global column)") {
  for (int64_t n : {1, 6, 21, 64, 130})
    for (auto [left, right, tile] :
         {std::tuple{3, 3, 4}, {2, 5, 3}, {255, 256, 64}, {0, 0, 4}, {9, 1, 8}})
      for (bool global : {false, true}) {
        attn::pattern::Window pat{left, right, global, tile};
        std::string err = attn::bsa::check_layout(
            *pat.layout(n), 1,
            [&](int64_t, int64_t, int64_t i, int64_t j) { return pat.kernel_allowed(i, j); });
        CHECK_MESSAGE(err.empty(), "n=" << n << " left=" << left << " right=" << right
                                        << " global=" << global << ": " << err);
      }
}

TEST_CASE("longformer: fast path equals the dense face, padding included") {
  for (const char* global : {"none", "cls"}) {
    auto m = attn::make_mechanism(
        "longformer",
        test::small_options(32, {{"window", "6"}, {"tile", "4"}, {"global", global}}));
    CHECK(test::fast_vs_dense(*m, 21, test::lengths_of({21, 10})) < 1e-5f);
    CHECK(test::fast_vs_dense(*m, 21, test::lengths_of({3, 17}), 4, 2.0f) < 1e-5f);
  }
  auto d = attn::make_mechanism("longformer", test::small_options(700));  // LRA's window 512
  CHECK(test::fast_vs_dense(*d, 600, test::lengths_of({600})) < 1e-5f);
}

TEST_CASE("longformer: global=cls gives the CLS row its own projections over every key") {
  auto m = attn::make_mechanism(
      "longformer", test::small_options(32, {{"window", "4"}, {"tile", "4"}, {"global", "cls"}}));
  auto plain =
      attn::make_mechanism("longformer", test::small_options(32, {{"window", "4"}, {"tile", "4"}}));
  std::map<std::string, Var> p;
  for (auto& [name, v] : m->named_parameters()) p[name] = v;
  REQUIRE(p.count("wq_global.weight"));
  NoGradGuard ng;
  nn::ForwardContext ctx;
  Tensor lens = test::lengths_of({12, 7});
  Var x(test::randn({2, 12, 16}, 71));
  Tensor y = m->forward(x, lens, ctx).data();
  // Reference for row 0: softmax(q_g k_gᵀ/√d) v_g over the valid keys, per head, then W_o.
  auto heads = [](const Tensor& t) {
    return t.view({t.size(0), t.size(1), 2, 8}).permute({0, 2, 1, 3});
  };
  Tensor qg = heads(kern::matmul(x.data(), p["wq_global.weight"].data()));
  Tensor kg = heads(kern::matmul(x.data(), p["wk_global.weight"].data()));
  Tensor vg = heads(kern::matmul(x.data(), p["wv_global.weight"].data()));
  Tensor w = kern::softmax(kern::matmul(qg, kg, false, true), lens, 1.0f / std::sqrt(8.0f));
  Tensor og = kern::matmul(w, vg).permute({0, 2, 1, 3}).reshape({2, 12, 16});
  Tensor ref = kern::matmul(og, p["wo.weight"].data());
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t d = 0; d < 16; ++d) CHECK(std::fabs(y.at({b, 0, d}) - ref.at({b, 0, d})) < 1e-5f);
  // The other rows are the window rows plus key 0 with the shared projections: as without
  // global tokens wherever key 0 is already in the window (i <= left = 1).
  Tensor y_plain = plain->forward(x, lens, ctx).data();
  for (int64_t d = 0; d < 16; ++d)
    CHECK(std::fabs(y.at({0, 1, d}) - y_plain.at({0, 1, d})) < 1e-5f);
  CHECK(std::fabs(y.at({0, 5, 0}) - y_plain.at({0, 5, 0})) > 1e-6f);  // key 0 added
}

TEST_CASE("longformer: gradients match finite differences") {
  for (const char* global : {"none", "cls"}) {
    auto m = attn::make_mechanism(
        "longformer",
        test::small_options(32, {{"window", "4"}, {"tile", "3"}, {"global", global}}));
    auto r = test::mixer_gradcheck(*m, 9, test::lengths_of({9, 5}));
    CHECK_MESSAGE(r.ok, global << ": " << r.report);
  }
}

TEST_CASE("longformer: the padded tail does not change valid outputs") {
  for (const char* global : {"none", "cls"}) {
    auto m = attn::make_mechanism(
        "longformer",
        test::small_options(32, {{"window", "5"}, {"tile", "4"}, {"global", global}}));
    CHECK(test::padding_leak(*m, 14, test::lengths_of({14, 6})) == 0.0f);
  }
}

TEST_CASE("longformer: peak memory grows linearly in N") {
  size_t a = test::peak_bytes_fwd_bwd("longformer", 1024);
  size_t b = test::peak_bytes_fwd_bwd("longformer", 4096);
  size_t c = test::peak_bytes_fwd_bwd("longformer", 1024, {{"global", "cls"}});
  size_t d = test::peak_bytes_fwd_bwd("longformer", 4096, {{"global", "cls"}});
  double ratio = double(b) / double(a), ratio_cls = double(d) / double(c);
  MESSAGE("longformer peak bytes N=1024: " << a << ", N=4096: " << b << ", ratio " << ratio
                                           << "; global=cls: " << c << ", " << d << ", ratio "
                                           << ratio_cls);
  CHECK(ratio < 8.0);
  CHECK(ratio_cls < 8.0);
}

TEST_CASE("longformer: a key mask (mask_zero_tokens) equals its dense face, gradients checked") {
  // Entry 0: keys 0-6 hidden, so the first queries' windows (6) see no visible key.
  for (const char* global : {"none", "cls"}) {
    auto m = attn::make_mechanism(
        "longformer",
        test::small_options(32, {{"window", "6"}, {"tile", "4"}, {"global", global}}));
    Tensor km = test::random_key_mask(2, 21, 1, 0.4f, 0, 7);
    CHECK(test::fast_vs_dense(*m, 21, test::lengths_of({21, 10}), 3, 1.0f, km) < 1e-5f);
    CHECK(test::key_mask_effect(*m, 21, test::lengths_of({21, 10}), km) > 1e-3f);
    auto g = attn::make_mechanism(
        "longformer",
        test::small_options(32, {{"window", "4"}, {"tile", "3"}, {"global", global}}));
    auto r = test::mixer_gradcheck(*g, 9, test::lengths_of({9, 5}), test::kModuleCheck,
                                   test::random_key_mask(2, 9, 2, 0.4f));
    CHECK_MESSAGE(r.ok, global << ": " << r.report);
  }
}
