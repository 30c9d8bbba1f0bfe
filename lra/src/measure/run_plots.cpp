// loss.svg and accuracy.svg of a run folder, and several runs on one plot, from metrics.jsonl.
#include "lra/lra/measure/run_plots.hpp"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/lra/train/run.hpp"
#include "measure/svg.hpp"

namespace lra {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// The (step, value) points of one split and key ("loss", "accuracy") in a run's metrics.
svg::Series read_curve(const std::string& dir, const std::string& split, const std::string& key) {
  svg::Series s;
  for (const std::string& line : read_metrics_lines(dir)) {
    const json r = json::parse(line);
    if (r.value("split", std::string()) != split || !r.contains(key) || !r[key].is_number())
      continue;
    s.x.push_back(r["step"].get<double>());
    s.y.push_back(r[key].get<double>());
  }
  return s;
}

bool is_run(const fs::path& p) {
  return fs::exists(p / run_files::config);
}

}  // namespace

void write_run_plots(const std::string& dir) {
  svg::Series train_loss = read_curve(dir, "train", "loss"),
              val_loss = read_curve(dir, "val", "loss");
  svg::Series train_acc = read_curve(dir, "train", "accuracy"),
              val_acc = read_curve(dir, "val", "accuracy");
  train_loss.label = train_acc.label = "train";
  val_loss.label = val_acc.label = "val";
  val_loss.markers = val_acc.markers = true;
  std::string name = dir;
  try {
    RunInfo info = read_run(dir);
    name = info.settings.get("model") + " on " + info.settings.get("task");
  } catch (const Error&) {
  }
  svg::Plot loss{name + ": loss", "step", "cross-entropy", {train_loss, val_loss}};
  svg::Plot acc{name + ": accuracy", "step", "accuracy", {train_acc, val_acc}};
  write_file_atomic(dir + "/loss.svg", svg::render(loss));
  write_file_atomic(dir + "/accuracy.svg", svg::render(acc));
}

const std::vector<std::string>& run_plot_metrics() {
  static const std::vector<std::string> m = {"val_accuracy", "val_loss", "train_accuracy",
                                             "train_loss"};
  return m;
}

RunsPlot plot_runs(const std::vector<std::string>& paths, const std::string& metric) {
  const auto& known = run_plot_metrics();
  LRA_CHECK(std::find(known.begin(), known.end(), metric) != known.end(), ConfigError,
            "plot: --metric ", metric,
            " is not one of: val_accuracy, val_loss, train_accuracy, train_loss");
  LRA_CHECK(!paths.empty(), ConfigError, "plot: give one or more run folders (e.g. runs/*)");
  const std::string split = metric.substr(0, metric.find('_')),
                    key = metric.substr(metric.find('_') + 1);
  RunsPlot out;
  std::vector<fs::path> runs;
  for (const std::string& p : paths) {
    LRA_CHECK(fs::exists(p), CheckpointError, "plot: ", p,
              " does not exist (give run folders, e.g. runs/*)");
    if (is_run(p)) {
      runs.push_back(p);
      continue;
    }
    std::vector<fs::path> kids;
    if (fs::is_directory(p))
      for (const auto& e : fs::directory_iterator(p))
        if (e.is_directory() && is_run(e.path())) kids.push_back(e.path());
    std::sort(kids.begin(), kids.end());
    if (kids.empty()) {
      const std::string why =
          p + ": not a run folder (no " + run_files::config + ") and holds none";
      LRA_CHECK(paths.size() > 1, CheckpointError, "plot: ", why,
                "; a run folder is what lra_cpu train --out writes");
      out.skipped.push_back(why);
    }
    runs.insert(runs.end(), kids.begin(), kids.end());
  }
  svg::Plot plot;
  plot.title =
      metric + " of " + std::to_string(runs.size()) + " run" + (runs.size() == 1 ? "" : "s");
  plot.x_label = "step";
  plot.y_label = split + " " + key;
  for (const fs::path& run : runs) {
    const std::string dir = run.string();
    LRA_CHECK(fs::exists(run / run_files::metrics), CheckpointError, "plot: ", dir, " has no ",
              run_files::metrics, " (a run writes it at its first log step)");
    svg::Series s = read_curve(dir, split, key);
    if (s.x.empty()) {
      out.skipped.push_back(dir + ": no " + split + " " + key + " record yet");
      continue;
    }
    s.label = run.filename().string();
    s.markers = split == "val";
    plot.series.push_back(s);
    out.runs.push_back(dir);
  }
  LRA_CHECK(!plot.series.empty(), CheckpointError, "plot: no run has a ", split, " ", key,
            " record yet", split == "val" ? " (val records come at each evaluation)" : "");
  out.svg = svg::render(plot);
  return out;
}

}  // namespace lra
