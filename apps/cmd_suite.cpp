// lra_cpu suite: the results grid. Runs every (task, model, seed) cell as an ordinary run
// folder OUT/<task>/<model>/seed<N> (a child `lra_cpu train`, `--jobs` at a time), then writes
// the Table 1 report of all of them to OUT/report.md and OUT/report.json, and Figure 3 (their
// accuracy against a bench's steps/s, marker area = memory; --bench) to OUT/figure3.svg.
//
//   - Resumable: a cell whose results.json says "complete" is skipped, one with a saved state
//     is continued with `train --resume` (exactly), an empty or broken one is started again.
//   - Seeds of one cell share the data set: a generated task's data is written once, with the
//     preset's generator settings and --data-seed, to OUT/data/<task>; --data TASK=DIR gives a
//     task's folder instead (required for text, retrieval and image).
//   - Ctrl-C / SIGTERM is passed to the running cells, which save `last`; run the same command
//     again to continue.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "lra/attention/registry.hpp"
#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/lra/measure/bench.hpp"
#include "lra/lra/measure/child.hpp"
#include "lra/lra/measure/report.hpp"
#include "progress.hpp"

namespace lra::app {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::atomic<int> g_signal{0};
extern "C" void on_suite_signal(int sig) {
  g_signal.store(sig);
}

struct SuiteArgs {
  std::vector<std::string> tasks{"listops", "pathfinder"};
  std::vector<std::string> models{"all"};
  std::vector<int64_t> seeds{1};
  std::vector<std::string> data;  // TASK=DIR
  std::vector<std::string> sets;  // KEY=VALUE, passed to every cell as --key value
  std::string preset = "cpu", out;
  std::string bench;         // bench.json of Figure 3 ("": the newest runs/bench-*/bench.json)
  int64_t bench_length = 0;  // its length (0: the longest)
  int jobs = 1, threads = 1;
  uint64_t data_seed = 1;
  bool report_only = false;
};

struct Cell {
  std::string task, model, dir, log;
  int64_t seed = 1;
  pid_t pid = -1;
  Clock::time_point started;
};

std::pair<std::string, std::string> key_value(const std::string& s, const char* flag) {
  const size_t eq = s.find('=');
  LRA_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < s.size(), ConfigError, flag, " '", s,
            "' is not NAME=VALUE (e.g. ", flag, " text=~/aclImdb)");
  return {s.substr(0, eq), s.substr(eq + 1)};
}

bool cell_complete(const std::string& dir) {
  std::ifstream f(dir + "/results.json");
  if (!f) return false;
  const nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
  return j.is_object() && j.value("status", "") == "complete";
}

// The step of the newest metrics line of a running cell (0 before the first).
int64_t cell_step(const std::string& dir) {
  std::ifstream f(dir + "/metrics.jsonl");
  std::string line, last;
  while (std::getline(f, line))
    if (!line.empty()) last = line;
  const nlohmann::json j = nlohmann::json::parse(last, nullptr, false);
  return j.is_object() && j.contains("step") && j["step"].is_number() ? j["step"].get<int64_t>()
                                                                      : 0;
}

// The data folder every seed of `task` shares.
std::string task_data(const SuiteArgs& a, const std::map<std::string, std::string>& given,
                      const TaskInfo& task) {
  if (auto it = given.find(task.name); it != given.end()) return it->second;
  LRA_CHECK(task.generate, ConfigError, "suite: task ", task.name,
            " has no generator: give its data with --data ", task.name, "=DIR (", task.layout, ")");
  const std::string dir = a.out + "/data/" + task.name;
  if (fs::exists(dir + "/.complete")) return dir;
  Settings s;
  s.set("task", task.name, "suite");
  for (const auto& [k, v] : task.preset(a.preset).settings) s.set(k, v, "preset");
  for (const auto& kv : a.sets) {
    const auto [k, v] = key_value(kv, "--set");
    s.set(k, v, "--set");
  }
  s.set("seed", std::to_string(a.data_seed), "--data-seed");
  GenerateOptions g = generate_options(s);
  std::printf("suite: generating the %s data shared by every cell in %s\n", task.name.c_str(),
              dir.c_str());
  ProgressBar bar("generate " + task.name, size_t(g.train + g.val + g.test));
  g.progress = [&](size_t done, size_t) { bar.update(done); };
  task.generate(dir, g);
  bar.finish();
  write_file_atomic(dir + "/.complete", "");
  return dir;
}

pid_t spawn_cell(const std::vector<std::string>& args, const std::string& log) {
  std::string error;
  const pid_t pid = child::start({args, {}, log}, error);
  LRA_CHECK(pid > 0, IoError, "suite: ", error);
  return pid;
}

