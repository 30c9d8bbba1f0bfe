// Golden tests, as llm.c's test_gpt2 has them: for each mechanism the PyTorch twin implements,
// tests/golden/<mechanism>.safetensors holds a tiny model's parameters (2 layers, dim 16, 2 heads,
// N 32, batch 2, dropout 0), a fixed batch, and what PyTorch computed for it in float64: logits,
// loss and every parameter's gradient (tests/golden/make_golden.py; docs/performance.md section 4
// says how to regenerate). Here lra_cpu loads the same parameters, runs forward and backward in
// float32, and must match all of it.
//
// Tolerance: |ours - ref| <= kRtol (|ref| + rms(ref)) per element, kRtol = 1e-5. Float32 rounds
// each operation to 6e-8 relative; through 2 blocks of LayerNorm, attention and MLP the largest
// error measured over all files is 1.6e-6 (as large as PyTorch's own float32 run against its
// float64 one), so 1e-5 leaves a 6x margin for other BLAS kernels. A change of the math moves
// some entry by more, measured: a softmax scale 0.1% off 4e-4 (transformer) and 3e-3
// (linformer), blocks of 9 instead of 8 0.28, a slope of 1.01 in the elu+1 backward 1.6e-2,
// the Performer's eps x10 4.9e-4, and treating its queries' |x'|^2/2 as a detached constant
// (an O(eps) change of the gradient only) 2.4e-5.
// The rms term keeps near-zero entries from demanding a relative accuracy float32 cannot give.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>

#include "lra/core/text.hpp"
#include "lra/lra/train/model.hpp"
#include "lra/nn/checkpoint.hpp"
#include "lra/nn/loss.hpp"

using namespace lra;

namespace {

constexpr double kRtol = 1e-5;

struct Golden {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> meta;

  const Tensor& operator[](const std::string& name) const {
    auto it = tensors.find(name);
    REQUIRE_MESSAGE(it != tensors.end(), "the golden file has no tensor '", name, "'");
    return it->second;
  }
  int64_t number(const std::string& key) const {
    auto it = meta.find(key);
    REQUIRE_MESSAGE(it != meta.end(), "the golden file's metadata has no '", key, "'");
    return to_int(it->second, "golden metadata " + key);
  }
};

Golden load_golden(const std::string& mechanism) {
  const std::filesystem::path path =
      std::filesystem::path(LRA_SOURCE_DIR) / "tests" / "golden" / (mechanism + ".safetensors");
  REQUIRE_MESSAGE(std::filesystem::exists(path), path.string(),
                  " is missing: regenerate it with tests/golden/make_golden.py");
  Golden g;
  for (auto& [name, t] : nn::load_safetensors(path.string(), &g.meta)) g.tensors[name] = t;
  return g;
}

ModelConfig config_of(const Golden& g) {
  ModelConfig c;
  c.mechanism = g.meta.at("mechanism");
  c.mechanism_params = attn::parse_param_list(g.meta.at("mechanism_params"));
  c.vocab = g.number("vocab");
  c.max_len = g.number("max_len");
  c.dim = g.number("dim");
  c.qkv_dim = c.dim;
  c.heads = g.number("heads");
  c.mlp_dim = g.number("mlp_dim");
  c.layers = int(g.number("layers"));
  c.classes = g.number("classes");
  c.seed = uint64_t(g.number("seed"));
  c.dropout = c.attn_dropout = 0.0f;
  c.pooling = nn::Pooling::Mean;
  c.positions = nn::Positions::Learned;
  return c;
}

// Largest |got - want| / (|want| + rms(want)) over the elements; shapes must agree.
double relative_error(const std::string& name, const Tensor& got, const Tensor& want) {
  INFO(name << ": got " << got.describe() << ", want " << want.describe());
  REQUIRE(got.shape() == want.shape());
  const std::vector<float> a = got.to_floats(), b = want.to_floats();
  double rms = 0.0;
  for (float v : b) rms += double(v) * double(v);
  rms = std::sqrt(rms / double(std::max<size_t>(1, b.size())));
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i)
    worst =
        std::max(worst, std::fabs(double(a[i]) - double(b[i])) / (std::fabs(double(b[i])) + rms));
  return worst;
}

void check_close(const std::string& name, const Tensor& got, const Tensor& want) {
  const double err = relative_error(name, got, want);
  INFO(name << ": largest error " << err << " (relative to |ref| + rms(ref)), bound " << kRtol);
  CHECK(err <= kRtol);
}

void check_golden(const std::string& mechanism) {
  const Golden g = load_golden(mechanism);
  REQUIRE(g.meta.at("mechanism") == mechanism);
  ModelConfig cfg = config_of(g);
  LraModel model(cfg);

  // The parameters, under the names of lra_cpu's checkpoints (load refuses any mismatch).
  nn::NamedTensors params;
  for (const auto& [name, t] : g.tensors)
    if (name.rfind("param/", 0) == 0) params.emplace_back(name.substr(6), t);
  nn::load_module_state(model, params, mechanism + ".safetensors");

  // The Performer's features: the file must hold the projection each layer of this model draws.
  if (mechanism == "performer") {
    const auto buffers = model.named_buffers();
    REQUIRE(buffers.size() == size_t(cfg.layers));
    for (int layer = 0; layer < cfg.layers; ++layer) {
      const auto& [name, ours] = buffers[size_t(layer)];
      INFO(name << ": regenerate the golden file if the draw changed on purpose");
      CHECK(ours.to_floats() == g["projection/" + std::to_string(layer)].to_floats());
    }
  }

  data::Batch batch;
  batch.tokens = g["input/tokens"];
  batch.lengths = g["input/lengths"];
  batch.labels = g["input/labels"];
  nn::ForwardContext ctx;
  ctx.training = true;  // dropout 0: the same as evaluation, and the path training takes
  Var logits = model.forward(batch, ctx);
  Var loss = nn::classification_loss(logits, batch.labels).loss;
  loss.backward();

  check_close("logits", logits.data(), g["output/logits"]);
  check_close("loss", loss.data().reshape({1}), g["output/loss"]);
  int compared = 0;
  for (const auto& [name, p] : model.named_parameters()) {
    REQUIRE_MESSAGE(p.grad().defined(), name, " got no gradient");
    check_close("grad of " + name, p.grad(), g["grad/" + name]);
    ++compared;
  }
  CHECK(compared == int(params.size()));
}

}  // namespace

TEST_CASE("golden: transformer (flash kernel, 4 tiles) matches PyTorch") {
  check_golden("transformer");
}
TEST_CASE("golden: local (blocks of 8) matches PyTorch") {
  check_golden("local");
}
TEST_CASE("golden: linformer (k = 8, shared E) matches PyTorch") {
  check_golden("linformer");
}
TEST_CASE("golden: linear (elu + 1) matches PyTorch") {
  check_golden("linear");
}
TEST_CASE("golden: performer (16 FAVOR+ features) matches PyTorch") {
  check_golden("performer");
}
