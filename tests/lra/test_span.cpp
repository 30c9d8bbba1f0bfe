// The attention-span metric (LRA section 2.3) on hand-made weights, through a model's dense
// faces, and on a run folder laid out as `lra_cpu train` writes one (lra/train/run.hpp).
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "lra/core/io.hpp"
#include "lra/core/kernels.hpp"
#include "lra/lra/measure/span.hpp"
#include "lra/lra/tasks/task.hpp"
#include "lra/lra/train/run.hpp"
#include "lra/nn/checkpoint.hpp"
#include "task_helpers.hpp"

using namespace lra;

TEST_CASE("span of hand-made weights: the header's worked example and simple patterns") {
  // rows [1 0 0], [0.5 0.5 0], [0 0 1]: (0 + 0.5 + 0) / 3
  Tensor w = Tensor::from(std::vector<float>{1, 0, 0, 0.5f, 0.5f, 0, 0, 0, 1}, {1, 1, 3, 3});
  CHECK(span::attention_span(w).item() == doctest::Approx(1.0 / 6.0));

  // identity: every query attends itself
  std::vector<float> eye(16, 0.0f);
  for (int i = 0; i < 4; ++i) eye[size_t(i * 4 + i)] = 1.0f;
  CHECK(span::attention_span(Tensor::from(eye, {1, 1, 4, 4})).item() == 0.0f);

  // uniform over 4 keys: rows 1.5, 1, 1, 1.5 -> 1.25
  CHECK(span::attention_span(Tensor::full({1, 1, 4, 4}, 0.25f)).item() == doctest::Approx(1.25));

  // every query attends key 0 only: mean of i = 1.5
  std::vector<float> first(16, 0.0f);
  for (int i = 0; i < 4; ++i) first[size_t(i * 4)] = 1.0f;
  CHECK(span::attention_span(Tensor::from(first, {1, 1, 4, 4})).item() == doctest::Approx(1.5));
}

TEST_CASE("span per (batch, head), counting only valid queries and keys") {
  // B = 2, H = 2, N = 4. Head 0 uniform, head 1 identity; sequence 1 has length 2.
  Tensor w = Tensor::zeros({2, 2, 4, 4});
  for (int b = 0; b < 2; ++b) {
    const int n = b == 0 ? 4 : 2;
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) w.data<float>()[((b * 2 + 0) * 4 + i) * 4 + j] = 1.0f / float(n);
      w.data<float>()[((b * 2 + 1) * 4 + i) * 4 + i] = 1.0f;
    }
  }
  Tensor lengths = Tensor::from(std::vector<int32_t>{4, 2}, {2});
  Tensor s = span::attention_span(w, lengths);
  REQUIRE(s.shape() == Dims{2, 2});
  CHECK(s.at({0, 0}) == doctest::Approx(1.25));
  CHECK(s.at({0, 1}) == 0.0f);
  CHECK(s.at({1, 0}) == doctest::Approx(0.5));  // rows [.5 .5]: 0.5 and 0.5
  CHECK(s.at({1, 1}) == 0.0f);
  CHECK_THROWS_AS(span::attention_span(Tensor::zeros({2, 3, 4})), ShapeError);
}

namespace {
ModelConfig small_model(const std::string& mechanism, std::map<std::string, std::string> params) {
  ModelConfig mc;
  mc.mechanism = mechanism;
  mc.mechanism_params = std::move(params);
  mc.vocab = 20;
  mc.max_len = 12;
  mc.dim = 16;
  mc.heads = 2;
  mc.qkv_dim = 16;
  mc.mlp_dim = 32;
  mc.layers = 2;
  mc.dropout = mc.attn_dropout = 0.0f;
  mc.seed = 3;
  return mc;
}
}  // namespace

TEST_CASE("model spans read each layer's dense face") {
  Tensor tokens = Tensor::empty({2, 12}, DType::I32);
  for (int i = 0; i < 24; ++i) tokens.data<int32_t>()[i] = 1 + i % 19;
  Tensor lengths = Tensor::from(std::vector<int32_t>{12, 7}, {2});

  LraModel local(small_model("local", {{"block", "1"}}));  // each query sees itself only
  Tensor s = span::model_spans(local, tokens, lengths);
  REQUIRE(s.shape() == Dims{2, 2, 2});
  CHECK(kern::max_abs(s) == 0.0f);

  LraModel full(small_model("transformer", {}));
  Tensor t = span::model_spans(full, tokens, lengths);
  for (float v : t.to_floats()) {
    CHECK(v > 0.5f);  // softmax weights spread over every valid key
    CHECK(v < 11.0f);
  }
  // a query can be at most len - 1 away from any key
  CHECK(t.at({0, 1, 0}) < 6.0f);
}

TEST_CASE("span of a run folder: settings, best checkpoint and validation data") {
  auto dir = lra_test::fresh_dir("span", "run");
  const TaskInfo& task = find_task("listops");
  GenerateOptions g;
  g.train = 8, g.val = 6, g.test = 4, g.min_len = 10, g.max_len = 30, g.seed = 2;
  const std::string data_dir = (dir / "data").string();
  task.generate(data_dir, g);

  for (const char* mech : {"local", "transformer"}) {
    const std::string run = (dir / mech).string();
    make_dirs(run);
    nlohmann::json cfg = {{"settings",
                           {{"task", {{"value", "listops"}, {"source", "flag"}}},
                            {"model", {{"value", mech}, {"source", "flag"}}},
                            {"attn", std::string(mech) == "local" ? "block=1" : ""},
                            {"data", data_dir},
                            {"max_len", "30"},
                            {"layers", "1"},
                            {"dim", "16"},
                            {"heads", "2"},
                            {"qkv_dim", "16"},
                            {"mlp_dim", "16"},
                            {"threads", 1},
                            {"seed", 4}}},
                          {"data_dir", data_dir}};
    write_file_atomic(run + "/config.json", cfg.dump());
    // the parameters as `train` saves them
    Settings s;
    for (auto& [k, v] : cfg["settings"].items())
      if (s.has(k))
        s.set(k,
              v.is_object()   ? v["value"].get<std::string>()
              : v.is_string() ? v.get<std::string>()
                              : v.dump(),
              "test");
    LraModel model(model_config(s, task));
    save_checked(run + "/best.safetensors", nn::module_state(model),
                 {{"task", "listops"}, {"model", mech}});

    span::Options opt;
    opt.samples = 5;
    span::Result r = span::measure_run(run, opt);
    CHECK(r.task == "listops");
    CHECK(r.model == mech);
    CHECK(r.samples == 5);
    CHECK(r.per_layer.size() == 1);
    CHECK(r.per_head.at(0).size() == 2);
    CHECK(r.mean_length > 5);
    if (std::string(mech) == "local")
      CHECK(r.span == 0.0);
    else
      CHECK(r.span > 1.0);
    std::string md = span::markdown({r});
    CHECK(md.find("| listops |") != std::string::npos);
    CHECK(span::svg({r}).rfind("<svg", 0) == 0);
    CHECK(nlohmann::json::parse(span::json(r))["samples"] == 5);
  }
  CHECK_THROWS_AS(span::measure_run((dir / "nowhere").string(), {}), ConfigError);
}
