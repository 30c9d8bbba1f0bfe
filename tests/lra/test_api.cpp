// The embedding API, exercised the way the README's "Embedding" example uses it: tensors in
// and out of user memory, a Var graph and backward, an attention mechanism by name, a model
// from a preset, a checkpoint round trip, inference on token ids, memory counters, and typed
// errors (never exit or abort) for every kind of bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "lra/lra.hpp"

namespace fs = std::filesystem;

namespace {

fs::path api_dir(const std::string& name) {
  const char* env = std::getenv("LRA_TEST_TMP");
  fs::path d = (env && *env ? fs::path(env) : fs::temp_directory_path()) / "api" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A ModelSpec field by field (designated initializers that skip fields warn under -Wextra).
lra::api::ModelSpec spec_of(const std::string& task, const std::string& preset,
                            const std::string& mechanism = "transformer",
                            const std::string& params = "") {
  lra::api::ModelSpec spec;
  spec.task = task;
  spec.preset = preset;
  spec.mechanism = mechanism;
  spec.mechanism_params = params;
  return spec;
}

// ListOps expressions as token ids, as the README example builds them.
std::vector<lra::api::Sequence> listops_sequences() {
  return {lra::data::tokenize_listops("[MAX 2 9 [MIN 4 7 ] 0 ]"),
          lra::data::tokenize_listops("[SM 3 4 [MED 1 5 9 ] ]"),
          lra::data::tokenize_listops("[MIN 8 [MAX 1 2 ] 6 ]")};
}

}  // namespace

TEST_CASE("api: version header and engine info agree") {
  const lra::api::EngineInfo e = lra::api::engine_info();
  CHECK(e.version == LRA_VERSION_STRING);
  CHECK(std::to_string(LRA_VERSION_MAJOR) + "." + std::to_string(LRA_VERSION_MINOR) + "." +
            std::to_string(LRA_VERSION_PATCH) ==
        e.version);
  CHECK_FALSE(e.compiler.empty());
  CHECK_FALSE(e.cxx_flags.empty());
  CHECK(e.blas_vendor == "OpenBLAS");
  CHECK(e.blas_version.find('.') != std::string::npos);
  CHECK_FALSE(e.blas_core.empty());
  CHECK(e.blas_threads == 1);  // threading.hpp: TBB owns the cores
  CHECK(e.lra_threads >= 1);
  CHECK(e.tbb_threads >= 1);
  CHECK_FALSE(e.simd_compiled.empty());
  CHECK_FALSE(e.simd_detected.empty());
  // The library runs here, so every feature it was compiled for is detected on this CPU.
  for (const std::string& f : e.simd_compiled_features) {
    bool found = false;
    for (const std::string& g : e.simd_detected_features) found = found || f == g;
    CHECK_MESSAGE(found, "compiled for ", f, " but not detected");
  }
}

TEST_CASE("api: tensors from user memory and back") {
  std::vector<float> host = {1, 2, 3, 4, 5, 6};
  lra::Tensor a = lra::Tensor::from(host, {2, 3});
  host[0] = 100;  // from() copied: the tensor does not see later writes
  CHECK(a.at({0, 0}) == 1.0f);

  lra::Tensor t = a.transpose(0, 1);  // a strided view, copied out row-major
  std::vector<float> out(6);
  lra::api::copy_to(t, out);
  CHECK(out == std::vector<float>{1, 4, 2, 5, 3, 6});

  lra::Tensor ids = lra::Tensor::from(std::vector<int32_t>{7, 8, 9}, {3});
  std::vector<int32_t> ids_out(3);
  lra::api::copy_to(ids, ids_out);
  CHECK(ids_out == std::vector<int32_t>{7, 8, 9});

  std::vector<float> wrong(5);
  CHECK_THROWS_AS(lra::api::copy_to(a, wrong), lra::ShapeError);
  CHECK_THROWS_AS(lra::api::copy_to(a, ids_out), lra::ShapeError);  // f32 into i32
  CHECK_THROWS_AS(lra::api::copy_to(lra::Tensor(), out), lra::ShapeError);
  CHECK_THROWS_AS(lra::Tensor::from(host, {4, 2}), lra::Error);  // 6 values, 8 elements
}

TEST_CASE("api: ops, a Var graph and backward") {
  std::vector<float> host = {1, -2, 3, -4, 5, -6};
  lra::Tensor a = lra::Tensor::from(host, {2, 3});
  lra::Tensor r = lra::kern::unary(lra::kern::Unary::Relu, a);
  CHECK(r.to_floats() == std::vector<float>{1, 0, 3, 0, 5, 0});

  lra::Var x = lra::Var::param(a);
  lra::Var w = lra::Var::param(lra::Tensor::ones({3, 4}));
  lra::Var loss = lra::sum_all(lra::mul(lra::matmul(x, w), 0.5f));
  loss.backward();
  // d/dx sum(0.5 x W) = 0.5 * W 1 = 0.5 * 4 for every element; d/dW = 0.5 * column sums of x.
  for (float g : x.grad().to_floats()) CHECK(g == doctest::Approx(2.0f));
  std::vector<float> gw = w.grad().to_floats();
  CHECK(gw[0] == doctest::Approx(0.5f * (1 - 4)));
  CHECK(gw[4] == doctest::Approx(0.5f * (-2 + 5)));
  CHECK_THROWS_AS(lra::matmul(x, x), lra::ShapeError);  // (2, 3) x (2, 3)
}

TEST_CASE("api: every registered attention mechanism by name") {
  lra::attn::MechanismOptions opt;
  opt.dim = 16;
  opt.heads = 2;
  opt.qkv_dim = 16;
  opt.max_len = 32;
  lra::Tensor xt = lra::Tensor::empty({2, 32, 16});
  lra::fill_normal(xt, lra::rng_key(1, {lra::rng_tag("api-test")}), 0.0f, 1.0f);
  lra::Tensor lengths = lra::Tensor::from(std::vector<int32_t>{32, 20}, {2});
  for (const lra::attn::MechanismInfo& m : lra::attn::mechanisms()) {
    CAPTURE(m.name);
    std::unique_ptr<lra::attn::MultiHeadAttention> mech = lra::attn::make_mechanism(m.name, opt);
    lra::Var x = lra::Var::param(xt);
    lra::Var y = mech->forward(x, lengths, lra::nn::ForwardContext{});
    CHECK(y.shape() == lra::Dims{2, 32, 16});
    lra::sum_all(y).backward();
    REQUIRE(x.grad().defined());
    bool finite = true;
    for (float g : x.grad().to_floats()) finite = finite && std::isfinite(g);
    CHECK(finite);
  }
  lra::attn::MechanismOptions named = opt;
  named.params = {{"features", "8"}};
  CHECK_NOTHROW(lra::attn::make_mechanism("performer", named));
  named.params = {{"featurez", "8"}};
  CHECK_THROWS_AS(lra::attn::make_mechanism("performer", named), lra::ConfigError);
  CHECK_THROWS_AS(lra::attn::make_mechanism("no-such-attention", opt), lra::ConfigError);
}

TEST_CASE("api: model from a preset, checkpoint round trip, inference on token ids") {
  const fs::path dir = api_dir("checkpoint");
  const std::string path = (dir / "listops-tiny.safetensors").string();

  lra::api::ModelSpec spec = spec_of("listops", "tiny", "performer", "features=16");
  const lra::ModelConfig cfg = lra::api::model_config(spec);
  CHECK(cfg.vocab == lra::find_task("listops").vocab);
  CHECK(cfg.classes == 10);
  CHECK(cfg.dim == 32);      // the tiny preset
  CHECK(cfg.max_len == 40);  // tiny sets max_len
  CHECK(lra::api::resolve_settings(spec).source("dim") == "preset listops/tiny");

  std::unique_ptr<lra::LraModel> model = lra::api::make_model(spec);
  lra::api::save_checkpoint(*model, path);
  const std::vector<lra::api::Sequence> seqs = listops_sequences();
  const lra::api::Prediction p1 = lra::api::predict(*model, seqs);
  CHECK(p1.logits.shape() == lra::Dims{3, 10});
  REQUIRE(p1.labels.size() == 3);
  for (int32_t label : p1.labels) {
    CHECK(label >= 0);
    CHECK(label < 10);
  }

  // load_model rebuilds the model from the checkpoint alone (as the README example does).
  std::unique_ptr<lra::LraModel> loaded = lra::api::load_model(path);
  CHECK(loaded->config().mechanism == "performer");
  CHECK(loaded->config().mechanism_params.at("features") == "16");
  const lra::api::Prediction p2 = lra::api::predict(*loaded, seqs, {}, 2);  // 2 batches
  CHECK(p1.logits.to_floats() == p2.logits.to_floats());
  CHECK(p1.labels == p2.labels);

  // load_checkpoint restores the weights of a model built from the same spec.
  std::unique_ptr<lra::LraModel> same = lra::api::make_model(spec);
  for (lra::Var& p : same->parameters()) p.data().fill_(0.01f);
  CHECK(lra::api::predict(*same, seqs).logits.to_floats() != p1.logits.to_floats());
  lra::api::load_checkpoint(*same, path);
  CHECK(lra::api::predict(*same, seqs).logits.to_floats() == p1.logits.to_floats());

  // Another seed draws other Performer features: refused, naming the seed.
  spec.seed = 2;
  std::unique_ptr<lra::LraModel> reseeded = lra::api::make_model(spec);
  try {
    lra::api::load_checkpoint(*reseeded, path);
    FAIL("loaded a checkpoint into a model with another seed");
  } catch (const lra::CheckpointError& e) {
    CHECK(std::string(e.what()).find("seed") != std::string::npos);
  }

  // api::predict cuts a sequence longer than max_len to it (training leaves such ListOps
  // examples out instead).
  lra::api::Sequence long_seq(300, lra::data::kListOpsDigit0 + 3);
  CHECK(lra::api::predict(*model, {long_seq}).labels.size() == 1);

  // Typed errors, each naming what is wrong.
  CHECK_THROWS_AS(lra::api::predict(*model, {{1, 2, 99}}), lra::DataError);
  CHECK_THROWS_AS(lra::api::predict(*model, {{}}), lra::DataError);
  CHECK_THROWS_AS(lra::api::predict(*model, {}), lra::DataError);
  CHECK_THROWS_AS(lra::api::predict(*model, seqs, seqs), lra::ConfigError);  // not dual
  CHECK_THROWS_AS(lra::api::make_model(spec_of("no-such-task", "tiny")), lra::ConfigError);
  CHECK_THROWS_AS(lra::api::make_model(spec_of("listops", "huge")), lra::ConfigError);
  CHECK_THROWS_AS(lra::api::make_model(spec_of("listops", "tiny", "no-such-attention")),
                  lra::ConfigError);
  lra::api::ModelSpec typo = spec_of("listops", "tiny");
  typo.settings = {{"dimm", "8"}};
  CHECK_THROWS_AS(lra::api::make_model(typo), lra::ConfigError);
  CHECK_THROWS_AS(lra::api::load_checkpoint(*model, (dir / "missing.safetensors").string()),
                  lra::IoError);

  // Another mechanism with the same parameter shapes is refused by the metadata check.
  std::unique_ptr<lra::LraModel> linear =
      lra::api::make_model(spec_of("listops", "tiny", "linear"));
  try {
    lra::api::load_checkpoint(*linear, path);
    FAIL("loaded a performer checkpoint into a linear-attention model");
  } catch (const lra::CheckpointError& e) {
    CHECK(std::string(e.what()).find("mechanism") != std::string::npos);
  }
  // Another shape is refused by load_module_state, nothing loaded.
  std::unique_ptr<lra::LraModel> wide =
      lra::api::make_model(spec_of("listops", "cpu", "performer", "features=16"));
  CHECK_THROWS_AS(lra::api::load_checkpoint(*wide, path), lra::CheckpointError);
  // A truncated file is refused too.
  {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(dir / "truncated.safetensors", std::ios::binary)
        .write(bytes.data(), std::streamsize(bytes.size() / 2));
  }
  CHECK_THROWS_AS(lra::api::load_checkpoint(*model, (dir / "truncated.safetensors").string()),
                  lra::CheckpointError);
  CHECK_THROWS_AS(lra::api::load_model((dir / "truncated.safetensors").string()),
                  lra::CheckpointError);
  // A safetensors file without the model metadata: load_model says what to do instead.
  const std::string bare = (dir / "bare.safetensors").string();
  lra::nn::save_safetensors(bare, lra::nn::module_state(*model));
  try {
    lra::api::load_model(bare);
    FAIL("rebuilt a model from a checkpoint without metadata");
  } catch (const lra::CheckpointError& e) {
    CHECK(std::string(e.what()).find("load_checkpoint") != std::string::npos);
  }
  CHECK_NOTHROW(lra::api::load_checkpoint(*model, bare));  // nothing to compare: shapes only
}

TEST_CASE("api: load_model on the run folder of a short training run") {
  const fs::path dir = api_dir("run");
  lra::data::ListOpsConfig gen;
  gen.min_length = 10;
  gen.max_length = 40;
  std::vector<lra::data::Example> ex = lra::data::generate_listops(gen, 48);
  lra::TaskData data;
  data.train.examples.assign(ex.begin(), ex.begin() + 32);
  data.val.examples.assign(ex.begin() + 32, ex.begin() + 40);
  data.test.examples.assign(ex.begin() + 40, ex.end());
  const lra::TaskInfo& task = lra::find_task("listops");
  lra::api::ModelSpec spec = spec_of("listops", "tiny");
  spec.settings = {{"steps", "2"},      {"batch", "4"},    {"layers", "1"},
                   {"dim", "16"},       {"qkv_dim", "16"}, {"mlp_dim", "32"},
                   {"eval_every", "2"}, {"max_len", "40"}, {"log_every", "1"}};
  lra::train(lra::api::resolve_settings(spec), task, data, (dir / "run").string(), {});

  std::unique_ptr<lra::LraModel> model = lra::api::load_model((dir / "run").string());
  CHECK(model->config().dim == 16);
  std::vector<lra::api::Sequence> seqs;
  for (const lra::data::Example& e : data.test.examples) seqs.push_back(e.tokens);
  const lra::api::Prediction p = lra::api::predict(*model, seqs);
  CHECK(p.labels.size() == seqs.size());
  CHECK_THROWS_AS(lra::api::load_model(dir.string()), lra::ConfigError);  // not a run folder
}

TEST_CASE("api: dual-tower retrieval model takes a second document") {
  lra::api::ModelSpec spec = spec_of("retrieval", "tiny");
  spec.settings = {{"max_len", "64"}};
  std::unique_ptr<lra::LraModel> model = lra::api::make_model(spec);
  const std::vector<lra::api::Sequence> a = {lra::data::byte_tokens("graph neural networks", 0),
                                             lra::data::byte_tokens("attention", 0)};
  const std::vector<lra::api::Sequence> b = {lra::data::byte_tokens("message passing", 0),
                                             lra::data::byte_tokens("transformers", 0)};
  const lra::api::Prediction p = lra::api::predict(*model, a, b);
  CHECK(p.logits.shape() == lra::Dims{2, 2});
  CHECK_THROWS_AS(lra::api::predict(*model, a), lra::ConfigError);
}

TEST_CASE("api: allocator memory counters") {
  lra::reset_peak_memory();
  const lra::MemoryStats before = lra::memory_stats();
  {
    lra::Tensor big = lra::Tensor::zeros({1024, 1024});  // 4 MiB
    const lra::MemoryStats during = lra::memory_stats();
    CHECK(during.live_bytes >= before.live_bytes + 4u * 1024 * 1024);
    CHECK(during.peak_bytes >= during.live_bytes);
    CHECK(during.held_bytes >= during.live_bytes);
    CHECK(during.allocations > before.allocations);
  }
  const lra::MemoryStats after = lra::memory_stats();
  CHECK(after.live_bytes == before.live_bytes);
  CHECK(after.peak_bytes >= before.live_bytes + 4u * 1024 * 1024);
}

TEST_CASE("api: the Pathfinder and Path-X cpu presets hide black pixels; every mechanism runs so") {
  for (const char* task : {"pathfinder", "pathx"})
    CHECK(lra::api::resolve_settings(spec_of(task, "cpu")).get_bool("mask_zero_tokens"));
  // Two 32x32 images, mostly black: every mechanism predicts with the key mask, and the mask
  // changes what it predicts from (the logits differ from an unmasked model's).
  std::vector<lra::api::Sequence> images(2, lra::api::Sequence(1024, 0));
  for (int i = 0; i < 1024; i += 7) images[0][size_t(i)] = 255;
  for (int i = 0; i < 1024; i += 11) images[1][size_t(i)] = 128;
  for (const lra::attn::MechanismInfo& info : lra::attn::mechanisms()) {
    CAPTURE(info.name);
    lra::api::ModelSpec spec = spec_of("pathfinder", "tiny", info.name);
    spec.settings = {{"mask_zero_tokens", "true"}};
    std::unique_ptr<lra::LraModel> masked = lra::api::make_model(spec);
    spec.settings = {{"mask_zero_tokens", "false"}};
    std::unique_ptr<lra::LraModel> plain = lra::api::make_model(spec);
    const lra::Tensor a = lra::api::predict(*masked, images).logits;
    const lra::Tensor b = lra::api::predict(*plain, images).logits;
    float diff = 0.0f;
    for (int64_t i = 0; i < a.numel(); ++i) {
      CHECK(std::isfinite(a.data<float>()[i]));
      diff = std::max(diff, std::fabs(a.data<float>()[i] - b.data<float>()[i]));
    }
    CHECK(diff > 1e-6f);
  }
}

TEST_CASE("api: positions=sinusoidal2d on pixel tasks, refused on a non-square length") {
  const fs::path dir = api_dir("positions2d");
  const std::string path = (dir / "pathfinder-2d.safetensors").string();
  lra::api::ModelSpec spec = spec_of("pathfinder", "tiny");
  spec.settings = {{"positions", "sinusoidal2d"}, {"pooling", "cls"}};
  std::unique_ptr<lra::LraModel> model = lra::api::make_model(spec);
  CHECK(model->config().positions == lra::nn::Positions::Sinusoidal2D);
  CHECK(model->config().position_grid_side() == 32);
  // Only the positions differ from a learned-positions model: one (N + 1) x D table fewer.
  spec.settings = {{"positions", "learned"}, {"pooling", "cls"}};
  CHECK(lra::api::make_model(spec)->num_parameters() - model->num_parameters() == 1025 * 32);

  std::vector<lra::api::Sequence> images(2, lra::api::Sequence(1024, 0));
  for (int i = 0; i < 1024; i += 5) images[0][size_t(i)] = 200;
  for (int i = 0; i < 1024; i += 3) images[1][size_t(i)] = 90;
  const lra::api::Prediction p1 = lra::api::predict(*model, images);
  lra::api::save_checkpoint(*model, path);
  std::unique_ptr<lra::LraModel> loaded = lra::api::load_model(path);
  CHECK(loaded->config().positions == lra::nn::Positions::Sinusoidal2D);
  CHECK(lra::api::predict(*loaded, images).logits.to_floats() == p1.logits.to_floats());

  // ListOps' 2000 tokens are no square image: refused, naming the setting and the length.
  spec = spec_of("listops", "cpu");
  spec.settings = {{"positions", "sinusoidal2d"}};
  try {
    lra::api::make_model(spec);
    FAIL("built a 2D position table for a non-square length");
  } catch (const lra::ConfigError& e) {
    CHECK(std::string(e.what()).find("sinusoidal2d") != std::string::npos);
    CHECK(std::string(e.what()).find("not a square") != std::string::npos);
  }
  spec.settings = {{"positions", "spiral"}};
  CHECK_THROWS_AS(lra::api::make_model(spec), lra::ConfigError);
}

TEST_CASE("api: a checkpoint records its task; tokenize and class names per task") {
  const fs::path dir = api_dir("task");
  const std::string path = (dir / "text-tiny.safetensors").string();
  std::unique_ptr<lra::LraModel> text = lra::api::make_model(spec_of("text", "tiny"));
  CHECK(text->config().task == "text");
  lra::api::save_checkpoint(*text, path);

  // Round trip: the task comes back, and predict names the classes.
  std::unique_ptr<lra::LraModel> loaded = lra::api::load_model(path, "text");
  CHECK(loaded->config().task == "text");
  const lra::api::Prediction p = lra::api::predict(
      *loaded, {lra::api::tokenize("text", "a fine film"), lra::api::tokenize("text", "dull")});
  REQUIRE(p.names.size() == 2);
  for (size_t i = 0; i < 2; ++i)
    CHECK(p.names[i] == lra::api::class_names("text").at(size_t(p.labels[i])));

  // Loading it for another task's tokens is refused, naming both tasks.
  try {
    lra::api::load_model(path, "listops");
    FAIL("loaded a text model for listops tokens");
  } catch (const lra::CheckpointError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("'text'") != std::string::npos);
    CHECK(msg.find("'listops'") != std::string::npos);
  }
  // Retrieval has text's vocabulary and classes: only the record tells them apart.
  CHECK_THROWS_AS(lra::api::load_model(path, "retrieval"), lra::CheckpointError);
  CHECK_THROWS_AS(lra::api::load_model(path, "no-such-task"), lra::ConfigError);
  // load_checkpoint into a model of another task with the same shapes is refused too.
  lra::ModelConfig other_task = text->config();
  other_task.task = "retrieval";
  lra::LraModel other(other_task);
  try {
    lra::api::load_checkpoint(other, path);
    FAIL("loaded a text checkpoint into a model for retrieval");
  } catch (const lra::CheckpointError& e) {
    CHECK(std::string(e.what()).find("task") != std::string::npos);
  }

