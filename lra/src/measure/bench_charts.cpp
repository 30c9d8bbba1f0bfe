// The charts of a sweep (speed and memory against length) and Figure 3 (accuracy against speed,
// memory as marker size), and writing a sweep's files.
#include <cmath>
#include <filesystem>

#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/lra/measure/report.hpp"
#include "measure/bench_util.hpp"
#include "measure/svg.hpp"

namespace lra::bench {

std::string svg_plot(const Sweep& s, const std::string& metric) {
  LRA_CHECK(metric == "steps_per_s" || metric == "memory", ConfigError,
            "bench plot: metric must be steps_per_s or memory, got ", metric);
  std::vector<svg::Line> series;
  for (const std::string& m : sweep_models(s)) {
    svg::Line se;
    se.name = display_name(m);
    for (int64_t n : sweep_lengths(s)) {
      const Result* r = find_result(s, m, n);
      se.x.push_back(double(n));
      double y = NAN;
      if (r && r->ok()) y = metric == "memory" ? double(r->alloc_peak_bytes) / 1e6 : r->steps_per_s;
      se.y.push_back(y);
    }
    series.push_back(se);
  }
  const Config& b = s.options.base;
  std::string what = b.inference ? "forward passes/s" : "training steps/s";
  std::string title = (metric == "memory" ? std::string("Peak memory") : "Speed") + ", preset " +
                      b.preset + " (batch " + std::to_string(b.batch) + ")";
  return svg::line_chart(
      title, "sequence length",
      metric == "memory" ? "allocator peak (MB, log scale)" : what + " (log scale)", series, true);
}

void write_outputs(const Sweep& s, const std::string& dir) {
  make_dirs(dir);
  write_file_atomic(dir + "/bench.md", markdown(s));
  write_file_atomic(dir + "/bench.json", json(s));
  write_file_atomic(dir + "/steps_per_s.svg", svg_plot(s, "steps_per_s"));
  write_file_atomic(dir + "/memory.svg", svg_plot(s, "memory"));
  bool twin = false;
  for (const Result& r : s.results) twin = twin || r.twin.ok();
  if (twin) write_file_atomic(dir + "/twin_speedup.svg", twin_svg(s));
}

// ---- Figure 3 --------------------------------------------------------------------------------

std::vector<TradeoffPoint> tradeoff_points(const std::vector<std::string>& run_paths,
                                           const std::string& bench_json_path, int64_t length) {
  const Report rep = make_report(run_paths);  // finished runs, grouped by model and task
  Sweep s = sweep_from_json(read_file(bench_json_path));
  if (length <= 0) {
    std::vector<int64_t> l = sweep_lengths(s);
    LRA_CHECK(!l.empty(), DataError, bench_json_path, " holds no results");
    length = l.back();
  }
  std::vector<TradeoffPoint> pts;
  for (const ReportRow& row : rep.rows) {
    double sum = 0;
    int tasks = 0;
    for (const ReportCell& c : row.cells)
      if (c.n > 0) sum += c.mean, ++tasks;
    const Result* r = find_result(s, row.model, length);
    if (tasks == 0 || !r || !r->ok()) continue;
    const double acc = row.average ? *row.average : sum / tasks;  // %, the LRA average if complete
    pts.push_back(
        {row.model, acc / 100.0, r->steps_per_s, double(r->alloc_peak_bytes) / 1e6, tasks});
  }
  return pts;
}

std::string latest_bench_json(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return "";
  std::string best;
  fs::file_time_type best_time{};
  for (const fs::directory_entry& e : fs::directory_iterator(root, ec)) {
    const std::string name = e.path().filename().string();
    const fs::path f = e.path() / "bench.json";
    if (name.rfind("bench-", 0) != 0 || name.find("inference") != std::string::npos ||
        !fs::exists(f, ec))
      continue;
    const auto t = fs::last_write_time(f, ec);
    if (best.empty() || t > best_time) best = f.string(), best_time = t;
  }
  return best;
}

std::string tradeoff_svg(const std::vector<TradeoffPoint>& points, const std::string& title) {
  double mmax = 0;
  for (const TradeoffPoint& p : points)
    if (p.steps_per_s > 0) mmax = std::max(mmax, p.memory_mb);
  std::vector<svg::Bubble> bubbles;
  for (const TradeoffPoint& p : points) {
    if (p.steps_per_s <= 0) continue;
    bubbles.push_back({p.steps_per_s, p.accuracy * 100, mmax > 0 ? p.memory_mb / mmax : 0.0,
                       display_name(p.model) + " (" + fmt("%.0f", p.memory_mb) + " MB" +
                           (p.tasks > 0 && p.tasks < 5 ? ", " + std::to_string(p.tasks) + " task" +
                                                             (p.tasks > 1 ? "s" : "")
                                                       : std::string()) +
                           ")"});
  }
  return svg::bubble_chart(title, "training steps/s (log scale)", "accuracy (%)",
                           "marker area: peak memory", bubbles);
}

}  // namespace lra::bench
