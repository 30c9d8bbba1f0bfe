// The pictures of run folders (lra/lra/train/run.hpp): a run's loss.svg and accuracy.svg
// (curves of train and val against steps), and several runs' curves on one plot (`lra_cpu plot`).
// `lra_cpu train` redraws the first after every evaluation (TrainHooks::on_metrics), so an
// embedding program's trainer writes no SVG.
#pragma once
#include <string>
#include <vector>

namespace lra {

// Rewrites <dir>/loss.svg and <dir>/accuracy.svg from <dir>/metrics.jsonl.
void write_run_plots(const std::string& dir);

// The metrics `plot_runs` draws: val_accuracy, val_loss, train_accuracy, train_loss.
const std::vector<std::string>& run_plot_metrics();

struct RunsPlot {
  std::string svg;                   // one curve per run, legend: the run folder's name
  std::vector<std::string> runs;     // the run folders drawn
  std::vector<std::string> skipped;  // paths passed over, each with the reason
};
// `metric` of every run against the training step. Each path is a run folder (config.json) or a
// folder holding run folders (one level: runs/, a --seeds folder), so `runs/*` works: among
// several paths one that holds no run (e.g. runs/bench-*) is skipped with its reason. A missing
// path, a lone path without runs, an unknown metric, or no record of the metric at all is an
// error (CheckpointError; ConfigError for the metric) saying what to give instead.
RunsPlot plot_runs(const std::vector<std::string>& paths, const std::string& metric);

}  // namespace lra
