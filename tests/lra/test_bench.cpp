// lra_cpu bench: the measurement of one configuration, the child-process protocol, the ratios
// and crossover, and the output formats on a tiny sweep. No assertion depends on a timing.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "lra/core/io.hpp"
#include "lra/lra/measure/bench.hpp"
#include "task_helpers.hpp"

using namespace lra;

namespace {
bench::Config tiny(const std::string& model, int64_t n) {
  bench::Config c;
  c.model = model;
  c.params = bench::default_mechanism_params(model);
  if (model == "local") c.params["block"] = "8";
  if (model == "linformer") c.params["k"] = "8";
  if (model == "performer") c.params["features"] = "8";
  c.preset = "test";
  c.seq_len = n;
  c.batch = 2, c.dim = 16, c.heads = 2, c.mlp_dim = 16, c.layers = 1, c.vocab = 32;
  c.warmup = 1, c.steps = 2, c.min_steps = 2, c.budget_s = 0.0, c.threads = 1;
  c.sgemm_n = 64;
  return c;
}

bench::Result fake(const std::string& model, int64_t n, double sps, size_t mem) {
  bench::Result r;
  r.config.model = model;
  r.config.seq_len = n;
  r.steps_per_s = sps;
  r.median_ms = 1e3 / sps;
  r.alloc_peak_bytes = mem;
  return r;
}
}  // namespace

TEST_CASE("one configuration is measured in process") {
  bench::Result r = bench::run_config(tiny("transformer", 16));
  REQUIRE_MESSAGE(r.ok(), r.message);
  CHECK(r.timed_steps == 2);  // the budget is 0: min_steps
  CHECK(r.warmup_steps == 1);
  CHECK(r.step_ms.size() == 2);
  CHECK(r.median_ms > 0);
  CHECK(r.steps_per_s == doctest::Approx(1e3 / r.median_ms));
  CHECK(r.forward_ms > 0);
  CHECK(r.backward_ms > 0);
  CHECK(r.parameters > 0);
  CHECK(r.alloc_peak_bytes > 0);
  CHECK(r.rss_peak_bytes > 0);
  CHECK(r.flops_per_step == doctest::Approx(bench::flops_per_step(r.config)));
  CHECK(r.gflops == doctest::Approx(r.flops_per_step / (r.median_ms * 1e6)));
  CHECK(r.sgemm_gflops > 0);  // the probe ran (64^3 here)  // ru_maxrss and VmRSS are sampled
                              // differently: no ordering check

  bench::Config inf = tiny("linear", 16);
  inf.inference = true;
  bench::Result ri = bench::run_config(inf);
  REQUIRE_MESSAGE(ri.ok(), ri.message);
  CHECK(ri.backward_ms == 0.0);
}

TEST_CASE("a configuration over the memory budget is reported, not crashed") {
  bench::Config c = tiny("transformer", 64);
  c.params["kernel"] = "plain";
  c.max_mem_bytes = 64 * 1024;  // 64 KiB: the parameters alone do not fit
  bench::Result r = bench::run_config(c);
  CHECK(r.status == "out_of_memory");
  CHECK(r.message.find("budget") != std::string::npos);
  // the limit is lifted afterwards
  CHECK(bench::run_config(tiny("local", 16)).ok());

  bench::Config bad = tiny("no-such-model", 16);
  bench::Result e = bench::run_config(bad);
  CHECK(e.status == "error");
  CHECK(e.message.find("no-such-model") != std::string::npos);
}

TEST_CASE("configs and results survive the JSON round trip") {
  bench::Config c = tiny("performer", 24);
  c.max_mem_bytes = 123456789;
  bench::Config c2 = bench::config_from_json(bench::config_to_json(c));
  CHECK(c2.model == "performer");
  CHECK(c2.params.at("features") == "8");
  CHECK(c2.seq_len == 24);
  CHECK(c2.max_mem_bytes == 123456789);
  bench::Result r = fake("local", 24, 12.5, 1000);
  r.step_ms = {80, 79, 81};
  bench::Result r2 = bench::result_from_json(bench::result_to_json(r));
  CHECK(r2.steps_per_s == 12.5);
  CHECK(r2.step_ms.size() == 3);
  CHECK(r2.config.model == "local");
  CHECK_THROWS_AS(bench::config_from_json("{not json"), ConfigError);
}

