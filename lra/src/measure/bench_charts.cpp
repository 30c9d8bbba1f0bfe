// The charts of a sweep (speed and memory against length) and Figure 3 (accuracy against speed,
// memory as marker size), and writing a sweep's files.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/lra/measure/mechanism_facts.hpp"
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
    se.name = facts::display_name(m);
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
  // Lines that coincide at every length are named together, so none hides under another.
  std::string caption;
  std::vector<bool> done(series.size());
  for (size_t i = 0; i < series.size(); ++i) {
    std::string same;
    for (size_t j = i + 1; j < series.size(); ++j)
      if (!done[j] && series[j].y == series[i].y) same += ", " + series[j].name, done[j] = true;
    if (!same.empty())
      caption += std::string(caption.empty() ? "Equal at every length, so drawn on top of one "
                                               "another:"
                                             : "") +
                 "\n  " + series[i].name + same;
  }
  return svg::line_chart(
      title, "sequence length",
      metric == "memory" ? "allocator peak (MB, log scale)" : what + " (log scale)", series, true,
      caption);
}

void write_outputs(const Sweep& s, const std::string& dir) {
  make_dirs(dir);
  write_file_atomic(dir + "/bench.md", markdown(s));
  write_file_atomic(dir + "/bench.json", json(s));
  write_charts(s, dir);
}

void write_charts(const Sweep& s, const std::string& dir) {
  make_dirs(dir);
  write_file_atomic(dir + "/steps_per_s.svg", svg_plot(s, "steps_per_s"));
  write_file_atomic(dir + "/memory.svg", svg_plot(s, "memory"));
  bool twin = false;
  for (const Result& r : s.results) twin = twin || r.twin.ok();
  if (twin) write_file_atomic(dir + "/twin_speedup.svg", twin_svg(s));
}

// ---- Figure 3 --------------------------------------------------------------------------------

Tradeoff tradeoff_points(const std::vector<std::string>& run_paths,
                         const std::string& bench_json_path, int64_t length) {
  const Report rep = make_report(run_paths);  // finished runs, grouped by model and task
  Sweep s = sweep_from_json(read_file(bench_json_path));
  if (length <= 0) {
    std::vector<int64_t> l = sweep_lengths(s);
    LRA_CHECK(!l.empty(), DataError, bench_json_path, " holds no results");
    length = l.back();
  }
  // The columns each model has, among models with bench figures at this length.
  std::vector<std::pair<const ReportRow*, const Result*>> have;
  std::vector<std::set<size_t>> cols;
  for (const ReportRow& row : rep.rows) {
    const Result* r = find_result(s, row.model, length);
    std::set<size_t> c;
    for (size_t i = 0; i < row.cells.size(); ++i)
      if (row.cells[i].n > 0) c.insert(i);
    if (c.empty() || !r || !r->ok()) continue;
    have.push_back({&row, r});
    cols.push_back(c);
  }
  // The basis: of every model's own set and every single column, the one most models have in
  // full (ties: the larger set). Averages over different cells never share the axis.
  auto covers = [&](const std::set<size_t>& basis) {
    size_t n = 0;
    for (const auto& c : cols) n += std::includes(c.begin(), c.end(), basis.begin(), basis.end());
    return n;
  };
  std::vector<std::set<size_t>> candidates = cols;
  for (size_t i = 0; i < rep.columns.size(); ++i) candidates.push_back({i});
  std::set<size_t> basis;
  for (const auto& b : candidates)
    if (std::pair(covers(b), b.size()) > std::pair(covers(basis), basis.size()) || basis.empty())
      basis = b;
  Tradeoff t;
  t.length = length;
  for (size_t i : basis) t.columns.push_back(rep.columns[i].header());
  for (size_t k = 0; k < have.size(); ++k) {
    const auto [row, r] = have[k];
    if (!std::includes(cols[k].begin(), cols[k].end(), basis.begin(), basis.end())) {
      t.left_out.push_back(row->model);
      continue;
    }
    double sum = 0;
    for (size_t i : basis) sum += row->cells[i].mean;
    t.points.push_back({row->model, sum / double(basis.size()) / 100.0, r->steps_per_s,
                        double(r->alloc_peak_bytes) / 1e6, int(basis.size())});
  }
  return t;
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

std::string tradeoff_svg(const Tradeoff& t, const std::string& title) {
  double mmax = 0;
  for (const TradeoffPoint& p : t.points)
    if (p.steps_per_s > 0) mmax = std::max(mmax, p.memory_mb);
  std::vector<svg::Bubble> bubbles;
  for (const TradeoffPoint& p : t.points) {
    if (p.steps_per_s <= 0) continue;
    bubbles.push_back({p.steps_per_s, p.accuracy * 100, mmax > 0 ? p.memory_mb / mmax : 0.0,
                       facts::display_name(p.model) + " (" + fmt("%.0f", p.memory_mb) + " MB)"});
  }
  std::string cols, left;
  for (const std::string& c : t.columns) cols += "\n  " + c;
  for (const std::string& m : t.left_out)
    left += (left.empty() ? "" : ", ") + facts::display_name(m);
  const std::string caption =
      "Accuracy: test accuracy (%) averaged over the same " + std::to_string(t.columns.size()) +
      " column" + (t.columns.size() == 1 ? "" : "s") + " for every model:" + cols +
      "\nSpeed and marker area (allocator peak memory): the bench at length " +
      std::to_string(t.length) + "." +
      (left.empty() ? std::string()
                    : "\nLeft out (runs on other tasks or settings only): " + left + ".");
  return svg::bubble_chart(title, "training steps/s (log scale)", "accuracy (%)", caption, bubbles);
}

Tradeoff write_tradeoff(const std::vector<std::string>& run_paths, std::string bench_json,
                        int64_t length, const std::string& svg_path) {
  if (bench_json.empty()) bench_json = latest_bench_json();
  LRA_CHECK(!bench_json.empty(), ConfigError,
            "Figure 3 needs speed figures: give --bench DIR/bench.json (from lra_cpu bench, e.g. "
            "lra_cpu bench --preset tiny --batch 32 --lengths 1024)");
  Tradeoff t = tradeoff_points(run_paths, bench_json, length);
  write_file_atomic(svg_path, tradeoff_svg(t, "Accuracy against speed"));
  std::fprintf(
      stderr,
      "Figure 3: %zu models (speed and memory from %s at length %lld, %zu left out) -> %s\n",
      t.points.size(), bench_json.c_str(), (long long)t.length, t.left_out.size(),
      svg_path.c_str());
  return t;
}

}  // namespace lra::bench