  // A checkpoint saved before the record: loads (with a note), checked by vocabulary and
  // classes when a task is asked for.
  const std::string old = (dir / "old.safetensors").string();
  {
    std::map<std::string, std::string> meta;
    lra::nn::NamedTensors state = lra::nn::load_safetensors(path, &meta);
    REQUIRE(meta.erase("lra.model.task") == 1);
    lra::nn::save_safetensors(old, state, meta);
  }
  std::unique_ptr<lra::LraModel> old_model = lra::api::load_model(old);
  CHECK(old_model->config().task.empty());
  CHECK(lra::api::predict(*old_model, {{5, 6}}).names.empty());
  CHECK_NOTHROW(lra::api::load_model(old, "text"));
  CHECK_THROWS_AS(lra::api::load_model(old, "listops"), lra::CheckpointError);
  CHECK_NOTHROW(lra::api::load_checkpoint(*text, old));  // nothing recorded to compare
  // A recorded task that disagrees with the recorded vocabulary: a damaged file.
  {
    std::map<std::string, std::string> meta;
    lra::nn::NamedTensors state = lra::nn::load_safetensors(path, &meta);
    meta["lra.model.task"] = "image";
    lra::nn::save_safetensors((dir / "edited.safetensors").string(), state, meta);
  }
  CHECK_THROWS_AS(lra::api::load_model((dir / "edited.safetensors").string()),
                  lra::CheckpointError);