TEST_CASE("child processes: result line, crash and timeout") {
  bench::Config c = tiny("local", 16);
  // a stand-in child that prints a result line; the config arrives as the last argument ($0)
  bench::Result ok = bench::run_in_child(
      {"/bin/sh", "-c",
       "echo progress; echo '{\"status\":\"ok\",\"median_ms\":5,\"steps_per_s\":200}'"},
      c);
  CHECK(ok.ok());
  CHECK(ok.median_ms == 5.0);
  bench::Result crash = bench::run_in_child({"/bin/sh", "-c", "kill -9 $$"}, c);
  CHECK(crash.status == "crashed");
  CHECK(crash.message.find("signal 9") != std::string::npos);
  bench::Result quiet = bench::run_in_child({"/bin/sh", "-c", "exit 3"}, c);
  CHECK(quiet.status == "crashed");
  c.timeout_s = 0.3;
  bench::Result slow = bench::run_in_child({"/bin/sh", "-c", "sleep 5"}, c);
  CHECK(slow.status == "timeout");
  bench::Result missing = bench::run_in_child({"/no/such/binary"}, c);
  CHECK(missing.status != "ok");
}

TEST_CASE("speed-up, memory ratio and crossover against the Transformer") {
  bench::Sweep s;
  s.results = {fake("transformer", 1024, 10, 1000), fake("transformer", 2048, 5, 4000),
               fake("local", 1024, 5, 500),         fake("local", 2048, 10, 1000),
               fake("linear", 1024, 20, 500),       fake("linear", 2048, 20, 500),
               fake("sinkhorn", 1024, 2, 500),      fake("sinkhorn", 2048, 2.5, 500)};
  CHECK(bench::speedup(s, "local", 1024) == doctest::Approx(0.5));
  CHECK(bench::speedup(s, "local", 2048) == doctest::Approx(2.0));
  CHECK(bench::memory_ratio(s, "local", 2048) == doctest::Approx(0.25));
  // ratio 0.5 -> 2 between 1K and 2K: 1 at a third of the way in log length
  CHECK(bench::crossover_length(s, "local") == doctest::Approx(1024 * std::pow(2.0, 1.0 / 3.0)));
  CHECK(bench::crossover_length(s, "linear") == 0);     // faster everywhere
  CHECK(bench::crossover_length(s, "sinkhorn") == -1);  // never
  s.results[1].status = "out_of_memory";
  CHECK(bench::speedup(s, "local", 2048) == 0.0);
}

TEST_CASE("a tiny sweep writes the paper's table, JSON with the machine, and plots") {
  bench::SweepOptions o;
  o.models = {"transformer", "local", "linear"};
  o.lengths = {32, 16};
  o.base = tiny("transformer", 16);
  o.params["local"] = {{"block", "8"}};
  std::vector<std::string> seen;
  bench::Sweep s = bench::run_sweep(
      o, [](const bench::Config& c) { return bench::run_config(c); },
      [&](size_t done, size_t total, const bench::Result& r) {
        CHECK(total == 6);
        seen.push_back(r.config.model + "@" + std::to_string(r.config.seq_len));
        CHECK(done == seen.size());
      });
  REQUIRE(s.results.size() == 6);
  CHECK(seen.front() == "transformer@16");  // lengths ascending, models in the given order
  for (const bench::Result& r : s.results) CHECK_MESSAGE(r.ok(), r.message);
  CHECK(s.results[1].config.params.at("block") == "8");

  const std::string md = bench::markdown(s);
  CHECK(md.find("| Model | steps/s 16 | 32 | Mem MB 16 | 32 | crossover | paper 4K |") !=
        std::string::npos);
  CHECK(md.find("| Transformer |") != std::string::npos);
  CHECK(md.find("| Local Attention |") != std::string::npos);
  CHECK(md.find("| Linear Trans. |") != std::string::npos);
  CHECK(md.find("x)") != std::string::npos);  // ratios in brackets

  nlohmann::json j = nlohmann::json::parse(bench::json(s));
  CHECK(j["results"].size() == 6);
  CHECK(j["machine"].contains("cpu_model"));
  CHECK(j["machine"].contains("blas_core"));
  CHECK(j["machine"].contains("simd_flags"));
  CHECK(j["machine"]["threads"].is_number());
  CHECK(j["results"][0].contains("alloc_peak_bytes"));
  CHECK(j["results"][0].contains("rss_peak_bytes"));
  CHECK(j["results"][1].contains("speedup_vs_transformer"));
  CHECK(j["crossover_length"].contains("local"));

  bench::Sweep back = bench::sweep_from_json(bench::json(s));
  CHECK(back.results.size() == 6);
  CHECK(bench::markdown(back) == md);

  const std::string svg = bench::svg_plot(s, "steps_per_s");
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("Local Attention") != std::string::npos);
  CHECK(svg.find("</svg>") != std::string::npos);
  CHECK_THROWS_AS(bench::svg_plot(s, "joules"), ConfigError);

  auto dir = lra_test::fresh_dir("bench", "out");
  bench::write_outputs(s, dir.string());
  for (const char* f : {"bench.md", "bench.json", "steps_per_s.svg", "memory.svg"})
    CHECK(std::filesystem::exists(dir / f));

  // Figure 3 from run folders (as `lra_cpu report` reads them) and this bench.json
  for (const char* m : {"transformer", "local"}) {
    const std::string run = (dir / "runs" / m).string();
    make_dirs(run);
    write_file_atomic(run + "/config.json",
                      nlohmann::json{{"settings", {{"task", "listops"}, {"model", m}}}}.dump());
    write_file_atomic(run + "/results.json",
                      nlohmann::json{{"status", "complete"}, {"test_accuracy", 0.5}}.dump());
  }
  const bench::Tradeoff t =
      bench::tradeoff_points({(dir / "runs").string()}, (dir / "bench.json").string(), 0);
  const auto& pts = t.points;
  REQUIRE(pts.size() == 2);
  CHECK(pts[0].accuracy == doctest::Approx(0.5));
  CHECK(pts[0].tasks == 1);
  CHECK(pts[0].steps_per_s > 0);
  CHECK(pts[0].memory_mb > 0);
  CHECK(bench::tradeoff_svg(t, "t").find("Local Attention") != std::string::npos);
}

