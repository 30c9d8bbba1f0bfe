// lra_cpu train: resolve settings (defaults < preset < --config FILE < flags), find or
// generate data, train into a run folder (lra/lra/train/run.hpp), report test accuracy of the
// best-validation checkpoint. --resume DIR continues a run exactly; --seeds 1,2,3 runs one
// folder per seed and records mean and std; Ctrl-C (SIGINT/SIGTERM) saves `last` and exits.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/lra/measure/report.hpp"
#include "lra/lra/measure/run_plots.hpp"
#include "lra/lra/train/distributed.hpp"
#include "lra/lra/train/memory_check.hpp"
#include "lra/lra/train/run.hpp"
#include "lra/lra/train/run_folder.hpp"
#include "lra/lra/train/trainer.hpp"
#include "progress.hpp"
#include "settings_flags.hpp"

#ifndef LRA_VERSION
#define LRA_VERSION "0.0.0"
#endif

namespace lra::app {

GenerateOptions generate_options(const Settings& s) {
  GenerateOptions g;
  g.train = s.get_int("gen_train");
  g.val = s.get_int("gen_val");
  g.test = s.get_int("gen_test");
  g.seed = uint64_t(s.get_int("seed"));
  if (!s.get("gen_min_len").empty()) g.min_len = s.get_int("gen_min_len");
  if (!s.get("gen_max_len").empty()) g.max_len = s.get_int("gen_max_len");
  return g;
}

namespace {

namespace fs = std::filesystem;

std::atomic<bool> g_stop{false};
std::atomic<int> g_stop_signal{SIGINT};  // exit code 128 + signal: 130 SIGINT, 143 SIGTERM
// Rank 0's words when mpirun stops the job because a rank died (report_lost_ranks).
char g_lost_rank_hint[1024] = "\n";
extern "C" void on_stop_signal(int sig) {
  if (sig == SIGTERM) report_lost_ranks(g_lost_rank_hint);
  g_stop_signal.store(sig);
  g_stop.store(true);
  std::signal(sig, SIG_DFL);  // a second Ctrl-C ends the process at once
}

// A task whose data cannot be generated needs --data: say where that data comes from.
void require_data_source(const Settings& s, const TaskInfo& task) {
  LRA_CHECK(task.generate || !s.get("data").empty(), ConfigError, "task ", task.name,
            " needs --data DIR: its data cannot be generated. Get it from ", task.data_source,
            ". The folder holds ", task.layout, "; `lra_cpu data check --task ", task.name,
            " --data DIR` checks it");
}

// The data folder for a run: --data, or a generated set cached under data/ by its settings.
std::string data_folder(const Settings& s, const TaskInfo& task) {
  require_data_source(s, task);
  if (!s.get("data").empty()) return s.get("data");
  GenerateOptions g = generate_options(s);
  std::string dir = "data/" + task.name + "-generated-s" + std::to_string(g.seed) + "-n" +
                    std::to_string(g.train) + "-" + std::to_string(g.val) + "-" +
                    std::to_string(g.test) + "-len" + std::to_string(g.min_len) + "-" +
                    std::to_string(g.max_len);
  if (fs::exists(dir + "/.complete")) {
    std::printf("using generated data in %s\n", dir.c_str());
    return dir;
  }
  std::printf("no --data given: generating a small %s set in %s\n", task.name.c_str(), dir.c_str());
  ProgressBar bar("generate", size_t(g.train + g.val + g.test));
  g.progress = [&](size_t done, size_t) { bar.update(done); };
  task.generate(dir, g);
  bar.finish();
  write_file_atomic(dir + "/.complete", "");
  return dir;
}

void print_settings(const Settings& s) {
  std::printf("settings (value <- source):\n");
  for (const auto& [k, e] : s.entries())
    if (e.source != "default" || k == "seed")
      std::printf("  %-13s %-12s <- %s\n", k.c_str(), cut_for_message(e.value).c_str(),
                  e.source.c_str());
}

struct TrainArgs {
  std::string config, resume, seeds;
  std::string command;  // the command line, for config.json
};

// One run into `out`. Returns the exit code (0 done, 130 interrupted).
int run_one(Settings s, const std::string& out, bool resume, const TrainArgs& a,
            TrainResult* result) {
  const TaskInfo& task = find_task(s.get("task"));
  require_data_source(s, task);
  if (!resume && holds_run(out)) {  // refused before any work
    FileLock probe;
    lock_run_folder(probe, out, false);  // in use: a CheckpointError naming the process
    throw ConfigError(out + " already holds a run: continue it with --resume " + out +
                      " or pick a new --out");
  }
  s.set("out", out, resume ? s.source("out") : "run folder");
  if (!resume) print_settings(s);
  ModelConfig mc = model_config(s, task);
  const std::string memory =  // this rank's micro-batch, before data or model
      check_memory(mc, s.get_int("batch"), world().size(), s.get_int("accumulate"));
  std::printf("%s\n", memory.c_str());
  std::string dir = world().is_root() ? data_folder(s, task) : "";  // one rank generates
  world().barrier();
  if (!world().is_root()) dir = data_folder(s, task);
  std::printf("reading %s ...\n", dir.c_str());
  std::fflush(stdout);
  TaskData data = task.load(dir, mc.max_len);
  std::printf("data %s: %zu train, %zu val, %zu test examples\n", dir.c_str(),
              data.train.examples.size(), data.val.examples.size(), data.test.examples.size());
  for (const std::string& n : data.notes) std::printf("note: %s\n", n.c_str());
  std::fflush(stdout);

  TrainProgress progress;
  TrainHooks hooks;
  hooks.log = [&](const std::string& line) { progress.line(line); };
  // One ETA line early in the run, from the speed of steps after the first few: the first
  // steps also touch fresh memory pages and warm the caches, and counting them made the
  // estimate pessimistic. Measured over 10 steps after kWarmup, or over 3 s when slower.
  constexpr int64_t kWarmup = 3;
  int64_t session_steps = 0;
  bool eta_said = false;
  std::chrono::steady_clock::time_point t_warm;
  if (world().is_root()) {  // the other ranks print nothing (stdout: /dev/null)
    hooks.on_step = [&](const StepInfo& si) {
      progress.step(si);
      ++session_steps;
      if (session_steps == kWarmup) t_warm = std::chrono::steady_clock::now();
      if (eta_said || session_steps <= kWarmup || si.step >= si.total) return;
      const int64_t measured = session_steps - kWarmup;
      const double dt =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t_warm).count();
      if (measured < 10 && dt < 3.0) return;
      eta_said = true;
      const double rate = double(measured) / std::max(dt, 1e-9);
      const int64_t every = s.get_int("eval_every");
      const long long evals = every > 0 ? (long long)((si.total - si.step) / every) : 0;
      char line[240];
      std::snprintf(line, sizeof line,
                    "eta: about %s for the %lld steps left at %.2f steps/s (measured over %lld "
                    "steps after %lld warm-up steps), plus %lld evaluations and the test set",
                    format_duration(double(si.total - si.step) / rate).c_str(),
                    (long long)(si.total - si.step), rate, (long long)measured, (long long)kWarmup,
                    evals);
      progress.line(line);
    };
    hooks.on_eval_progress = [&](const std::string& w, size_t d, size_t t) {
      progress.eval(w, d, t);
    };
  }
  hooks.on_metrics = write_run_plots;  // loss.svg, accuracy.svg
  TrainOptions opt;
  opt.out_dir = out;
  opt.resume = resume;
  opt.stop = &g_stop;
  std::error_code ec;
  fs::path abs = fs::absolute(dir, ec);
  opt.data_dir = ec ? dir : abs.lexically_normal().string();
  opt.info = {{"command", a.command}, {"lra_cpu", LRA_VERSION}};
  if (!a.config.empty()) opt.info["config_file"] = a.config;