  // tokenize: each task's own tokens.
  CHECK(lra::api::tokenize("listops", "[MAX 2 9 ]") ==
        lra::api::Sequence{lra::data::kListOpsMax, lra::data::kListOpsDigit0 + 2,
                           lra::data::kListOpsDigit0 + 9, lra::data::kListOpsEnd});
  CHECK_THROWS_AS(lra::api::tokenize("listops", "[MAX 2 banana ]"), lra::DataError);
  CHECK(lra::api::tokenize("text", "Ab") == lra::api::Sequence{'A' + 1, 'b' + 1});
  CHECK(lra::api::tokenize("retrieval", std::string("\xff", 1)) == lra::api::Sequence{256});
  for (const char* task : {"image", "pathfinder", "pathfinder64", "pathx"}) {
    const int64_t n = lra::find_task(task).seq_len;
    std::string pixels(size_t(n), '\0');
    pixels[1] = char(200);
    pixels.back() = char(255);
    const lra::api::Sequence s = lra::api::tokenize(task, pixels);
    REQUIRE(int64_t(s.size()) == n);
    CHECK(s[0] == 0);
    CHECK(s[1] == 200);
    CHECK(s.back() == 255);
    CHECK_THROWS_AS(lra::api::tokenize(task, "short"), lra::DataError);
  }
  CHECK_THROWS_AS(lra::api::tokenize("no-such-task", "x"), lra::ConfigError);

  // Class names, index = label.
  CHECK(lra::api::class_names("listops").size() == 10);
  CHECK(lra::api::class_names("listops")[7] == "7");
  CHECK(lra::api::class_names("text") == std::vector<std::string>{"negative", "positive"});
  CHECK(lra::api::class_names("retrieval") == std::vector<std::string>{"unrelated", "linked"});
  CHECK(lra::api::class_names("image").size() == 10);
  CHECK(lra::api::class_names("image")[0] == "airplane");
  CHECK(lra::api::class_names("pathfinder") ==
        std::vector<std::string>{"disconnected", "connected"});
}