std::vector<std::string> cell_command(const SuiteArgs& a, const Cell& c, const std::string& data,
                                      bool resume) {
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  std::vector<std::string> v{self, "train"};
  if (resume) {
    v.insert(v.end(), {"--resume", c.dir});
  } else {
    v.insert(v.end(), {"--task", c.task, "--model", c.model, "--preset", a.preset, "--seed",
                       std::to_string(c.seed), "--out", c.dir});
    for (const auto& kv : a.sets) {
      auto [k, val] = key_value(kv, "--set");
      std::replace(k.begin(), k.end(), '_', '-');
      v.insert(v.end(), {"--" + k, val});
    }
  }
  v.insert(v.end(), {"--threads", std::to_string(a.threads), "--data", data});
  return v;
}

void write_report(const SuiteArgs& a) {
  std::vector<std::string> roots;
  for (const auto& t : a.tasks)
    if (fs::is_directory(a.out + "/" + t)) roots.push_back(a.out + "/" + t);
  LRA_CHECK(!roots.empty(), ConfigError, "suite: no cell folders under ", a.out,
            " yet: run the suite first");
  const Report r = make_report(roots);
  write_file_atomic(a.out + "/report.md", r.markdown());
  write_file_atomic(a.out + "/report.json", r.json());
  std::fputs(r.markdown().c_str(), stdout);
  std::printf("suite: report -> %s/report.md, %s/report.json\n", a.out.c_str(), a.out.c_str());
  // Figure 3: the cells' accuracy against a bench's steps/s, marker area = memory.
  if (a.bench.empty() && bench::latest_bench_json().empty()) {
    std::printf(
        "suite: no Figure 3 (no bench figures): measure them with lra_cpu bench --preset tiny "
        "--batch 32 --lengths L, then lra_cpu suite ... --report-only --bench "
        "runs/bench-.../bench.json\n");
    return;
  }
  bench::write_tradeoff(roots, a.bench, a.bench_length, a.out + "/figure3.svg");
}

