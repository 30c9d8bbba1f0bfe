#include "lra/lra/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "lra/core/error.hpp"
#include "lra/lra/run.hpp"

namespace lra {
namespace {

namespace fs = std::filesystem;

// Table 1 columns: task names of lra::tasks() and the paper's titles.
const std::vector<std::pair<std::string, std::string>> kColumns = {
    {"listops", "ListOps"},       {"text", "Text"},
    {"retrieval", "Retrieval"},   {"image", "Image"},
    {"pathfinder", "Pathfinder"}, {"pathx", "Path-X"}};

// docs/lra.md section 7 (paper Table 1). Path-X is FAIL for every model (no number).
struct PaperRow {
  const char* model;
  const char* title;
  double v[5];  // listops, text, retrieval, image, pathfinder
  double avg;
};
const PaperRow kPaper[] = {
    {"transformer", "Transformer", {36.37, 64.27, 57.46, 42.44, 71.40}, 54.39},
    {"local", "Local Attention", {15.82, 52.98, 53.39, 41.46, 66.63}, 46.06},
    {"sparse", "Sparse Trans.", {17.07, 63.58, 59.59, 44.24, 71.71}, 51.24},
    {"longformer", "Longformer", {35.63, 62.85, 56.89, 42.22, 69.71}, 53.46},
    {"linformer", "Linformer", {35.70, 53.94, 52.27, 38.56, 76.34}, 51.36},
    {"reformer", "Reformer", {37.27, 56.10, 53.40, 38.07, 68.50}, 50.67},
    {"sinkhorn", "Sinkhorn Trans.", {33.67, 61.20, 53.83, 41.23, 67.45}, 51.39},
    {"synthesizer", "Synthesizer", {36.99, 61.68, 54.67, 41.61, 69.45}, 52.88},
    {"bigbird", "BigBird", {36.05, 64.02, 59.29, 40.83, 74.87}, 55.01},
    {"linear", "Linear Trans.", {16.13, 65.90, 53.09, 42.34, 75.30}, 50.55},
    {"performer", "Performer", {18.01, 65.40, 53.82, 42.77, 77.05}, 51.41},
};

const PaperRow* paper_row(const std::string& model) {
  for (const PaperRow& r : kPaper)
    if (model == r.model) return &r;
  return nullptr;
}

std::string pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

void find_runs(const fs::path& p, int depth, std::vector<fs::path>& out) {
  if (fs::exists(p / run_files::config)) {
    out.push_back(p);
    return;
  }
  if (depth == 0 || !fs::is_directory(p)) return;
  std::vector<fs::path> kids;
  for (const auto& e : fs::directory_iterator(p))
    if (e.is_directory()) kids.push_back(e.path());
  std::sort(kids.begin(), kids.end());
  for (const fs::path& k : kids) find_runs(k, depth - 1, out);
}

}  // namespace

std::optional<double> paper_accuracy(const std::string& model, const std::string& task) {
  const PaperRow* r = paper_row(model);
  if (!r) return std::nullopt;
  for (size_t i = 0; i < 5; ++i)
    if (kColumns[i].first == task) return r->v[i];
  return std::nullopt;
}

void mean_std(const std::vector<double>& v, double& mean, double& std) {
  mean = std = 0;
  if (v.empty()) return;
  for (double x : v) mean += x;
  mean /= double(v.size());
  if (v.size() < 2) return;
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  std = std::sqrt(ss / double(v.size() - 1));
}

Report make_report(const std::vector<std::string>& paths) {
  Report rep;
  for (const auto& [t, title] : kColumns) {
    rep.tasks.push_back(t);
    rep.titles.push_back(title);
  }
  std::vector<fs::path> runs;
  for (const std::string& p : paths) {
    LRA_CHECK(fs::exists(p), ConfigError, "report: ", p, " does not exist");
    size_t before = runs.size();
    find_runs(p, 2, runs);
    if (runs.size() == before) rep.skipped.push_back(p + ": no run folder (config.json) found");
  }
  // (model, task) -> accuracies (%), run folders
  std::map<std::pair<std::string, std::string>,
           std::pair<std::vector<double>, std::vector<std::string>>>
      cells;
  std::set<std::string> seen;
  for (const fs::path& p : runs) {
    const std::string dir = fs::weakly_canonical(p).string();
    if (!seen.insert(dir).second) continue;
    RunInfo r;
    try {
      r = read_run(dir);
    } catch (const Error& e) {
      rep.skipped.push_back(dir + ": " + e.what());
      continue;
    }
    if (!r.has_results || r.status != "complete") {
      rep.skipped.push_back(
          dir + ": " + (r.has_results ? "status " + r.status : "not finished (no results.json)"));
      continue;
    }
    auto& c = cells[{r.settings.get("model"), r.settings.get("task")}];
    c.first.push_back(100.0 * r.test_accuracy);
    c.second.push_back(dir);
  }
  LRA_CHECK(!cells.empty(), ConfigError, "report: no finished run among the given folders");

  // Rows: the paper's models in its order, then any other model, each only if it has runs.
  std::vector<std::string> models;
  for (const PaperRow& r : kPaper) models.push_back(r.model);
  for (const auto& [key, v] : cells)
    if (std::find(models.begin(), models.end(), key.first) == models.end())
      models.push_back(key.first);
  for (const std::string& m : models) {
    ReportRow row;
    row.model = m;
    bool any = false, all5 = true;
    double sum = 0;
    for (size_t i = 0; i < rep.tasks.size(); ++i) {
      ReportCell cell;
      cell.paper = paper_accuracy(m, rep.tasks[i]);
      auto it = cells.find({m, rep.tasks[i]});
      if (it != cells.end()) {
        cell.n = int(it->second.first.size());
        mean_std(it->second.first, cell.mean, cell.std);
        cell.runs = it->second.second;
        any = true;
      }
      if (i < 5) {
        if (cell.n == 0)
          all5 = false;
        else
          sum += cell.mean;
      }
      row.cells.push_back(cell);
    }
    if (!any) continue;
    if (all5) row.average = sum / 5.0;
    if (const PaperRow* pr = paper_row(m)) row.paper_average = pr->avg;
    rep.rows.push_back(row);
  }
  // Cells for tasks outside Table 1 (e.g. pathfinder64) are reported as skipped.
  for (const auto& [key, v] : cells)
    if (std::find(rep.tasks.begin(), rep.tasks.end(), key.second) == rep.tasks.end())
      for (const std::string& d : v.second)
        rep.skipped.push_back(d + ": task " + key.second + " is not a Table 1 column");
  return rep;
}

std::string Report::markdown() const {
  std::string o = "| Model |";
  for (const std::string& t : titles) o += " " + t + " |";
  o += " Avg |\n|---|";
  for (size_t i = 0; i <= titles.size(); ++i) o += "---|";
  o += "\n";
  for (const ReportRow& r : rows) {
    const PaperRow* pr = paper_row(r.model);
    o += "| " + std::string(pr ? pr->title : r.model.c_str()) + " |";
    for (size_t i = 0; i < r.cells.size(); ++i) {
      const ReportCell& c = r.cells[i];
      std::string paper = c.paper ? pct(*c.paper) : (tasks[i] == "pathx" && pr ? "FAIL" : "-");
      std::string ours = "-";
      if (c.n == 1)
        ours = pct(c.mean);
      else if (c.n > 1)
        ours = pct(c.mean) + " ± " + pct(c.std) + " (n=" + std::to_string(c.n) + ")";
      o += " " + ours + " (paper " + paper + ") |";
    }
    o += " " + (r.average ? pct(*r.average) : std::string("-")) + " (paper " +
         (r.paper_average ? pct(*r.paper_average) : std::string("-")) + ") |\n";
  }
  o += "\nTest accuracy (%) of the best-validation checkpoint; mean ± sample std over runs; "
       "paper = LRA Table 1 (Tay et al., ICLR 2021). Avg = mean of the five non-Path-X tasks, "
       "shown only when all five have runs.\n";
  if (!skipped.empty()) {
    o += "\nNot counted:\n";
    for (const std::string& s : skipped) o += "- " + s + "\n";
  }
  return o;
}

std::string Report::json() const {
  using nlohmann::json;
  json j;
  j["columns"] = tasks;
  j["titles"] = titles;
  j["rows"] = json::array();
  for (const ReportRow& r : rows) {
    json row = {{"model", r.model}};
    json cells = json::object();
    for (size_t i = 0; i < r.cells.size(); ++i) {
      const ReportCell& c = r.cells[i];
      json cj = {{"n", c.n}, {"runs", c.runs}};
      if (c.n > 0) cj["mean"] = c.mean, cj["std"] = c.std;
      cj["paper"] = c.paper ? json(*c.paper) : json(nullptr);
      cells[tasks[i]] = cj;
    }
    row["cells"] = cells;
    row["average"] = r.average ? json(*r.average) : json(nullptr);
    row["paper_average"] = r.paper_average ? json(*r.paper_average) : json(nullptr);
    j["rows"].push_back(row);
  }
  j["skipped"] = skipped;
  j["units"] = "test accuracy %, best-validation checkpoint; std = sample std (n-1)";
  return j.dump(2) + "\n";
}

}  // namespace lra
