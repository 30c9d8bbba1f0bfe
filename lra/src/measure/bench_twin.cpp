// lra_cpu bench --twin: the PyTorch twin (apps/twin/torch_twin.py) measured next to each of our
// configurations, and the side-by-side table. See lra/include/lra/lra/measure/bench.hpp.
//
//   speed-up = twin median ms / our median ms      (> 1: we are faster)
//   CPU speed-up = the same with CPU time per step (all threads): less sensitive to other load
//   RSS ratio = our peak RSS / twin peak RSS       (< 1: we use less; both include the runtime:
//                                                   ~250 MB of Python + torch, ~10 MB for us)

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "lra/lra/measure/bench.hpp"
#include "lra/lra/measure/child.hpp"
#include "lra/lra/measure/mechanism_facts.hpp"
#include "measure/bench_util.hpp"
#include "measure/svg.hpp"

namespace lra::bench {
namespace {

std::string param(const Config& c, const char* name, const char* fallback) {
  auto it = c.params.find(name);
  return it == c.params.end() ? fallback : it->second;
}

}  // namespace

std::string twin_attn(const std::string& model) {
  if (model == "transformer") return "softmax";
  for (const char* m : {"local", "linformer", "linear", "performer"})
    if (model == m) return m;
  return "";
}

std::vector<std::string> twin_argv(const std::string& python, const std::string& script,
                                   const Config& c) {
  const int threads = c.threads > 0 ? c.threads : int(std::thread::hardware_concurrency());
  return {python,
          script,
          "--attn",
          twin_attn(c.model),
          "--seq-len",
          std::to_string(c.seq_len),
          "--batch",
          std::to_string(c.batch),
          "--layers",
          std::to_string(c.layers),
          "--dim",
          std::to_string(c.dim),
          "--heads",
          std::to_string(c.heads),
          "--mlp",
          std::to_string(c.mlp_dim),
          "--vocab",
          std::to_string(c.vocab),
          "--classes",
          std::to_string(c.classes),
          "--threads",
          std::to_string(threads),
          "--block",
          param(c, "block", "256"),
          "--proj-k",
          param(c, "k", "256"),
          "--features",
          param(c, "features", "256"),
          "--warmup",
          std::to_string(std::max(1, c.warmup)),
          "--steps",
          std::to_string(std::max(1, c.steps)),
          "--max-steps",
          std::to_string(std::max(1, c.steps)),
          "--min-steps",
          std::to_string(std::max(1, c.min_steps)),
          "--time-budget-s",
          fmt("%g", c.budget_s),
          "--max-step-s",
          "600",
          "--tag",
          "lra_cpu-bench/" + c.preset};
}

std::vector<std::string> twin_environment() {
  return {
      "GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_"
      "threshold=68719476736",
      "OMP_WAIT_POLICY=PASSIVE", "OPENBLAS_THREAD_TIMEOUT=4"};
}

TwinResult twin_from_json(const std::string& line) {
  TwinResult t;
  try {
    const Json j = Json::parse(line);
    if (j.value("skipped", false)) {
      t.status = "skipped";
      t.message = j.value("reason", std::string());
    } else {
      t.status = j.value("status", std::string("ok"));
      t.message = j.value("message", std::string());
    }
    t.median_ms = j.value("median_ms", 0.0);
    t.min_ms = j.value("min_ms", 0.0);
    t.max_ms = j.value("max_ms", 0.0);
    t.cpu_ms = j.value("cpu_ms", 0.0);
    if (j.contains("step_ms")) t.step_ms = j.at("step_ms").get<std::vector<double>>();
    t.timed_steps = j.value("timed_steps", 0);
    t.rss_peak_bytes = size_t(j.value("peak_rss_mb", 0.0) * 1048576.0);
    t.wall_s = j.value("wall_s", 0.0);
    if (t.status == "ok" && !(t.median_ms > 0)) t.status = "error", t.message = "no median_ms";
  } catch (const Json::exception& e) {
    t = TwinResult{};
    t.status = "error";
    t.message = std::string("malformed twin JSON: ") + e.what();
  }
  return t;
}

TwinResult run_twin(const std::string& python, const std::string& script, const Config& c) {
  TwinResult t;
  if (twin_attn(c.model).empty()) {
    t.status = "n/a";
    t.message = "not in the twin";
    return t;
  }
  const auto t0 = std::chrono::steady_clock::now();
  child::Spawn spawn{twin_argv(python, script, c), twin_environment()};
  const child::Captured run = child::run(spawn, 200, [&](size_t, double seconds) {
    return c.timeout_s > 0 && seconds > c.timeout_s
               ? "no result after " + fmt("%.0f", c.timeout_s) + " s; killed"
               : std::string();
  });
  const std::string& out = run.out;
  const std::string why = !run.started          ? run.error
                          : !run.killed.empty() ? run.killed
                                                : child::describe(run.status);
  std::istringstream lines(out);
  std::string line, last;
  while (std::getline(lines, line))
    if (!line.empty() && line[0] == '{') last = line;
  if (last.empty()) {
    t.status = "error";
    t.message = "twin printed no result" + (why.empty() ? std::string() : " (" + why + ")");
  } else {
    t = twin_from_json(last);
  }
  t.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return t;
}

std::string find_twin_script(const std::string& exe_path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> roots = {fs::current_path(ec)};
  for (fs::path p = fs::path(exe_path).parent_path(); !p.empty() && p != p.root_path();
       p = p.parent_path())
    roots.push_back(p);
  for (const fs::path& r : roots) {
    const fs::path f = r / "apps" / "twin" / "torch_twin.py";
    if (fs::exists(f, ec)) return f.string();
  }
  return "";
}

double twin_speedup(const Result& r) {
  if (!r.ok() || !r.twin.ok() || r.median_ms <= 0) return 0.0;
  return r.twin.median_ms / r.median_ms;
}

double twin_cpu_speedup(const Result& r) {
  if (!r.ok() || !r.twin.ok() || r.cpu_ms <= 0 || r.twin.cpu_ms <= 0) return 0.0;
  return r.twin.cpu_ms / r.cpu_ms;
}

double twin_rss_ratio(const Result& r) {
  if (!r.ok() || !r.twin.ok() || r.twin.rss_peak_bytes == 0) return 0.0;
  return double(r.rss_peak_bytes) / double(r.twin.rss_peak_bytes);
}

std::string twin_markdown(const Sweep& s) {
  bool any = false;
  for (const Result& r : s.results) any = any || !r.twin.status.empty();
  if (!any) return "";
  std::ostringstream o;
  o << "### Side by side with the PyTorch twin\n\n"
       "PyTorch 1.13 (apps/twin/torch_twin.py, `tuned` environment: glibc malloc keeps freed "
       "memory, passive OpenMP/OpenBLAS waiting), run in its own process right after ours on "
       "the same configuration, threads and hyper-parameters. Speed-up = twin ms / our ms (median "
       "step); CPU speed-up = the same in CPU time per step, all threads (steadier when other "
       "work shares the cores); RSS "
       "= peak resident set of the whole process (the twin's includes ~250 MB of Python and "
       "torch).\n\n"
       "| Model | N | ours ms/step | twin ms/step | speed-up | CPU speed-up | ours RSS MB | twin "
       "RSS MB | RSS ours/twin |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const Result& r : s.results) {
    if (r.twin.status.empty()) continue;
    o << "| " << facts::display_name(r.config.model) << " | " << r.config.seq_len << " | "
      << (r.ok() ? fmt("%.1f", r.median_ms) : r.status) << " | ";
    if (r.twin.ok()) {
      o << fmt("%.1f", r.twin.median_ms) << " | ";
      const double x = twin_speedup(r);
      o << (x > 0 ? "**" + fmt("%.2fx", x) + "**" : std::string("–")) << " | ";
      const double xc = twin_cpu_speedup(r);
      o << (xc > 0 ? fmt("%.2fx", xc) : std::string("–")) << " | ";
      o << (r.ok() ? fmt("%.0f", double(r.rss_peak_bytes) / 1048576.0) : "–") << " | "
        << fmt("%.0f", double(r.twin.rss_peak_bytes) / 1048576.0) << " | ";
      const double m = twin_rss_ratio(r);
      o << (m > 0 ? fmt("%.2f", m) : std::string("–")) << " |\n";
    } else {
      o << (r.twin.status == "n/a" ? std::string("n/a in twin") : r.twin.status) << " | – | – | "
        << (r.ok() ? fmt("%.0f", double(r.rss_peak_bytes) / 1048576.0) : "–") << " | – | – |\n";
    }
  }
  o << "\n";
  return o.str();
}

std::string twin_svg(const Sweep& s) {
  std::vector<std::string> models;
  std::set<int64_t> lengths;
  for (const Result& r : s.results)
    if (r.twin.ok()) {
      if (std::find(models.begin(), models.end(), r.config.model) == models.end())
        models.push_back(r.config.model);
      lengths.insert(r.config.seq_len);
    }
  std::vector<svg::Line> series;
  for (const std::string& m : models) {
    svg::Line se;
    se.name = facts::display_name(m);
    for (int64_t n : lengths) {
      double y = NAN;
      for (const Result& r : s.results)
        if (r.config.model == m && r.config.seq_len == n && twin_speedup(r) > 0)
          y = twin_speedup(r);
      se.x.push_back(double(n)), se.y.push_back(y);
    }
    series.push_back(se);
  }
  const Config& b = s.options.base;
  return svg::line_chart("Speed-up over PyTorch 1.13 (tuned), preset " + b.preset + ", batch " +
                             std::to_string(b.batch),
                         "sequence length", "twin ms / our ms per training step (log scale)",
                         series, true);
}

}  // namespace lra::bench
