// lra_cpu bench: the paper's efficiency table (Table 2) on this machine — every model at every
// length, each configuration in a fresh child process (lra/include/lra/lra/measure/bench.hpp).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "commands.hpp"
#include "lra/attention/options.hpp"
#include "lra/core/error.hpp"
#include "lra/core/text.hpp"  // format_duration, timestamp
#include "lra/lra/measure/bench.hpp"

namespace lra::app {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

// "8G", "512M", "1.5GB", "1000000" -> bytes.
size_t parse_bytes(const std::string& s) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (...) {
    used = 0;
  }
  LRA_CHECK(used > 0 && v >= 0, ConfigError, "--max-mem ", s, " is not a size (e.g. 8G, 512M)");
  std::string unit = s.substr(used);
  for (char& ch : unit) ch = char(std::toupper(static_cast<unsigned char>(ch)));
  if (!unit.empty() && unit.back() == 'B') unit.pop_back();
  double mult = 1;
  if (unit == "K")
    mult = 1024.0;
  else if (unit == "M")
    mult = 1024.0 * 1024;
  else if (unit == "G")
    mult = 1024.0 * 1024 * 1024;
  else
    LRA_CHECK(unit.empty(), ConfigError, "--max-mem ", s, ": unknown unit (use K, M or G)");
  return size_t(v * mult);
}

std::string self_exe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  LRA_CHECK(n > 0, IoError, "bench: cannot find this executable (/proc/self/exe)");
  return std::string(buf, size_t(n));
}

struct BenchFlags {
  std::string models = "all", lengths = "1024,2048,3072,4096", preset = "tiny", out, max_mem;
  std::string child, twin, twin_script, baseline;
  std::vector<std::string> attn;
  int64_t batch = 0;
  int steps = 10, warmup = 2, threads = 0, repeats = 0, baseline_threads = 0;
  double budget = 15.0, timeout = 600.0;
  bool inference = false, in_process = false;
};

}  // namespace

