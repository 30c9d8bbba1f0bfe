// lra_cpu bench --twin: the twin's command line and environment, its JSON line (ok, skipped,
// malformed), a stand-in twin process, and the side-by-side table. No PyTorch, no timings.
#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "lra/core/io.hpp"
#include "lra/lra/measure/bench.hpp"
#include "task_helpers.hpp"

using namespace lra;

namespace {
bool has(const std::vector<std::string>& v, const std::string& a, const std::string& b) {
  for (size_t i = 0; i + 1 < v.size(); ++i)
    if (v[i] == a && v[i + 1] == b) return true;
  return false;
}
}  // namespace

TEST_CASE("twin: mechanisms, command line and environment") {
  CHECK(bench::twin_attn("transformer") == "softmax");
  CHECK(bench::twin_attn("performer") == "performer");
  CHECK(bench::twin_attn("sinkhorn").empty());
  bench::Config c = bench::preset_config("tiny", "local", 2048);
  c.threads = 2;
  const auto a = bench::twin_argv("/usr/bin/python3", "twin.py", c);
  CHECK(a[0] == "/usr/bin/python3");
  CHECK(a[1] == "twin.py");
  CHECK(has(a, "--attn", "local"));
  CHECK(has(a, "--seq-len", "2048"));
  CHECK(has(a, "--batch", "8"));
  CHECK(has(a, "--layers", "2"));
  CHECK(has(a, "--dim", "64"));
  CHECK(has(a, "--mlp", "128"));
  CHECK(has(a, "--threads", "2"));
  CHECK(has(a, "--block", "256"));
  const auto env = bench::twin_environment();
  CHECK(std::find(env.begin(), env.end(), "OMP_WAIT_POLICY=PASSIVE") != env.end());
  CHECK(std::find(env.begin(), env.end(), "OPENBLAS_THREAD_TIMEOUT=4") != env.end());
}

TEST_CASE("twin: result lines") {
  bench::TwinResult t = bench::twin_from_json(
      R"({"median_ms": 100.5, "min_ms": 99, "max_ms": 120, "step_ms": [100, 101], "timed_steps": 2,
          "peak_rss_mb": 512})");
  CHECK(t.ok());
  CHECK(t.median_ms == 100.5);
  CHECK(t.step_ms.size() == 2);
  CHECK(t.rss_peak_bytes == size_t(512) * 1048576);
  bench::TwinResult s = bench::twin_from_json(R"({"skipped": true, "reason": "too slow"})");
  CHECK(s.status == "skipped");
  CHECK(s.message == "too slow");
  CHECK(bench::twin_from_json("{oops").status == "error");
}

TEST_CASE("twin: a stand-in process gets the tuned environment; n/a without running") {
  auto dir = lra_test::fresh_dir("bench_twin", "fake");
  const std::string script = (dir / "twin.sh").string();
  // prints 12 ms only when the tuned environment is set, 13 otherwise
  write_file_atomic(script,
                    "if [ \"$OMP_WAIT_POLICY\" = PASSIVE ]; then ms=12; else ms=13; fi\n"
                    "echo noise\necho \"{\\\"median_ms\\\": $ms, \\\"peak_rss_mb\\\": 300}\"\n");
  bench::Config c = bench::preset_config("tiny", "transformer", 1024);
  bench::TwinResult t = bench::run_twin("/bin/sh", script, c);
  REQUIRE_MESSAGE(t.ok(), t.message);
  CHECK(t.median_ms == 12.0);
  c.model = "sinkhorn";
  CHECK(bench::run_twin("/bin/sh", script, c).status == "n/a");
  c.model = "linear";
  CHECK(bench::run_twin("/no/such/python", script, c).status == "error");
}

TEST_CASE("twin: side-by-side table, ratios, JSON round trip and plot") {
  bench::Sweep s;
  s.options.base = bench::preset_config("tiny", "transformer", 1024);
  bench::Result a;
  a.config = bench::preset_config("tiny", "transformer", 1024);
  a.median_ms = 50, a.steps_per_s = 20, a.rss_peak_bytes = size_t(100) << 20;
  a.twin = bench::twin_from_json(R"({"median_ms": 150, "peak_rss_mb": 400})");
  bench::Result b;
  b.config = bench::preset_config("tiny", "sinkhorn", 1024);
  b.median_ms = 40, b.steps_per_s = 25;
  b.twin.status = "n/a";
  s.results = {a, b};
  CHECK(bench::twin_speedup(a) == doctest::Approx(3.0));
  CHECK(bench::twin_rss_ratio(a) == doctest::Approx(0.25));
  CHECK(bench::twin_speedup(b) == 0.0);
  CHECK(bench::twin_cpu_speedup(a) == 0.0);  // no CPU times
  bench::Result c = a;
  c.cpu_ms = 80, c.twin.cpu_ms = 240;
  CHECK(bench::twin_cpu_speedup(c) == doctest::Approx(3.0));
  const std::string md = bench::twin_markdown(s);
  CHECK(md.find("| Transformer | 1024 | 50.0 | 150.0 | **3.00x** | – | 100 | 400 | 0.25 |") !=
        std::string::npos);
  CHECK(md.find("n/a in twin") != std::string::npos);
  CHECK(bench::markdown(s).find("Side by side") != std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(bench::json(s));
  CHECK(j["results"][0]["speedup_vs_twin"].get<double>() == doctest::Approx(3.0));
  bench::Sweep back = bench::sweep_from_json(bench::json(s));
  CHECK(back.results[0].twin.median_ms == 150.0);
  CHECK(back.results[1].twin.status == "n/a");
  CHECK(bench::twin_svg(s).find("Transformer") != std::string::npos);
  bench::Sweep none;
  CHECK(bench::twin_markdown(none).empty());
}
