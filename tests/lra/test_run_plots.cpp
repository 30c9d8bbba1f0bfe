// lra_cpu plot: several runs' curves on one SVG (lra/measure/run_plots.hpp).
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/lra/measure/run_plots.hpp"
#include "task_helpers.hpp"

using namespace lra;
namespace fs = std::filesystem;

namespace {

void fake_run(const fs::path& dir, double acc0) {
  make_dirs(dir.string());
  write_file_atomic((dir / "config.json").string(), R"({"settings": {"task": "listops"}})");
  std::string lines;
  for (int step : {100, 200, 300})
    lines += nlohmann::json{{"step", step},
                            {"split", "val"},
                            {"loss", 2.0 - step / 1e3},
                            {"accuracy", acc0 + step / 1e4}}
                 .dump() +
             "\n";
  write_file_atomic((dir / "metrics.jsonl").string(), lines);
}

}  // namespace

TEST_CASE("plot: two runs give two series with a legend; runs/* skips what is not a run") {
  const fs::path dir = lra_test::fresh_dir("run_plots", "two");
  fake_run(dir / "runs" / "a-run", 0.2);
  fake_run(dir / "runs" / "b-run", 0.3);
  make_dirs((dir / "runs" / "bench-tiny").string());  // a bench folder, as runs/* would give
  const std::string runs = (dir / "runs").string();
  RunsPlot p = plot_runs({runs + "/a-run", runs + "/b-run", runs + "/bench-tiny"}, "val_accuracy");
  CHECK(p.runs.size() == 2);
  REQUIRE(p.skipped.size() == 1);
  CHECK(p.skipped[0].find("bench-tiny") != std::string::npos);
  CHECK(lra_test::count_of(p.svg, "<path d=") == 2);
  CHECK(lra_test::count_of(p.svg, ">a-run<") == 1);
  CHECK(lra_test::count_of(p.svg, ">b-run<") == 1);
  // a folder of runs is opened one level
  CHECK(plot_runs({runs}, "val_loss").runs.size() == 2);
}

TEST_CASE("plot: a bad run folder or metric gives a clear error") {
  const fs::path dir = lra_test::fresh_dir("run_plots", "bad");
  CHECK_THROWS_WITH_AS(plot_runs({(dir / "missing").string()}, "val_accuracy"),
                       doctest::Contains("does not exist"), CheckpointError);
  make_dirs((dir / "empty").string());
  CHECK_THROWS_WITH_AS(plot_runs({(dir / "empty").string()}, "val_accuracy"),
                       doctest::Contains("not a run folder"), CheckpointError);
  make_dirs((dir / "nometrics").string());
  write_file_atomic((dir / "nometrics" / "config.json").string(), "{}");
  CHECK_THROWS_WITH_AS(plot_runs({(dir / "nometrics").string()}, "val_accuracy"),
                       doctest::Contains("has no metrics.jsonl"), CheckpointError);
  fake_run(dir / "ok", 0.1);
  CHECK_THROWS_WITH_AS(plot_runs({(dir / "ok").string()}, "train_loss"),
                       doctest::Contains("no run has a train loss record"), CheckpointError);
  CHECK_THROWS_AS(plot_runs({(dir / "ok").string()}, "joules"), ConfigError);
}