void add_bench_command(CLI::App& app, Action& action) {
  auto f = std::make_shared<BenchFlags>();
  auto* cmd = app.add_subcommand(
      "bench", "training (or inference) speed and memory per model and length, like LRA Table 2");
  cmd->add_option("--models", f->models, "all, or a comma-separated list of mechanisms")
      ->capture_default_str();
  cmd->add_option("--lengths", f->lengths, "sequence lengths, comma-separated")
      ->capture_default_str();
  cmd->add_option("--preset", f->preset,
                  "model size: tiny (2L D64 H2 MLP128 batch 8) or text "
                  "(4L D256 H4 MLP1024 batch 4)")
      ->capture_default_str();
  cmd->add_option("--batch", f->batch, "examples per step (default: the preset's)");
  cmd->add_option("--steps", f->steps, "timed steps per configuration, at most")
      ->capture_default_str();
  cmd->add_option("--warmup", f->warmup, "untimed warm-up steps")->capture_default_str();
  cmd->add_option(
         "--budget", f->budget,
         "seconds per configuration: fewer timed steps (never below 3) when they would not fit")
      ->capture_default_str();
  cmd->add_option("--threads", f->threads, "worker threads (0: all cores)")->capture_default_str();
  cmd->add_option("--out", f->out, "output folder (default: runs/bench-<preset>-<time>)");
  cmd->add_flag("--inference", f->inference, "time the forward pass alone (no gradients)");
  cmd->add_option("--max-mem", f->max_mem,
                  "memory budget per configuration (e.g. 4G): over it the configuration is "
                  "reported out of memory");
  cmd->add_option("--timeout", f->timeout, "seconds before a configuration is stopped (0: never)")
      ->capture_default_str();
  cmd->add_option("--attn", f->attn,
                  "mechanism parameters MODEL:name=value[,name=value] (repeatable); defaults: "
                  "local:block=256 linformer:k=256 performer:features=256");
  cmd->add_option("--twin", f->twin,
                  "Python with torch (e.g. /usr/bin/python3): run the PyTorch twin "
                  "(apps/twin/torch_twin.py) after each configuration, side by side");
  cmd->add_option("--twin-script", f->twin_script,
                  "the twin script (default: apps/twin/torch_twin.py near the executable or here)");
  cmd->add_option("--baseline", f->baseline,
                  "another lra_cpu binary (e.g. an older build): each configuration is measured "
                  "by both, alternating, and the ratio of median steps is printed");
  cmd->add_option("--baseline-threads", f->baseline_threads,
                  "threads of the baseline's runs (default: --threads); with this binary as "
                  "--baseline and 1 here, the speed-up is the thread scaling");
  cmd->add_option("--repeats", f->repeats,
                  "child processes per configuration, pooled (default 1; 3 with --baseline)");
  cmd->add_flag("--in-process", f->in_process,
                "measure in this process instead of one child per configuration (debugging)");
  cmd->add_option("--child", f->child, "internal: measure one configuration given as JSON")
      ->group("");
  cmd->callback([f, &action]() {
    action = [f]() {
      if (!f->child.empty()) {  // child mode: one configuration, one JSON line on stdout
        bench::Result r = bench::run_config(bench::config_from_json(f->child));
        std::printf("%s\n", bench::result_to_json(r).c_str());
        std::fflush(stdout);
        return 0;
      }
      bench::SweepOptions o;
      if (f->models != "all") o.models = split(f->models, ',');
      o.lengths.clear();
      for (const std::string& l : split(f->lengths, ',')) {
        int64_t n = 0;
        try {
          n = std::stoll(l);
        } catch (...) {
        }
        LRA_CHECK(n > 0, ConfigError, "--lengths: '", l, "' is not a positive integer");
        o.lengths.push_back(n);
      }
      o.base = bench::preset_config(f->preset, "transformer", 1024);
      if (f->batch > 0) o.base.batch = f->batch;
      o.base.steps = f->steps;
      o.base.warmup = f->warmup;
      o.base.budget_s = f->budget;
      o.base.threads = f->threads;
      o.base.inference = f->inference;
      o.base.timeout_s = f->timeout;
      if (!f->max_mem.empty()) o.base.max_mem_bytes = parse_bytes(f->max_mem);
      for (const std::string& a : f->attn) {
        size_t colon = a.find(':');
        LRA_CHECK(colon != std::string::npos && colon > 0, ConfigError, "--attn ", a,
                  ": expected MODEL:name=value[,name=value]");
        for (const auto& [k, v] : attn::parse_param_list(a.substr(colon + 1)))
          o.params[a.substr(0, colon)][k] = v;
      }
      if (!f->baseline.empty()) {
        LRA_CHECK(access(f->baseline.c_str(), X_OK) == 0, ConfigError, "--baseline ", f->baseline,
                  " is not an executable file; give the path of another lra_cpu binary");
        o.baseline_exe = f->baseline;
      }
      LRA_CHECK(f->baseline_threads >= 0, ConfigError, "--baseline-threads must be at least 1");
      LRA_CHECK(f->baseline_threads == 0 || !f->baseline.empty(), ConfigError,
                "--baseline-threads needs --baseline (e.g. --baseline ", self_exe(),
                " --baseline-threads 1 for the thread scaling)");
      o.baseline_threads = f->baseline_threads;
      LRA_CHECK(f->repeats >= 0, ConfigError, "--repeats must be at least 1");
      o.repeats = f->repeats > 0 ? f->repeats : (f->baseline.empty() ? 1 : 3);
      if (!f->twin.empty()) {
        o.twin_python = f->twin;
        o.twin_script =
            f->twin_script.empty() ? bench::find_twin_script(self_exe()) : f->twin_script;
        LRA_CHECK(!o.twin_script.empty(), ConfigError,
                  "--twin: apps/twin/torch_twin.py not found near the executable or in the working "
                  "directory; give --twin-script PATH");
      }
      std::string out = f->out.empty() ? "runs/bench-" + f->preset +
                                             (f->inference ? "-inference" : "") + "-" + timestamp()
                                       : f->out;
      std::ostringstream cmdline;
      cmdline << "lra_cpu bench --preset " << f->preset << " --models " << f->models
              << " --lengths " << f->lengths;
      if (f->batch > 0) cmdline << " --batch " << f->batch;
      cmdline << " --steps " << f->steps << " --warmup " << f->warmup << " --budget " << f->budget;
      if (f->threads > 0) cmdline << " --threads " << f->threads;
      if (f->inference) cmdline << " --inference";
      if (!f->max_mem.empty()) cmdline << " --max-mem " << f->max_mem;
      for (const std::string& a : f->attn) cmdline << " --attn " << a;
      if (!f->twin.empty()) cmdline << " --twin " << f->twin;
      if (!f->baseline.empty()) cmdline << " --baseline " << f->baseline;
      if (f->baseline_threads > 0) cmdline << " --baseline-threads " << f->baseline_threads;
      if (o.repeats > 1) cmdline << " --repeats " << o.repeats;

      const std::vector<std::string> child_argv = {self_exe(), "bench", "--child"};
      bench::Runner runner = [&](const bench::Config& c) {
        return f->in_process ? bench::run_config(c) : bench::run_in_child(child_argv, c);
      };
      const auto t0 = std::chrono::steady_clock::now();
      auto progress = [&](size_t done, size_t total, const bench::Result& r) {
        double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        double eta = el / double(done) * double(total - done);
        if (r.ok())
          std::fprintf(
              stderr,
              "[%zu/%zu] %-11s N=%-5lld %8.1f ms/%s (%6.2f/s, %d timed) alloc peak %6.0f MB, "
              "RSS %6.0f MB | %s elapsed, eta %s\n",
              done, total, r.config.model.c_str(), (long long)r.config.seq_len, r.median_ms,
              f->inference ? "fwd " : "step", r.steps_per_s, r.timed_steps,
              double(r.alloc_peak_bytes) / 1e6, double(r.rss_peak_bytes) / 1e6,
              format_duration(el).c_str(), format_duration(eta).c_str());
        else
          std::fprintf(stderr, "[%zu/%zu] %-11s N=%-5lld %s: %s | %s elapsed, eta %s\n", done,
                       total, r.config.model.c_str(), (long long)r.config.seq_len, r.status.c_str(),
                       r.message.c_str(), format_duration(el).c_str(),
                       format_duration(eta).c_str());
        if (r.baseline.ok())
          std::fprintf(
              stderr,
              "        baseline %8.1f ms/step, RSS %6.0f MB -> ours %.2fx faster (CPU time "
              "%.2fx; %d+%d runs)\n",
              r.baseline.median_ms, double(r.baseline.rss_peak_bytes) / 1e6,
              bench::baseline_speedup(r), bench::baseline_cpu_speedup(r), r.runs, r.baseline.runs);
        else if (!r.baseline.status.empty())
          std::fprintf(stderr, "        baseline %s: %s\n", r.baseline.status.c_str(),
                       r.baseline.message.c_str());
        if (r.twin.ok())
          std::fprintf(stderr,
                       "        twin (PyTorch) %8.1f ms/step, RSS %6.0f MB -> ours %.2fx faster "
                       "(CPU time %.2fx)\n",
                       r.twin.median_ms, double(r.twin.rss_peak_bytes) / 1e6,
                       bench::twin_speedup(r), bench::twin_cpu_speedup(r));
        else if (!r.twin.status.empty() && r.twin.status != "n/a")
          std::fprintf(stderr, "        twin %s: %s\n", r.twin.status.c_str(),
                       r.twin.message.c_str());
        std::fflush(stderr);
      };
      std::fprintf(stderr, "bench: preset %s, batch %lld, lengths %s, results in %s\n",
                   f->preset.c_str(), (long long)o.base.batch, f->lengths.c_str(), out.c_str());
      bench::Sweep s = bench::run_sweep(o, runner, progress);
      s.command = cmdline.str();
      bench::write_outputs(s, out);
      std::printf("%s\nwritten: %s/bench.md, bench.json, steps_per_s.svg, memory.svg%s\n",
                  bench::markdown(s).c_str(), out.c_str(),
                  f->twin.empty() ? "" : ", twin_speedup.svg");
      return 0;
    };
  });
}

}  // namespace lra::app
