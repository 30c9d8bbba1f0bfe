#include "lra/lra/measure/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/lra/measure/mechanism_facts.hpp"
#include "lra/lra/tasks/task.hpp"
#include "lra/lra/train/run.hpp"

namespace lra {
namespace {

namespace fs = std::filesystem;

// Table 1 columns: task names of lra::tasks() and the paper's titles.
const std::vector<std::pair<std::string, std::string>> kColumns = {
    {"listops", "ListOps"},       {"text", "Text"},
    {"retrieval", "Retrieval"},   {"image", "Image"},
    {"pathfinder", "Pathfinder"}, {"pathx", "Path-X"}};

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

// "style S, contour length L" from the data note a generated Pathfinder folder leaves in
// config.json ("generated: style S, contour length L, size N, seed K"), else "".
std::string generator_setting(const std::string& run_dir) {
  const nlohmann::json cfg = nlohmann::json::parse(
      read_file((fs::path(run_dir) / run_files::config).string()), nullptr, false);
  if (!cfg.is_object() || !cfg.contains("data") || !cfg["data"].is_object()) return "";
  const nlohmann::json notes = cfg["data"].value("notes", nlohmann::json::array());
  const std::string prefix = "generated: ";
  for (const auto& n : notes) {
    if (!n.is_string()) continue;
    const std::string s = n.get<std::string>();
    if (s.rfind(prefix + "style ", 0) != 0) continue;
    const size_t size = s.find(", size ");
    return s.substr(prefix.size(),
                    size == std::string::npos ? std::string::npos : size - prefix.size());
  }
  return "";
}

}  // namespace

std::optional<double> paper_accuracy(const std::string& model, const std::string& task) {
  const facts::Mechanism* m = facts::find(model);
  if (!m || !m->table1) return std::nullopt;
  for (size_t i = 0; i < 5; ++i)
    if (facts::table1_tasks()[i] == task) return (*m->table1)[i];
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

std::string ReportColumn::header() const {
  std::string h = title + " (" + (preset.empty() ? "no preset" : preset) + ", " +
                  std::to_string(steps) + " steps";
  return h + (smoke ? ", SMOKE RUN: not a result)" : ")");
}

Report make_report(const std::vector<std::string>& paths) {
  Report rep;
  std::vector<fs::path> runs;
  for (const std::string& p : paths) {
    LRA_CHECK(fs::exists(p), ConfigError, "report: ", p, " does not exist");
    size_t before = runs.size();
    find_runs(p, 2, runs);
    if (runs.size() == before) rep.skipped.push_back(p + ": no run folder (config.json) found");
  }
  // Runs by column (task, length, generated data's setting via the title, preset, steps) and
  // model: runs on data of another contour length never share a mean.
  struct Runs {
    std::vector<double> acc, wall, speed;
    std::vector<std::string> dirs;
    int64_t batch = 0;
  };
  auto column_order = [](const ReportColumn& c) {
    size_t t = 0;
    while (t < kColumns.size() && kColumns[t].first != c.task) ++t;
    return std::make_tuple(t, c.task, c.max_len, c.title, c.preset, c.steps);
  };
  std::map<decltype(column_order(ReportColumn{})), ReportColumn> columns;
  std::map<std::pair<decltype(column_order(ReportColumn{})), std::string>, Runs> cells;
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
    ReportColumn col;
    col.task = r.settings.get("task");
    col.title = col.task;
    int64_t task_len = 0;
    for (const TaskInfo& t : tasks())
      if (t.name == col.task)
        col.title = t.title.substr(0, t.title.find(':')), task_len = t.seq_len;
    col.preset = r.settings.has("preset") ? r.settings.get("preset") : "";
    col.max_len = r.settings.has("max_len") ? r.settings.get_int("max_len") : 0;
    if (col.max_len <= 0) col.max_len = task_len;
    if (col.max_len != task_len) col.title += "-" + std::to_string(col.max_len);
    col.steps = r.steps;
    col.smoke = col.preset == "tiny";
    if (const std::string g = generator_setting(dir); !g.empty()) col.title += " (" + g + ")";
    const auto key = column_order(col);
    columns.emplace(key, col);
    Runs& c = cells[{key, r.settings.get("model")}];
    c.acc.push_back(100.0 * r.test_accuracy);
    c.wall.push_back(r.wall_seconds);
    c.speed.push_back(r.wall_seconds > 0 ? double(r.steps) / r.wall_seconds : 0.0);
    c.dirs.push_back(dir);
    if (c.batch == 0 && r.settings.has("batch")) c.batch = r.settings.get_int("batch");
  }
  LRA_CHECK(!cells.empty(), ConfigError, "report: no finished run among the given folders");
  std::vector<decltype(column_order(ReportColumn{}))> keys;
  for (const auto& [key, col] : columns) {
    keys.push_back(key);
    rep.columns.push_back(col);
  }

  // Rows: the paper's models in its order, then any other model, each only if it has runs.
  std::vector<std::string> models;
  for (const facts::Mechanism& m : facts::mechanisms()) models.push_back(m.name);
  for (const auto& [key, v] : cells)
    if (std::find(models.begin(), models.end(), key.second) == models.end())
      models.push_back(key.second);
  // The LRA average needs one column for each of the five tasks, none of them a smoke run.
  std::set<std::string> five;
  bool one_each = true;
  for (const ReportColumn& c : rep.columns) {
    if (c.task == "pathx") continue;
    one_each = one_each && !c.smoke && five.insert(c.task).second;
  }
  one_each = one_each && five.size() == 5;
  for (const std::string& m : models) {
    ReportRow row;
    row.model = m;
    bool any = false, all5 = one_each;
    double sum = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
      ReportCell cell;
      cell.paper = paper_accuracy(m, rep.columns[i].task);
      auto it = cells.find({keys[i], m});
      if (it != cells.end()) {
        const Runs& r = it->second;
        cell.n = int(r.acc.size());
        mean_std(r.acc, cell.mean, cell.std);
        double unused = 0;
        mean_std(r.wall, cell.wall_seconds, unused);
        mean_std(r.speed, cell.steps_per_s, unused);
        cell.batch = r.batch;
        cell.runs = r.dirs;
        any = true;
      }
      if (rep.columns[i].task != "pathx") {
        if (cell.n == 0)
          all5 = false;
        else
          sum += cell.mean;
      }
      row.cells.push_back(cell);
    }
    if (!any) continue;
    if (all5) row.average = sum / 5.0;
    if (const facts::Mechanism* f = facts::find(m)) row.paper_average = f->table1_average;
    rep.rows.push_back(row);
  }
  return rep;
}

