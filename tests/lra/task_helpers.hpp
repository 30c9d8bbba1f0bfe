// Helpers for the task tests: scratch folders, files written from bytes, and a 3-step
// training run of the task's tiny preset on what a reader returned.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

#include "lra/core/error.hpp"
#include "lra/lra/tasks/task.hpp"
#include "lra/lra/train/trainer.hpp"

namespace lra_test {

namespace fs = std::filesystem;

// A fresh, empty folder under $LRA_TEST_TMP (or the system temp folder).
inline fs::path fresh_dir(const std::string& group, const std::string& name) {
  const char* env = std::getenv("LRA_TEST_TMP");
  fs::path d = (env && *env ? fs::path(env) : fs::temp_directory_path()) / group / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// How many times `what` occurs in `text` (overlapping occurrences count).
inline size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

inline void write_bytes(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), std::streamsize(bytes.size()));
  REQUIRE(f.good());
}

// A generated ListOps set (train/val/test examples of min_len..max_len tokens) in
// fresh_dir(group, "data"), read back with sequences cut to read_len.
inline lra::TaskData generated_listops(const std::string& group, int64_t train, int64_t val,
                                       int64_t test, int64_t min_len, int64_t max_len,
                                       int64_t read_len) {
  const fs::path d = fresh_dir(group, "data");
  lra::GenerateOptions g;
  g.train = train;
  g.val = val;
  g.test = test;
  g.min_len = min_len;
  g.max_len = max_len;
  lra::find_task("listops").generate(d.string(), g);
  return lra::find_task("listops").load(d.string(), read_len);
}

// ListOps settings: the tiny preset shrunk to a 1-layer, 16-wide model with dropout 0.1 on one
// thread, then `overrides`.
inline lra::Settings micro_listops(
    std::initializer_list<std::pair<const char*, std::string>> overrides) {
  lra::Settings s;
  for (const auto& [k, v] : lra::find_task("listops").preset("tiny").settings)
    s.set(k, v, "preset");
  for (const auto& [k, v] : {std::pair<const char*, const char*>{"layers", "1"},
                             {"dim", "16"},
                             {"heads", "2"},
                             {"qkv_dim", "16"},
                             {"mlp_dim", "32"},
                             {"dropout", "0.1"},
                             {"threads", "1"}})
    s.set(k, v, "test");
  for (const auto& [k, v] : overrides) s.set(k, v, "test");
  return s;
}

// The DataError message of fn(), or "" when it does not throw one.
template <typename Fn>
std::string data_error(Fn fn) {
  try {
    fn();
  } catch (const lra::DataError& e) {
    return e.what();
  }
  return "";
}

// Trains `steps` steps with the task's tiny preset shrunk further (1 layer, 16 wide, batch 4)
// (model `model`) and checks the run finished with finite numbers and wrote results.json.
inline lra::TrainResult train_few_steps(const lra::TaskInfo& task, const lra::TaskData& data,
                                        const fs::path& out_dir, int64_t max_len, int steps = 3,
                                        const std::string& model = "transformer") {
  lra::Settings s;
  s.set("task", task.name, "test");
  s.set("model", model, "test");
  for (const auto& [k, v] : task.preset("tiny").settings) s.set(k, v, "preset tiny");
  const std::pair<const char*, std::string> overrides[] = {{"steps", std::to_string(steps)},
                                                           {"batch", "4"},
                                                           {"layers", "1"},
                                                           {"dim", "16"},
                                                           {"heads", "2"},
                                                           {"qkv_dim", "16"},
                                                           {"mlp_dim", "32"},
                                                           {"eval_every", std::to_string(steps)},
                                                           {"eval_batches", "2"},
                                                           {"log_every", "1"},
                                                           {"max_len", std::to_string(max_len)}};
  for (const auto& [k, v] : overrides) s.set(k, v, "test");
  lra::TrainResult r = lra::train(s, task, data, out_dir.string(), {});
  CHECK(r.steps == steps);
  CHECK(std::isfinite(r.final_train_loss));
  CHECK(r.test_accuracy >= 0.0);
  CHECK(r.test_accuracy <= 1.0);
  CHECK(fs::exists(out_dir / "results.json"));
  return r;
}

}  // namespace lra_test
