// `lra_cpu report RUNS...`: run folders gathered into the layout of the LRA paper's Table 1
// (docs/lra.md section 7): one row per model, one column per task (ListOps, Text, Retrieval,
// Image, Pathfinder, Path-X) and the LRA average over the five non-Path-X tasks. A cell is the
// test accuracy (%) of the best-validation checkpoint, "mean +- std" over the runs (seeds) of
// that model and task, next to the paper's number for the same cell. Every column names its
// preset, length and steps, and a smoke preset's column says so.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace lra {

// The paper's Table 1 value (%) for a registry model name and task name (nullopt: none, e.g. a
// task the paper did not run; Path-X "FAIL" is nullopt too).
std::optional<double> paper_accuracy(const std::string& model, const std::string& task);

struct ReportCell {
  int n = 0;                 // runs
  double mean = 0, std = 0;  // % ; std is the sample standard deviation (0 when n == 1)
  double wall_seconds = 0;   // mean wall time of a run
  double steps_per_s = 0;    // mean training steps per second
  int64_t batch = 0;         // examples per step (of the first run)
  std::vector<std::string> runs;
  std::optional<double> paper;
};

// A column is one task under one training setting: runs of different presets, lengths or
// step counts are never averaged together.
struct ReportColumn {
  std::string task;            // task name, e.g. "listops"
  std::string title;           // e.g. "ListOps-500": the task's title, -<max_len> when cut
  std::string preset;          // the runs' preset ("" when none recorded)
  int64_t max_len = 0;         // tokens per example
  int64_t steps = 0;           // training steps per run
  bool smoke = false;          // a smoke preset (tiny): not a result
  std::string header() const;  // e.g. "ListOps-500 (cpu, 3000 steps)"
};

struct ReportRow {
  std::string model;
  std::vector<ReportCell> cells;  // one per Report::columns
  std::optional<double> average;  // mean of the five non-Path-X means, when all five exist
  std::optional<double> paper_average;
};

struct Report {
  std::vector<ReportColumn> columns;  // Table 1 task order, then preset, length, steps
  std::vector<ReportRow> rows;
  std::vector<std::string> skipped;  // folders not counted, with the reason
  std::string markdown() const;      // Table 1 layout, then one line per cell with its cost
  std::string json() const;
};

// Each path is a run folder (config.json + results.json) or a folder holding run folders
// (searched two levels deep, e.g. a --seeds folder or runs/). Runs without a complete
// results.json are listed in `skipped`. ConfigError when no run is found at all.
Report make_report(const std::vector<std::string>& paths);

// Mean and sample standard deviation (n - 1; 0 for one value).
void mean_std(const std::vector<double>& v, double& mean, double& std);

}  // namespace lra