namespace {

std::string ours(const ReportCell& c) {
  if (c.n == 0) return "-";
  if (c.n == 1) return pct(c.mean);
  return pct(c.mean) + " ± " + pct(c.std) + " (n=" + std::to_string(c.n) + ")";
}

}  // namespace

std::string Report::markdown() const {
  std::string o = "| Model |";
  for (const ReportColumn& c : columns) o += " " + c.header() + " |";
  o += " Avg |\n|---|";
  for (size_t i = 0; i <= columns.size(); ++i) o += "---|";
  o += "\n";
  for (const ReportRow& r : rows) {
    o += "| " + facts::display_name(r.model) + " |";
    for (size_t i = 0; i < r.cells.size(); ++i) {
      const ReportCell& c = r.cells[i];
      const std::string paper =
          c.paper ? pct(*c.paper)
          : (columns[i].task == "pathx" && facts::find(r.model) && facts::find(r.model)->table1)
              ? "FAIL"
              : "-";
      o += " " + ours(c) + " (paper " + paper + ") |";
    }
    o += " " + (r.average ? pct(*r.average) : std::string("-")) + " (paper " +
         (r.paper_average ? pct(*r.paper_average) : std::string("-")) + ") |\n";
  }
  o +=
      "\nTest accuracy (%) of the best-validation checkpoint; mean ± sample std over runs (seeds); "
      "paper = LRA Table 1 (Tay et al., ICLR 2021), trained far longer on the full-length "
      "tasks. A column is one task under one preset, length and step count; SMOKE RUN columns "
      "come from the tiny preset and measure nothing. Avg = mean of the five non-Path-X tasks, "
      "shown only when each has exactly one column and none is a smoke run.\n";
  o += "\n| Task | Model | Preset | Steps | Examples seen | Wall time | Steps/s | Seeds | Test % "
       "| Paper % |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const ReportRow& r : rows)
    for (size_t i = 0; i < r.cells.size(); ++i) {
      const ReportCell& c = r.cells[i];
      const ReportColumn& col = columns[i];
      if (c.n == 0) continue;
      char line[512];
      std::snprintf(line, sizeof line,
                    "| %s | %s | %s%s | %lld | %lld | %.1f min | %.2f | %d | %s | %s |\n",
                    col.title.c_str(), facts::display_name(r.model).c_str(), col.preset.c_str(),
                    col.smoke ? " (smoke)" : "", (long long)col.steps,
                    (long long)(col.steps * c.batch), c.wall_seconds / 60.0, c.steps_per_s, c.n,
                    ours(c).c_str(), c.paper ? pct(*c.paper).c_str() : "-");
      o += line;
    }
  if (!skipped.empty()) {
    o += "\nNot counted:\n";
    for (const std::string& s : skipped) o += "- " + s + "\n";
  }
  return o;
}

std::string Report::json() const {
  using nlohmann::json;
  json j;
  j["columns"] = json::array();
  for (const ReportColumn& c : columns)
    j["columns"].push_back({{"task", c.task},
                            {"title", c.title},
                            {"preset", c.preset},
                            {"max_len", c.max_len},
                            {"steps", c.steps},
                            {"smoke", c.smoke}});
  j["rows"] = json::array();
  for (const ReportRow& r : rows) {
    json row = {{"model", r.model}};
    json cells = json::array();
    for (size_t i = 0; i < r.cells.size(); ++i) {
      const ReportCell& c = r.cells[i];
      json cj = {{"n", c.n}, {"runs", c.runs}};
      if (c.n > 0) {
        cj["mean"] = c.mean, cj["std"] = c.std;
        cj["wall_seconds"] = c.wall_seconds, cj["steps_per_s"] = c.steps_per_s;
        cj["examples_seen"] = columns[i].steps * c.batch;
      }
      cj["paper"] = c.paper ? json(*c.paper) : json(nullptr);
      cells.push_back(cj);
    }
    row["cells"] = cells;
    row["average"] = r.average ? json(*r.average) : json(nullptr);
    row["paper_average"] = r.paper_average ? json(*r.paper_average) : json(nullptr);
    j["rows"].push_back(row);
  }
  j["skipped"] = skipped;
  j["units"] =
      "test accuracy %, best-validation checkpoint; std = sample std (n-1); cells[i] "
      "belongs to columns[i]";
  return j.dump(2) + "\n";
}

}  // namespace lra
