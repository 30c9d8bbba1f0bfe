// Module tree: parameter names and counts, paths, ForwardContext keys; an Encoder built with
// a trivial mixer written here.
#include <doctest/doctest.h>

#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "lra/nn/layers.hpp"
#include "nn/helpers.hpp"

using namespace lra;
using namespace lra::nn;
using namespace lra::nn::test;

namespace {

// y = x * scale (per feature): the simplest mixer with a parameter.
class ScaleMixer : public TokenMixer {
 public:
  explicit ScaleMixer(int64_t dim) { scale_ = register_parameter("scale", Tensor::ones({dim})); }
  Var forward(const Var& x, const Tensor&, const ForwardContext&) override {
    return mul(x, scale_);
  }
  const char* name() const override { return "scale"; }

 private:
  Var scale_;
};

class Leaf : public Module {
 public:
  Leaf() {
    register_parameter("a", Tensor::zeros({2}));
    register_parameter("b", Tensor::zeros({3, 1}));
  }
  void add_param(const std::string& n) { register_parameter(n, Tensor::zeros({1})); }

 protected:
  std::vector<std::pair<std::string, Tensor>> own_buffers() const override {
    return {{"table", Tensor::ones({2, 2})}};
  }
};

class Tree : public Module {
 public:
  Tree() {
    register_parameter("w", Tensor::zeros({4}));
    leaf = register_module("left", std::make_unique<Leaf>());
    inner = register_module("right", std::make_unique<Tree2>());
  }
  struct Tree2 : Module {
    Tree2() { deep = register_module("deep", std::make_unique<Leaf>()); }
    Leaf* deep;
  };
  void add_child(const std::string& n) { register_module(n, std::make_unique<Leaf>()); }
  Leaf* leaf;
  Tree2* inner;
};

struct Root : Module {
  explicit Root(std::unique_ptr<Encoder> e) { enc = register_module("encoder", std::move(e)); }
  Encoder* enc;
};

}  // namespace

TEST_CASE("module: named parameters are depth first with dotted names") {
  Tree t;
  std::vector<std::string> names;
  for (auto& [n, v] : t.named_parameters()) names.push_back(n);
  CHECK(names == std::vector<std::string>{"w", "left.a", "left.b", "right.deep.a", "right.deep.b"});
  CHECK(t.num_parameters() == 4 + 2 + 3 + 2 + 3);
  CHECK(t.parameters().size() == 5);
  CHECK(t.path() == "");
  CHECK(t.leaf->path() == "left");
  CHECK(t.inner->deep->path() == "right.deep");  // set when "right" was adopted
  for (auto& v : t.parameters()) CHECK(v.requires_grad());
}

TEST_CASE("module: named buffers are depth first with dotted names, apart from parameters") {
  Tree t;
  std::vector<std::string> names;
  for (auto& [n, b] : t.named_buffers()) {
    names.push_back(n);
    CHECK((b.size(0) == 2 && b.size(1) == 2));
  }
  CHECK(names == std::vector<std::string>{"left.table", "right.deep.table"});
  CHECK(t.named_parameters().size() == 5);  // buffers are not parameters
}

TEST_CASE("module: duplicate names are refused") {
  Tree t;
  CHECK_THROWS_AS(t.leaf->add_param("a"), Error);
  CHECK_THROWS_AS(t.add_child("left"), Error);
  CHECK_THROWS_AS(t.add_child("w"), Error);
}

TEST_CASE("module: zero_grad clears every gradient") {
  Tree t;
  for (auto& v : t.parameters()) v.grad() = Tensor::ones(v.shape());
  t.zero_grad();
  for (auto& v : t.parameters()) CHECK_FALSE(v.grad().defined());
}

TEST_CASE("module: ForwardContext::key mixes seed step and site") {
  ForwardContext a{true, 7, 3};
  CHECK(a.key("encoder.blocks.0.dropout") == rng_key(7, {3, rng_tag("encoder.blocks.0.dropout")}));
  ForwardContext b{true, 7, 4};
  ForwardContext c{true, 8, 3};
  CHECK(a.key("x") != b.key("x"));
  CHECK(a.key("x") != c.key("x"));
  CHECK(a.key("x") != a.key("y"));
}

