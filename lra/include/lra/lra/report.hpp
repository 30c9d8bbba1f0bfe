// `lra_cpu report RUNS...`: run folders gathered into the layout of the LRA paper's Table 1
// (docs/lra.md section 7): one row per model, one column per task (ListOps, Text, Retrieval,
// Image, Pathfinder, Path-X) and the LRA average over the five non-Path-X tasks. A cell is the
// test accuracy (%) of the best-validation checkpoint, "mean +- std" over the runs (seeds) of
// that model and task, next to the paper's number for the same cell.
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
  std::vector<std::string> runs;
  std::optional<double> paper;
};

struct ReportRow {
  std::string model;
  std::vector<ReportCell> cells;  // one per Report::tasks
  std::optional<double> average;  // mean of the five non-Path-X means, when all five exist
  std::optional<double> paper_average;
};

struct Report {
  std::vector<std::string> tasks;   // task names, Table 1 order
  std::vector<std::string> titles;  // column titles
  std::vector<ReportRow> rows;
  std::vector<std::string> skipped;  // folders not counted, with the reason
  std::string markdown() const;
  std::string json() const;
};

// Each path is a run folder (config.json + results.json) or a folder holding run folders
// (searched two levels deep, e.g. a --seeds folder or runs/). Runs without a complete
// results.json are listed in `skipped`. ConfigError when no run is found at all.
Report make_report(const std::vector<std::string>& paths);

// Mean and sample standard deviation (n - 1; 0 for one value).
void mean_std(const std::vector<double>& v, double& mean, double& std);

}  // namespace lra
