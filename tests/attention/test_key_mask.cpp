// Every mechanism with a key mask (ctx.key_mask, mask_zero_tokens): hidden keys reach no visible
// query, and a mask of the wrong shape is refused. Each mechanism's own test file holds its
// masked fast path to its dense face and checks its gradients with a mask.
#include <cstdio>

#include "attention_checks.hpp"

namespace lra::test {
namespace {

TEST_CASE("every mechanism: changing the hidden tokens changes no visible position's output") {
  const Tensor lens = lengths_of({40, 29});
  const Tensor km = random_key_mask(2, 40, 31, 0.5f, 8, 20);
  for (const attn::MechanismInfo& info : attn::mechanisms()) {
    if (info.name == "reformer") continue;      // its hashing reads every position (test_reformer)
    std::map<std::string, std::string> params;  // small blocks and windows: several per sequence
    for (const attn::ParamSpec& p : info.params)
      if (p.name == "block" || p.name == "window" || p.name == "summary")
        params[p.name] = p.name == "block" ? "8" : p.name == "window" ? "5" : "2";
    auto m = attn::make_mechanism(info.name, small_options(64, params));
    const float leak = hidden_key_leak(*m, 40, lens, km);
    std::printf("hidden keys %-14s max |change| at visible positions = %.3g\n", info.name.c_str(),
                double(leak));
    CHECK_MESSAGE(leak < 1e-5f, info.name, ": hidden tokens change visible outputs by ", leak);
  }
}

TEST_CASE("every mechanism: a key mask of the wrong shape or type is refused, naming both") {
  Var x(randn({2, 6, 16}, 8));
  for (const attn::MechanismInfo& info : attn::mechanisms()) {
    auto m = attn::make_mechanism(info.name, small_options(32));
    for (const Tensor& bad : {Tensor::zeros({2, 5}, DType::I32), Tensor::zeros({1, 6}, DType::I32),
                              Tensor::ones({2, 6})}) {
      nn::ForwardContext ctx;
      ctx.key_mask = bad;
      CHECK_THROWS_WITH_AS(m->forward(x, lengths_of({6, 4}), ctx),
                           doctest::Contains("key_mask (mask_zero_tokens) must be i32 (2, 6)"),
                           ShapeError);
    }
  }
}

}  // namespace
}  // namespace lra::test