TEST_CASE("FLOPs per step follow the sizes and each mechanism's keys per query") {
  bench::Config c = bench::preset_config("tiny", "transformer", 512);
  c.batch = 32;
  // per layer: projections 8BND^2, MLP 4BNDM, attention 4BN^2D; training = 3x forward
  const double B = 32, N = 512, D = 64, M = 128;
  const double layer = 8 * B * N * D * D + 4 * B * N * D * M + 4 * B * N * N * D;
  CHECK(bench::flops_per_step(c) == doctest::Approx(2 * 3 * layer));
  c.inference = true;
  CHECK(bench::flops_per_step(c) == doctest::Approx(2 * layer));
  bench::Config l = bench::preset_config("tiny", "local", 512);  // block 256
  CHECK(bench::attention_flops(l) == doctest::Approx(4.0 * 8 * 512 * 256 * 64));
  l.seq_len = 128;  // a block longer than the sequence sees only the sequence
  CHECK(bench::attention_flops(l) == doctest::Approx(4.0 * 8 * 128 * 128 * 64));
  bench::Config s = bench::preset_config("tiny", "sparse", 1000);  // registry: block 50, summary 10
  CHECK(bench::attention_flops(s) ==
        doctest::Approx(4.0 * 8 * 1000 * (50 + 10 * 1000 / 50.0) * 64));
  for (const char* m : {"longformer", "linformer", "reformer", "sinkhorn", "synthesizer", "bigbird",
                        "linear", "performer"}) {
    bench::Config x = bench::preset_config("tiny", m, 1024);
    CHECK_MESSAGE(bench::attention_flops(x) > 0, m);
    CHECK_MESSAGE(bench::attention_flops(x) <=
                      bench::attention_flops(bench::preset_config("tiny", "transformer", 1024)) * 2,
                  m);
  }
  bench::Config bad = bench::preset_config("tiny", "local", 64);
  bad.params["block"] = "many";
  CHECK_THROWS(bench::attention_flops(bad));
}

TEST_CASE("repetitions pool their step times; the baseline ratio is theirs over ours") {
  bench::Result a = fake("local", 64, 10, 100), b = fake("local", 64, 5, 200);
  a.step_ms = {100, 100, 100};
  b.step_ms = {200, 200, 200};
  a.flops_per_step = 1e9;
  a.rss_peak_bytes = 10, b.rss_peak_bytes = 30;
  bench::pool_result(a, b);
  CHECK(a.runs == 2);
  CHECK(a.step_ms.size() == 6);
  CHECK(a.median_ms == doctest::Approx(150));
  CHECK(a.gflops == doctest::Approx(1e9 / 150e6));
  CHECK(a.rss_peak_bytes == 30);
  a.baseline.status = "ok";
  a.baseline.median_ms = 300;
  a.baseline.rss_peak_bytes = 60;
  a.cpu_ms = 100, a.baseline.cpu_ms = 150;
  CHECK(bench::baseline_cpu_speedup(a) == doctest::Approx(1.5));
  CHECK(bench::baseline_speedup(a) == doctest::Approx(2.0));
  CHECK(bench::baseline_rss_ratio(a) == doctest::Approx(0.5));
  bench::Result failed = fake("local", 64, 5, 200);
  failed.status = "timeout";
  failed.message = "slow";
  bench::pool_result(a, failed);
  CHECK(a.status == "timeout");
  CHECK(bench::baseline_speedup(a) == 0.0);

  // a stand-in baseline binary that prints a result line: run_repeated alternates and pools
  bench::Config c = tiny("local", 16);
  int ours = 0;
  bench::Result r = bench::run_repeated(
      c,
      [&](const bench::Config&) {
        ++ours;
        return fake("local", 16, 10, 100);
      },
      "/bin/true", 2);
  CHECK(ours == 2);
  CHECK(r.runs == 2);
  CHECK(r.baseline.status == "crashed");  // /bin/true prints no result line
  CHECK(bench::baseline_speedup(r) == 0.0);
}