  g_stop.store(false);
  std::snprintf(
      g_lost_rank_hint, sizeof g_lost_rank_hint,
      "; the last checkpoint in %s stays valid: continue with lra_cpu train --resume %s\n",
      out.c_str(), out.c_str());
  auto prev_int = std::signal(SIGINT, on_stop_signal);
  auto prev_term = std::signal(SIGTERM, on_stop_signal);
  TrainResult r;
  try {
    r = train(s, task, data, opt, hooks);
  } catch (...) {  // main() maps the error to its exit code
    progress.clear();
    std::signal(SIGINT, prev_int);
    std::signal(SIGTERM, prev_term);
    throw;
  }
  progress.clear();
  std::signal(SIGINT, prev_int);
  std::signal(SIGTERM, prev_term);
  if (result) *result = r;
  if (r.interrupted) {
    const int sig = g_stop_signal.load();
    std::printf("stopped by %s at step %lld; continue with: lra_cpu train --resume %s\n",
                sig == SIGTERM ? "SIGTERM" : "SIGINT", (long long)r.steps, out.c_str());
    return 128 + sig;
  }
  std::printf("results written to %s/results.json\n", out.c_str());
  return 0;
}

std::vector<uint64_t> parse_seeds(const std::string& text) {
  std::vector<uint64_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t used = 0;
    uint64_t v = 0;
    try {
      v = std::stoull(item, &used);
    } catch (...) {
      used = 0;
    }
    LRA_CHECK(!item.empty() && used == item.size(), ConfigError, "--seeds ", text, ": '", item,
              "' is not a seed; use e.g. --seeds 1,2,3");
    for (uint64_t s : out)
      LRA_CHECK(s != v, ConfigError, "--seeds ", text, ": seed ", v, " appears twice");
    out.push_back(v);
  }
  LRA_CHECK(!out.empty(), ConfigError, "--seeds is empty; use e.g. --seeds 1,2,3");
  return out;
}

