// --accumulate N: N micro-batches of batch/N per optimiser step give the whole-batch step (up
// to float rounding: the micro-batches' gradient sums add in another order), the same
// dropout masks (a piece keeps its rows' random streams) and the same accuracies; a run
// repeats bit for bit; a batch that does not split is refused naming the flags.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "lra/lra/train/distributed.hpp"
#include "lra/lra/train/trainer.hpp"
#include "lra/task_helpers.hpp"

using namespace lra;

namespace {

const TaskData& accumulate_data() {
  static TaskData data = lra_test::generated_listops("accumulate", 96, 24, 24, 10, 48, 48);
  return data;
}

struct Trace {
  std::vector<float> losses;
  std::vector<double> accuracies;  // interval accuracy after every step
  TrainResult result;
};

// A tiny ListOps run with dropout on (layers and attention), so the random streams matter.
Trace run(const std::string& model, int64_t accumulate, int64_t steps = 12) {
  const Settings s = lra_test::micro_listops({{"model", model},
                                              {"steps", std::to_string(steps)},
                                              {"batch", "8"},
                                              {"accumulate", std::to_string(accumulate)},
                                              {"attn_dropout", "0.1"},
                                              {"warmup", "2"},
                                              {"eval_every", "6"},
                                              {"log_every", "6"},
                                              {"max_len", "48"},
                                              {"seed", "3"}});
  Trace t;
  TrainHooks hooks;
  hooks.on_step = [&](const StepInfo& si) {
    t.losses.push_back(si.loss);
    t.accuracies.push_back(si.interval_accuracy);
  };
  t.result = train(s, find_task("listops"), accumulate_data(), "", hooks);
  return t;
}

void check_same_steps(const Trace& a, const Trace& b, double rel) {
  REQUIRE(a.losses.size() == b.losses.size());
  for (size_t i = 0; i < a.losses.size(); ++i) {
    INFO("step " << i + 1 << ": " << a.losses[i] << " vs " << b.losses[i]);
    CHECK(std::abs(a.losses[i] - b.losses[i]) <= rel * std::abs(a.losses[i]));
    CHECK(a.accuracies[i] == b.accuracies[i]);
  }
  CHECK(a.result.best_val_accuracy == b.result.best_val_accuracy);
  CHECK(a.result.best_step == b.result.best_step);
  CHECK(a.result.test_accuracy == b.result.test_accuracy);
}

}  // namespace

TEST_CASE("accumulate: 2 and 4 micro-batches take the whole batch's steps, dropout included") {
  for (const char* model : {"transformer", "local", "linformer"}) {
    INFO(model);
    const Trace whole = run(model, 1), two = run(model, 2), four = run(model, 4);
    check_same_steps(whole, two, 1e-5);
    check_same_steps(whole, four, 1e-5);
    // the run moved: the comparison is not of twelve equal numbers
    CHECK(whole.losses.front() != whole.losses.back());
  }
}

TEST_CASE("accumulate: the same setting repeats bit for bit") {
  const Trace a = run("transformer", 2), b = run("transformer", 2);
  CHECK(a.losses == b.losses);
  CHECK(a.result.test_accuracy == b.result.test_accuracy);
}

TEST_CASE("accumulate: pieces of a global batch and a batch that does not split") {
  // rank 1 of 2 ranks x 2 micro-batches of a batch of 8: rows 4-6 and 6-8
  const std::vector<Piece> p = batch_pieces(8, 2, 1, 2);
  REQUIRE(p.size() == 2);
  CHECK((p[0].begin == 4 && p[0].end == 6 && p[1].begin == 6 && p[1].end == 8));
  CHECK_THROWS_WITH_AS(batch_pieces(6, 1, 0, 4),
                       doctest::Contains("--batch 6 does not split into 1 rank x 4 micro-batches"),
                       ConfigError);
  CHECK_THROWS_WITH_AS(run("transformer", 3, 1), doctest::Contains("multiple of 3"), ConfigError);
  Settings s;
  CHECK_THROWS_AS(s.set("accumulate", "0", "flag --accumulate"), ConfigError);
}
