// The `reversible` model option end to end: a short Reformer training run through the trainer
// (loss finite and falling), and checkpoints of one kind refused by the other.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "lra/lra/train/api.hpp"
#include "lra/lra/train/run.hpp"
#include "lra/lra/train/trainer.hpp"
#include "lra/task_helpers.hpp"

using namespace lra;
using lra_test::fresh_dir;
namespace fs = std::filesystem;

namespace {

const TaskData& small_listops() {
  static TaskData data = lra_test::generated_listops("reversible", 64, 16, 16, 10, 40, 48);
  return data;
}

Settings reformer_settings(bool reversible) {
  Settings s;
  for (const auto& [k, v] : find_task("listops").preset("tiny").settings) s.set(k, v, "preset");
  const std::pair<const char*, const char*> o[] = {
      {"model", "reformer"}, {"steps", "40"},         {"batch", "8"},        {"layers", "2"},
      {"dim", "16"},         {"heads", "2"},          {"qkv_dim", "16"},     {"mlp_dim", "32"},
      {"dropout", "0.1"},    {"attn_dropout", "0.1"}, {"warmup", "2"},       {"lr", "3e-3"},
      {"eval_every", "40"},  {"log_every", "8"},      {"eval_batches", "1"}, {"max_len", "48"},
      {"threads", "1"},      {"attn", "n_hashes=2"}};
  for (const auto& [k, v] : o) s.set(k, v, "test");
  s.set("reversible", reversible ? "true" : "false", "test");
  return s;
}

}  // namespace

TEST_CASE("reversible reformer: a short training run has a finite, falling loss") {
  const Settings s = reformer_settings(true);
  fs::path dir = fresh_dir("reversible", "run");
  fs::remove_all(dir);
  std::vector<float> losses;
  TrainHooks h;
  h.on_step = [&](const StepInfo& si) { losses.push_back(si.loss); };
  TrainOptions o;
  o.out_dir = dir.string();
  TrainResult r = train(s, find_task("listops"), small_listops(), o, h);
  REQUIRE(losses.size() == 40);
  double first = 0.0, last = 0.0;
  for (size_t i = 0; i < 8; ++i) {
    CHECK(std::isfinite(losses[i]));
    CHECK(std::isfinite(losses[losses.size() - 1 - i]));
    first += losses[i] / 8.0;
    last += losses[losses.size() - 1 - i] / 8.0;
  }
  MESSAGE("mean loss of steps 1-8: ", first, ", of steps 33-40: ", last);
  CHECK(last < first - 0.1);
  CHECK(std::isfinite(r.test_loss));

  // The run folder records the option; a standard model refuses the reversible weights.
  CHECK(read_run(dir.string()).settings.get_bool("reversible"));
  LraModel standard(model_config(reformer_settings(false), find_task("listops")));
  std::string msg;
  try {
    load_weights(standard, (dir / run_files::best).string(), "listops");
  } catch (const CheckpointError& e) {
    msg = e.what();
  }
  CHECK(msg.find("does not match the model") != std::string::npos);
  CHECK(msg.find("missing 'encoder.blocks.0.ln1.weight'") != std::string::npos);
  // load_model rebuilds the reversible model from the run folder
  std::unique_ptr<LraModel> back = api::load_model(dir.string());
  CHECK(back->config().reversible);
}

TEST_CASE("reversible checkpoints: metadata round trip, the other kind refused both ways") {
  api::ModelSpec spec;
  spec.mechanism = "reformer";
  spec.settings = {{"reversible", "true"}, {"layers", "1"},   {"dim", "16"},
                   {"qkv_dim", "16"},      {"mlp_dim", "16"}, {"max_len", "32"}};
  std::unique_ptr<LraModel> rev = api::make_model(spec);
  CHECK(rev->config().reversible);
  CHECK_THROWS_AS(rev->encoder(), ConfigError);
  spec.settings[0].second = "false";
  std::unique_ptr<LraModel> plain = api::make_model(spec);
  CHECK_THROWS_AS(plain->reversible_encoder(), ConfigError);

  fs::path dir = fresh_dir("reversible", "ckpt");
  const std::string rev_path = (dir / "rev.safetensors").string();
  const std::string plain_path = (dir / "plain.safetensors").string();
  api::save_checkpoint(*rev, rev_path);
  api::save_checkpoint(*plain, plain_path);
  for (auto [model, path] : {std::pair{plain.get(), rev_path}, std::pair{rev.get(), plain_path}}) {
    std::string msg;
    try {
      api::load_checkpoint(*model, path);
    } catch (const CheckpointError& e) {
      msg = e.what();
    }
    INFO(msg);
    CHECK(msg.find("was saved from another model") != std::string::npos);
    CHECK(msg.find("reversible: checkpoint") != std::string::npos);
  }
  std::unique_ptr<LraModel> loaded = api::load_model(rev_path);
  CHECK(loaded->config().reversible);
  api::Prediction a = api::predict(*rev, {{2, 7, 14, 15}, {1, 5, 9, 15}});
  api::Prediction b = api::predict(*loaded, {{2, 7, 14, 15}, {1, 5, 9, 15}});
  CHECK(a.logits.to_floats() == b.logits.to_floats());
}
