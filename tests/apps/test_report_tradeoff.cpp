// lra_cpu report --tradeoff: Figure 3 (accuracy against steps/s, marker = memory) from run
// folders and a bench.json, end to end through the built binary; the same figure from
// `lra_cpu suite`. No timings.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "lra/core/io.hpp"
#include "lra/lra/measure/bench.hpp"

namespace fs = std::filesystem;

namespace {

// Finished runs of `models` (test accuracy 0.6, 0.55, ...) as folders root/<model><leaf>, and a
// bench.json in dir with transformer, linear and performer at length 1024.
void fake_runs_and_bench(const fs::path& dir, const fs::path& root, const std::string& leaf) {
  const std::pair<const char*, double> acc[] = {{"transformer", 0.6}, {"linear", 0.55}};
  for (const auto& [m, a] : acc) {
    const std::string run = (root / (std::string(m) + leaf)).string();
    lra::make_dirs(run);
    lra::write_file_atomic(
        run + "/config.json",
        nlohmann::json{{"settings", {{"task", "listops"}, {"model", m}}}}.dump());
    lra::write_file_atomic(run + "/results.json",
                           nlohmann::json{{"status", "complete"}, {"test_accuracy", a}}.dump());
  }
  lra::bench::Sweep s;
  s.options.base = lra::bench::preset_config("tiny", "transformer", 1024);
  for (const auto& [m, sps] :
       {std::pair<const char*, double>{"transformer", 2.0}, {"linear", 9.0}, {"performer", 5.0}}) {
    lra::bench::Result r;
    r.config = lra::bench::preset_config("tiny", m, 1024);
    r.steps_per_s = sps, r.median_ms = 1e3 / sps, r.alloc_peak_bytes = size_t(sps * 1e7);
    s.results.push_back(r);
  }
  lra::write_file_atomic((dir / "bench.json").string(), lra::bench::json(s));
}

size_t count_circles(const std::string& text) {
  size_t circles = 0;
  for (size_t p = text.find("<circle"); p != std::string::npos; p = text.find("<circle", p + 1))
    ++circles;
  return circles;
}

}  // namespace

TEST_CASE("report --tradeoff draws one point per model found in both runs and bench") {
  const char* env = std::getenv("LRA_TEST_TMP");
  const fs::path dir = (env && *env ? fs::path(env) : fs::temp_directory_path()) / "tradeoff";
  fs::remove_all(dir);
  fs::create_directories(dir);
  // runs: two models on one task; bench: three models (performer has no run: left out)
  fake_runs_and_bench(dir, dir / "runs", "");

  const fs::path svg = dir / "fig3.svg";
  const std::string cmd = std::string(LRA_CPU_BINARY) + " report " + (dir / "runs").string() +
                          " --tradeoff " + svg.string() + " --bench " +
                          (dir / "bench.json").string() + " > " + (dir / "out.md").string() +
                          " 2> " + (dir / "err.txt").string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream f(svg);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  CHECK(text.rfind("<svg", 0) == 0);
  CHECK(text.find("Transformer") != std::string::npos);
  CHECK(text.find("Linear Trans.") != std::string::npos);
  CHECK(text.find("Performer") == std::string::npos);
  CHECK(count_circles(text) == 2);

  // without a bench it says what to give
  const std::string bad = std::string(LRA_CPU_BINARY) + " report " + (dir / "runs").string() +
                          " --tradeoff " + svg.string() + " --bench " +
                          (dir / "missing.json").string() + " > /dev/null 2>&1";
  CHECK(std::system(bad.c_str()) != 0);
}

TEST_CASE("suite --bench draws Figure 3 of its cells into OUT/figure3.svg") {
  const char* env = std::getenv("LRA_TEST_TMP");
  const fs::path dir = (env && *env ? fs::path(env) : fs::temp_directory_path()) / "suite_fig3";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fake_runs_and_bench(dir, dir / "grid" / "listops", "/seed1");
  const std::string suite = "cd " + dir.string() + " && " + std::string(LRA_CPU_BINARY) +
                            " suite --tasks listops --models transformer,linear --out grid "
                            "--report-only";
  // No bench given and none under ./runs: the report, and a note instead of the figure.
  REQUIRE(std::system((suite + " > out.txt 2>&1").c_str()) == 0);
  CHECK(lra::read_file((dir / "out.txt").string()).find("no Figure 3") != std::string::npos);
  CHECK(fs::exists(dir / "grid/report.md"));
  CHECK_FALSE(fs::exists(dir / "grid/figure3.svg"));
  // With the bench: one point per model with cells and bench figures.
  REQUIRE(std::system((suite + " --bench bench.json > out.txt 2>&1").c_str()) == 0);
  const std::string text = lra::read_file((dir / "grid/figure3.svg").string());
  CHECK(text.rfind("<svg", 0) == 0);
  CHECK(count_circles(text) == 2);
  CHECK(text.find("Performer") == std::string::npos);
  // A bench file that is not there is an error naming it.
  CHECK(std::system((suite + " --bench missing.json > out.txt 2>&1").c_str()) != 0);
  CHECK(lra::read_file((dir / "out.txt").string()).find("missing.json") != std::string::npos);
}