int run_suite(SuiteArgs a) {
  LRA_CHECK(!a.out.empty(), ConfigError, "suite: --out DIR is required");
  LRA_CHECK(a.jobs >= 1 && a.jobs <= 64, ConfigError, "suite: --jobs must be 1..64 (got ", a.jobs,
            ")");
  LRA_CHECK(a.threads >= 0, ConfigError, "suite: --threads must be >= 0 (got ", a.threads, ")");
  LRA_CHECK(!a.seeds.empty(), ConfigError, "suite: --seeds needs at least one seed");
  for (int64_t s : a.seeds)
    LRA_CHECK(s >= 0, ConfigError, "suite: seeds must be >= 0 (got ", s, ")");
  if (a.report_only) {
    write_report(a);
    return 0;
  }
  // Validate every name before any work.
  std::map<std::string, std::string> given;
  for (const auto& d : a.data) {
    const auto [t, dir] = key_value(d, "--data");
    find_task(t);
    LRA_CHECK(fs::is_directory(dir), ConfigError, "suite: --data ", t, "=", dir,
              ": no such folder");
    given[t] = dir;
  }
  std::vector<std::string> models;
  if (a.models.size() == 1 && a.models[0] == "all") {
    for (const auto& m : attn::mechanisms()) models.push_back(m.name);
  } else {
    for (const auto& m : a.models) {
      attn::find_mechanism(m);
      models.push_back(m);
    }
  }
  for (const auto& t : a.tasks) find_task(t).preset(a.preset);
  Settings check;  // names and values of --set, before any work
  for (const auto& kv : a.sets) {
    const auto [k, v] = key_value(kv, "--set");
    LRA_CHECK(k != "task" && k != "model" && k != "seed" && k != "out" && k != "data" &&
                  k != "threads" && k != "preset",
              ConfigError, "suite: --set ", k,
              " is chosen per cell by the suite: use --tasks, --models, --seeds, --out, --data, "
              "--threads or --preset");
    check.set(k, v, "--set");
  }

  std::vector<Cell> todo;  // seed-major: every model once before the second seed
  size_t done = 0, total = 0;
  for (int64_t seed : a.seeds)
    for (const auto& t : a.tasks)
      for (const auto& m : models) {
        Cell c{t, m, a.out + "/" + t + "/" + m + "/seed" + std::to_string(seed), "", seed, -1, {}};
        c.log = c.dir + ".log";
        ++total;
        if (cell_complete(c.dir))
          ++done;
        else
          todo.push_back(c);
      }
  std::printf(
      "suite: %zu cells (%zu tasks x %zu models x %zu seeds), %zu done, %zu to run, %d at "
      "a time x %d threads\n",
      total, a.tasks.size(), models.size(), a.seeds.size(), done, todo.size(), a.jobs, a.threads);
  std::map<std::string, std::string> data;
  for (const auto& c : todo)
    if (!data.count(c.task)) data[c.task] = task_data(a, given, find_task(c.task));

  std::signal(SIGINT, on_suite_signal);
  std::signal(SIGTERM, on_suite_signal);
  const auto t0 = Clock::now();
  std::vector<Cell> running;
  std::vector<std::pair<std::string, int>> failed;  // cell folder, child's exit code
  size_t next = 0, finished_here = 0;
  int stopped_by = SIGINT;  // the signal that stopped the suite (130 or 143 on exit)
  auto last_line = Clock::now() - std::chrono::hours(1);
  while ((next < todo.size() && g_signal == 0) || !running.empty()) {
    while (g_signal == 0 && next < todo.size() && int(running.size()) < a.jobs) {
      Cell c = todo[next++];
      fs::create_directories(fs::path(c.dir).parent_path());
      const bool resume = fs::exists(c.dir + "/last.state.safetensors");
      if (!resume && fs::exists(c.dir)) {
        std::printf("suite: %s holds no saved state: starting it again\n", c.dir.c_str());
        fs::remove_all(c.dir);
      }
      c.pid = spawn_cell(cell_command(a, c, data[c.task], resume), c.log);
      c.started = Clock::now();
      std::printf("suite: %s %s/%s seed %lld (log %s)\n", resume ? "resume" : "start",
                  c.task.c_str(), c.model.c_str(), (long long)c.seed, c.log.c_str());
      std::fflush(stdout);
      running.push_back(c);
    }
    if (const int sig = g_signal.exchange(0); sig != 0) {
      stopped_by = sig;
      std::printf("suite: signal %d: stopping the running cells (they save `last`)\n", sig);
      for (const auto& c : running) kill(c.pid, SIGINT);
      next = todo.size();
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      auto it =
          std::find_if(running.begin(), running.end(), [&](const Cell& c) { return c.pid == pid; });
      if (it != running.end()) {
        const bool ok = cell_complete(it->dir);
        if (ok) {
          ++done;
          ++finished_here;
        } else if (!(WIFEXITED(status) && WEXITSTATUS(status) == 130)) {
          failed.emplace_back(it->dir,
                              WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        }
        std::printf(
            "suite: %s %s/%s seed %lld after %s (%zu/%zu cells done)\n",
            ok ? "finished" : "stopped", it->task.c_str(), it->model.c_str(), (long long)it->seed,
            format_duration(std::chrono::duration<double>(Clock::now() - it->started).count())
                .c_str(),
            done, total);
        std::fflush(stdout);
        running.erase(it);
      }
      continue;
    }
    if (Clock::now() - last_line > std::chrono::seconds(60)) {
      const double el = std::chrono::duration<double>(Clock::now() - t0).count();
      std::string now;
      for (const auto& c : running)
        now += " " + c.task + "/" + c.model + "/seed" + std::to_string(c.seed) + "@" +
               std::to_string(cell_step(c.dir));
      const size_t left = total - done;
      const std::string eta =
          finished_here > 0 ? format_duration(el / double(finished_here) * double(left)) : "?";
      std::printf("suite: %zu/%zu cells done | running:%s | %s elapsed | eta %s\n", done, total,
                  now.c_str(), format_duration(el).c_str(), eta.c_str());
      std::fflush(stdout);
      last_line = Clock::now();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (const auto& [dir, code] : failed)
    std::fprintf(stderr, "suite: cell %s failed (exit %d): see %s.log\n", dir.c_str(), code,
                 dir.c_str());
  if (done < total) {
    std::printf("suite: %zu/%zu cells done (%zu failed); run the same command again to continue\n",
                done, total, failed.size());
    return failed.empty() ? 128 + stopped_by : exit_code::cells_failed;
  }
  write_report(a);
  return 0;
}

}  // namespace

void add_suite_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand(
      "suite", "the results grid: train every (task, model, seed) cell, resumable, then report");
  auto a = std::make_shared<SuiteArgs>();
  cmd->add_option("--tasks", a->tasks, "tasks, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--models", a->models, "mechanisms, comma-separated, or all")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--seeds", a->seeds, "seeds, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--preset", a->preset, "task preset of every cell")->capture_default_str();
  cmd->add_option("--data", a->data, "TASK=DIR: the data of a task (else generated once)");
  cmd->add_option("--set", a->sets, "KEY=VALUE: a setting for every cell (e.g. steps=500)");
  cmd->add_option("--data-seed", a->data_seed, "seed of the generated data sets")
      ->capture_default_str();
  cmd->add_option("--jobs", a->jobs, "cells run side by side")->capture_default_str();
  cmd->add_option("--threads", a->threads, "threads per cell (0: all cores)")
      ->capture_default_str();
  cmd->add_option("--out", a->out, "the grid's folder: OUT/<task>/<model>/seed<N>")->required();
  cmd->add_flag("--report-only", a->report_only,
                "only write OUT/report.md, report.json and figure3.svg");
  cmd->add_option("--bench", a->bench,
                  "bench.json giving speed and memory for OUT/figure3.svg (Figure 3; default: the "
                  "newest runs/bench-*/bench.json)");
  cmd->add_option("--bench-length", a->bench_length,
                  "sequence length of the bench figures for Figure 3 (default: the longest)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([a, &action]() { action = [a]() { return run_suite(*a); }; });
}

}  // namespace lra::app