TEST_CASE("encoder: parameter names counts and paths with a test mixer") {
  const int64_t dim = 4, mlp = 8;
  auto enc = std::make_unique<Encoder>(
      dim, mlp, 2, 0.1f, [&](int) { return std::make_unique<ScaleMixer>(dim); }, 42);
  Root root(std::move(enc));
  std::vector<std::string> names;
  for (auto& [n, v] : root.named_parameters()) names.push_back(n);
  std::vector<std::string> want;
  for (std::string b : {"encoder.blocks.0.", "encoder.blocks.1."})
    for (std::string p : {"ln1.weight", "ln1.bias", "mixer.scale", "ln2.weight", "ln2.bias",
                          "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"})
      want.push_back(b + p);
  want.push_back("encoder.ln.weight");
  want.push_back("encoder.ln.bias");
  CHECK(names == want);
  // per block: ln1 8 + scale 4 + ln2 8 + fc1 (4*8 + 8) + fc2 (8*4 + 4) = 96; final ln 8
  CHECK(root.num_parameters() == 2 * 96 + 8);
  CHECK(root.enc->num_layers() == 2);
  CHECK(root.enc->block(1).mixer().path() == "encoder.blocks.1.mixer");
  CHECK(std::string(root.enc->block(0).mixer().name()) == "scale");
  CHECK_THROWS_AS(root.enc->block(2), ConfigError);
  // Different blocks get different MLP weights from the same init key.
  CHECK(root.enc->block(0).mlp().fc1().weight().data().to_floats() !=
        root.enc->block(1).mlp().fc1().weight().data().to_floats());
}

TEST_CASE("encoder: forward keeps the shape and every parameter gets a gradient") {
  const int64_t dim = 4;
  Encoder enc(
      dim, 6, 2, 0.2f, [&](int) { return std::make_unique<ScaleMixer>(dim); }, 1);
  Tensor x = Tensor::empty({2, 3, dim});
  fill_normal(x, 5, 0.0f, 1.0f);
  Tensor lengths = i32({3, 2}, {2});
  ForwardContext ctx{true, 1, 0};
  Var y = enc.forward(Var(x), lengths, ctx);
  CHECK(y.shape() == Dims{2, 3, dim});
  sum_all(mul(y, Var(x))).backward();
  for (auto& [n, v] : enc.named_parameters()) {
    INFO(n);
    CHECK(v.grad().defined());
  }
  // Eval mode is deterministic and differs from the dropped-out training pass.
  ForwardContext eval;
  Tensor e1 = enc.forward(Var(x), lengths, eval).data();
  Tensor e2 = enc.forward(Var(x), lengths, eval).data();
  CHECK(e1.to_floats() == e2.to_floats());
  CHECK(e1.to_floats() != y.data().to_floats());
}

TEST_CASE("encoder: pre-LN residual structure with an identity-like block") {
  // One block whose mixer scale is 0 and whose MLP output layer is 0: the block is the
  // identity, so the encoder returns LayerNorm(x) with the final LN's default parameters.
  const int64_t dim = 4;
  Encoder enc(
      dim, 4, 1, 0.0f, [&](int) { return std::make_unique<ScaleMixer>(dim); }, 3);
  for (auto& [n, v] : enc.named_parameters())
    if (n == "blocks.0.mixer.scale" || n == "blocks.0.mlp.fc2.weight" ||
        n == "blocks.0.mlp.fc2.bias")
      v.data().zero_();
  Tensor x = f32({1, 2, 3, 4, -1, 0, 1, 2}, {1, 2, 4});
  Tensor y = enc.forward(Var(x), i32({2}, {1}), ForwardContext{}).data();
  float r = 1.0f / std::sqrt(1.25f + 1e-6f);
  check_close(y,
              {-1.5f * r, -0.5f * r, 0.5f * r, 1.5f * r, -1.5f * r, -0.5f * r, 0.5f * r, 1.5f * r},
              1e-4f);
}