int run_seeds(const Settings& base, const std::string& out, const TrainArgs& a) {
  std::vector<uint64_t> seeds = parse_seeds(a.seeds);
  make_dirs(out);
  nlohmann::json summary = {{"task", base.get("task")},
                            {"model", base.get("model")},
                            {"preset", base.get("preset")},
                            {"seeds", seeds},
                            {"runs", nlohmann::json::array()}};
  // Every seed trains on one data set, so the spread is the initialisation's, not the data's:
  // a generated set is made once, with the first seed.
  Settings shared = base;
  if (base.get("data").empty()) {
    Settings first = base;
    first.set("seed", std::to_string(seeds[0]), "flag --seeds");
    shared.set("data", data_folder(first, find_task(base.get("task"))),
               "generated once for every seed of --seeds");
  }
  std::vector<double> test, val;
  for (uint64_t seed : seeds) {
    Settings s = shared;
    s.set("seed", std::to_string(seed), "flag --seeds");
    const std::string dir = out + "/seed-" + std::to_string(seed);
    const bool resume =
        fs::exists(dir + "/" + run_files::state) && !fs::exists(dir + "/" + run_files::results);
    if (fs::exists(dir + "/" + run_files::results)) {
      std::printf("== seed %llu: already finished in %s\n", (unsigned long long)seed, dir.c_str());
    } else {
      std::printf("== seed %llu -> %s%s\n", (unsigned long long)seed, dir.c_str(),
                  resume ? " (resuming)" : "");
      int rc = run_one(resume ? read_run(dir).settings : s, dir, resume, a, nullptr);
      if (rc != 0) return rc;
    }
    RunInfo r = read_run(dir);
    test.push_back(r.test_accuracy);
    val.push_back(r.best_val_accuracy);
    summary["runs"].push_back({{"seed", seed},
                               {"dir", dir},
                               {"test_accuracy", r.test_accuracy},
                               {"best_val_accuracy", r.best_val_accuracy},
                               {"best_step", r.best_step}});
  }
  double tm, ts, vm, vs;
  mean_std(test, tm, ts);
  mean_std(val, vm, vs);
  summary["test_accuracy"] = {{"mean", tm}, {"std", ts}, {"values", test}};
  summary["best_val_accuracy"] = {{"mean", vm}, {"std", vs}, {"values", val}};
  summary["std"] = "sample standard deviation (n - 1)";
  write_file_atomic(out + "/seeds.json", summary.dump(2) + "\n");
  std::printf(
      "seeds %s: test accuracy %.4f +- %.4f (mean +- std over %zu runs); written to "
      "%s/seeds.json\n",
      a.seeds.c_str(), tm, ts, seeds.size(), out.c_str());
  return 0;
}

}  // namespace

void add_train_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("train", "train a model on an LRA task");
  auto flags = std::make_shared<SettingFlags>();
  auto args = std::make_shared<TrainArgs>();
  flags->add_to(*cmd);
  cmd->add_option("--config", args->config,
                  "TOML file of settings (key = value); flags override it, unknown keys are "
                  "errors");
  cmd->add_option("--resume", args->resume,
                  "continue the run in this folder exactly (its settings; only --threads, "
                  "--accumulate and "
                  "--data may be given)");
  cmd->add_option("--seeds", args->seeds,
                  "run once per seed (e.g. 1,2,3) into OUT/seed-N and record mean and std in "
                  "OUT/seeds.json");
  cmd->callback([flags, args, &action]() {
    action = [flags, args]() {
      TrainArgs& a = *args;
      a.command = "lra_cpu train";
      if (!a.config.empty()) a.command += " --config " + a.config;
      if (!a.seeds.empty()) a.command += " --seeds " + a.seeds;
      for (const auto& [k, v] : flags->given()) a.command += " " + flag_name(k) + " " + v;
      if (!a.resume.empty()) {
        LRA_CHECK(a.config.empty() && a.seeds.empty(), ConfigError,
                  "--resume continues a run with its own settings: drop --config/--seeds");
        RunInfo run = read_run(a.resume);
        Settings s = run.settings;
        for (const auto& [k, v] : flags->given()) {
          if (k == "threads" || k == "data" || k == "accumulate") {
            s.set(k, v, "flag " + flag_name(k) + " (resume)");
            continue;
          }
          LRA_CHECK(v == s.get(k), ConfigError, flag_name(k), " ", v,
                    ": a resumed run keeps its settings (", a.resume, "/config.json has ", k, " = ",
                    s.get(k), "); start a new run with --out to change it");
        }
        if (!flags->given().count("data") && !run.data_dir.empty())
          s.set("data", run.data_dir, s.source("data"));
        TrainArgs b = a;
        b.command = "lra_cpu train --resume " + a.resume;
        if (run.has_results && run.status == "complete")
          std::printf("note: %s already finished; evaluating its best checkpoint again\n",
                      a.resume.c_str());
        return run_one(s, a.resume, true, b, nullptr);
      }
      Settings s = flags->resolve(a.config);
      const TaskInfo& task = find_task(s.get("task"));
      std::string out = s.get("out").empty()
                            ? "runs/" + task.name + "-" + s.get("model") + "-" + timestamp()
                            : s.get("out");
      if (!a.seeds.empty()) {
        LRA_CHECK(!flags->given().count("seed"), ConfigError,
                  "--seed and --seeds together: use --seeds 1,2,3 alone");
        print_settings(s);
        return run_seeds(s, out, a);
      }
      return run_one(s, out, false, a, nullptr);
    };
  });
}

}  // namespace lra::app
