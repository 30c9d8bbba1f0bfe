// Efficiency benchmark in the layout of the LRA paper's Table 2 (docs/lra.md section 8).
//
// One configuration = (mechanism, sequence length, model preset, batch). Its measurement:
//   build the LRA classifier (synthetic random tokens, no padding, as the PyTorch twin,
//   docs/performance.md section 4), run `warmup` untimed training steps, then up to `steps` timed
//   ones, each
//     forward + loss | zero_grad + backward | Adam step       (or the forward alone: inference)
//   and report the median step time, steps/s, the allocator's peak live bytes over the timed
//   steps (parameters, moments and activations: the figure the paper's "memory" means) and the
//   process's peak RSS (getrusage ru_maxrss).
// A sweep runs every configuration in a fresh child process (so peak RSS and the allocator's
// cache belong to that configuration alone) and then derives the paper's ratios: speed and
// memory relative to the Transformer at the same length, and each mechanism's crossover length
// (where it starts beating softmax attention).
//
//   lra_cpu bench --preset tiny --lengths 1024,2048,3072,4096 --out bench/tiny
//     -> bench.md (Markdown tables), bench.json (every figure + the machine),
//        steps_per_s.svg and memory.svg (one line per model against length)
//   ... --twin /usr/bin/python3: the PyTorch twin next to each configuration (see below)
//     -> a side-by-side table in bench.md, twin figures in bench.json, twin_speedup.svg
//
// A configuration that exceeds the `max_mem` budget (allocator bytes, or RSS watched by the
// parent) is reported as "out_of_memory", one that exceeds `timeout_s` as "timeout", and a child
// that dies as "crashed"; the sweep goes on.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace lra::bench {

// A model size the bench knows (the twin's configs): tiny = 2 layers, D 64, H 2, MLP 128,
// batch 8; text = 4 layers, D 256, H 4, MLP 1024, batch 4. Vocab 256, learned positions,
// mean pooling, 2 classes, dropout 0 for both.
struct ModelPreset {
  std::string name;
  int layers = 2;
  int64_t dim = 64, heads = 2, mlp_dim = 128, batch = 8;
};
const std::vector<ModelPreset>& model_presets();
const ModelPreset& find_model_preset(const std::string& name);  // ConfigError when unknown

// Mechanism parameters the bench uses unless overridden: the twin's hyper-parameters
// (local block 256, linformer k 256, performer features 256; lra/measure/mechanism_facts.hpp).
std::map<std::string, std::string> default_mechanism_params(const std::string& mechanism);

struct Config {
  std::string model = "transformer";          // attention mechanism (registry name)
  std::map<std::string, std::string> params;  // mechanism parameters
  std::string preset = "tiny";                // label; the sizes below are what runs
  int64_t seq_len = 1024;
  int64_t batch = 8, dim = 64, heads = 2, mlp_dim = 128, vocab = 256, classes = 2;
  int layers = 2;
  bool inference = false;    // forward only (no gradients), eval mode
  int warmup = 2;            // untimed steps (at least 1 is always run)
  int steps = 10;            // timed steps at most
  int min_steps = 3;         // timed steps at least, whatever the budget
  double budget_s = 15.0;    // stop adding timed steps once warm-up + timed would exceed this
  int threads = 0;           // 0: all cores
  size_t max_mem_bytes = 0;  // 0: no budget
  double timeout_s = 0.0;    // child wall-clock limit (0: none)
  uint64_t seed = 1;
  int64_t sgemm_n = 1024;  // size of the sgemm probe run after the timed steps (0: none)
};

// Config for (preset, mechanism, length) with the default mechanism parameters.
Config preset_config(const std::string& preset, const std::string& model, int64_t seq_len);

// The PyTorch twin's measurement of the same configuration (apps/twin/torch_twin.py, run by
// run_twin next to ours). status: "" (not run), "ok", "n/a" (mechanism not in the twin),
// "skipped" (the twin gave up: too slow), "error" (no result line; message says why).
struct TwinResult {
  std::string status;
  std::string message;
  double median_ms = 0.0, min_ms = 0.0, max_ms = 0.0;
  double cpu_ms = 0.0;  // median CPU time per step, all threads (like Result::cpu_ms)
  std::vector<double> step_ms;
  int timed_steps = 0;
  size_t rss_peak_bytes = 0;  // ru_maxrss of the Python process (interpreter + torch included)
  double wall_s = 0.0;
  bool ok() const { return status == "ok"; }
};

// The same configuration measured by another lra_cpu binary (--baseline), in child processes
// alternating with ours, one of each per repetition. status: "" (not run), "ok", or why not.
struct BaselineResult {
  std::string status;
  std::string message;
  std::string exe;
  int threads = 0;              // worker threads the baseline ran with
  double median_ms = 0.0;       // median over the step times of every repetition
  double cpu_ms = 0.0;          // CPU time per step (all threads), mean of the runs' medians
  std::vector<double> step_ms;  // pooled over repetitions
  size_t rss_peak_bytes = 0;    // highest over repetitions
  int runs = 0;
  bool ok() const { return status == "ok"; }
};

struct Result {
  Config config;
  // "ok", "out_of_memory", "timeout", "crashed", "error"
  std::string status = "ok";
  std::string message;  // why, when status != ok
  int64_t parameters = 0;
  int warmup_steps = 0, timed_steps = 0;
  double first_step_ms = 0.0;
  double median_ms = 0.0, min_ms = 0.0, max_ms = 0.0, steps_per_s = 0.0;
  double forward_ms = 0.0, backward_ms = 0.0, optimizer_ms = 0.0;  // medians
  double cpu_ms = 0.0;       // median CPU time (user + system, all threads) per step: on a
                             // shared machine, wall / CPU shows how much of the cores it got
  double page_faults = 0.0;  // median page faults per step (0 once the allocator is warm)
  std::vector<double> step_ms;
  size_t alloc_peak_bytes = 0;  // allocator peak live bytes during the timed steps
  size_t alloc_held_bytes = 0;  // bytes the allocator holds from the OS at the end (live + cached)
  size_t rss_peak_bytes = 0;    // process peak RSS (whole run)
  size_t rss_base_bytes = 0;    // RSS before the model was built
  double wall_s = 0.0;          // whole configuration, process start to end when in a child
  double flops_per_step = 0.0;  // flops_per_step(config)
  double gflops = 0.0;          // achieved: flops_per_step / median step time
  double sgemm_gflops = 0.0;    // OpenBLAS sgemm rate measured in the same process, same threads
  int runs = 1;                 // child processes pooled into step_ms (--repeats)
  TwinResult twin;              // the PyTorch twin on the same configuration (--twin)
  BaselineResult baseline;      // another lra_cpu binary on the same configuration (--baseline)
  bool ok() const { return status == "ok"; }
};

// Measures one configuration in this process (sets the thread count and, when max_mem_bytes
// is set, the allocator's limit). Never throws for a failed measurement: the status says why.
Result run_config(const Config& c);

// JSON (one object) of a config / result, and back. Used between the parent and its children.
std::string config_to_json(const Config& c);
Config config_from_json(const std::string& text);  // ConfigError on malformed input
std::string result_to_json(const Result& r);
Result result_from_json(const std::string& text);

// Runs one configuration in a child process: `argv` (argv[0] = the executable) followed by
// the config as JSON; reads the result JSON line from the child's stdout. Watches the child's
// RSS (kills it and reports out_of_memory above max_mem_bytes + its baseline) and its wall time
// (timeout). A child that dies or prints no result is reported as crashed.
Result run_in_child(const std::vector<std::string>& argv, const Config& c);

// ---- sweeps -------------------------------------------------------------------------------

struct SweepOptions {
  std::vector<std::string> models;  // empty: every registered mechanism
  std::vector<int64_t> lengths{1024, 2048, 3072, 4096};
  Config base;  // sizes, steps, threads, budget (model and length are set per run)
  std::map<std::string, std::map<std::string, std::string>> params;  // per-model overrides
  std::string twin_python;   // non-empty: run the PyTorch twin after each configuration
  std::string twin_script;   // apps/twin/torch_twin.py
  std::string baseline_exe;  // non-empty: another lra_cpu binary measured A/B beside ours
  int baseline_threads = 0;  // threads of the baseline's runs; 0: ours (--baseline-threads)
  int repeats = 1;           // child processes per configuration (and per baseline), alternating
};

// The machine the numbers come from: CPU model, SIMD flags, cores, threads, BLAS core and
// config, relevant environment variables, compiler. A JSON object as text.
std::string machine_json(int threads);

struct Sweep {
  SweepOptions options;
  std::vector<Result> results;  // in run order
  std::string machine;          // machine_json()
  std::string command;          // the command line that produced it (for the README)
  double wall_s = 0.0;
};

// Progress callback: (index of the configuration just finished, total, its result).
using Progress = std::function<void(size_t done, size_t total, const Result& r)>;
// Runner: measures one configuration (run_config in-process, or run_in_child).
using Runner = std::function<Result(const Config&)>;

// Runs options.models x options.lengths (models in registry order, lengths ascending).
Sweep run_sweep(const SweepOptions& options, const Runner& runner, const Progress& progress = {});

// Speed-up of `model` over the Transformer at the same length (steps/s ratio), memory ratio
// (allocator peak), both 0 when either side is missing or failed.
double speedup(const Sweep& s, const std::string& model, int64_t len);
double memory_ratio(const Sweep& s, const std::string& model, int64_t len);
// Crossover: the length where the speed-up reaches 1, interpolated linearly in log(length)
// between the two measured lengths around it. Returns 0 when the model is at least as fast as
// the Transformer at every measured length ("<= first length"), -1 when it never gets there
// (or no Transformer is in the sweep), else the interpolated length.
double crossover_length(const Sweep& s, const std::string& model);

// Outputs. markdown(): the paper's Table 2 layout (steps/s with speed-up, allocator peak memory
// with ratio), then the crossover lengths and a detail table. json(): every figure + machine.
// svg_plot(): "steps_per_s" or "memory" (MB) against length, one line per model.
std::string markdown(const Sweep& s);
std::string json(const Sweep& s);
std::string svg_plot(const Sweep& s, const std::string& metric);
Sweep sweep_from_json(const std::string& text);  // reads json() back (report --tradeoff)
// Writes bench.md, bench.json, steps_per_s.svg and memory.svg into dir (created), and
// twin_speedup.svg when the sweep ran the PyTorch twin.
void write_outputs(const Sweep& s, const std::string& dir);
// Only the charts of write_outputs (lra_cpu plot --bench redraws them from a bench.json).
void write_charts(const Sweep& s, const std::string& dir);

// ---- work and the baseline binary (bench_flops.cpp, bench_baseline.cpp) -------------------

// FLOPs of one layer's attention core (forward) and of one whole step (training: 3x forward),
// counted from the sizes and mechanism parameters (bench_flops.cpp has the formulas).
double attention_flops(const Config& c);
double flops_per_step(const Config& c);

// Measures c `repeats` times with `ours` and, when baseline_exe is set, as often with
// `baseline_exe bench --child` (older binaries speak the same JSON), alternating ours/baseline
// so machine load hits both alike; step times are pooled over the repetitions. The baseline
// runs c with baseline_threads threads (0: c.threads), e.g. this binary with 1 thread against
// ours with 2: the speed-up is then the thread scaling.
Result run_repeated(const Config& c, const Runner& ours, const std::string& baseline_exe,
                    int repeats, int baseline_threads = 0);
// Pools `next` (another process's measurement of the same configuration) into `into`.
void pool_result(Result& into, const Result& next);
// The baseline's median step over ours (> 1: we are faster), and our peak RSS over the
// baseline's; 0 when either side is missing or failed.
double baseline_speedup(const Result& r);
double baseline_rss_ratio(const Result& r);
// The same ratio in CPU time per step: the steadier figure when other work shares the cores.
double baseline_cpu_speedup(const Result& r);
// The A/B table (Markdown): medians, ratios, RSS; "" when no configuration has a baseline.
std::string baseline_markdown(const Sweep& s);
// Work per step, achieved GFLOP/s and the sgemm rate beside it (Markdown).
std::string flops_markdown(const Sweep& s);

// ---- the PyTorch twin (bench_twin.cpp) ----------------------------------------------------
//
// `lra_cpu bench --twin /usr/bin/python3` runs apps/twin/torch_twin.py (PyTorch 1.13, the team's
// peer) in a child process right after each of our configurations, so machine noise hits both
// alike, in the peer's "tuned" environment (glibc malloc that never returns memory, passive
// OpenMP/OpenBLAS waiting: docs/performance.md section 4), same sizes, threads, mechanism
// hyper-parameters, warm-up and step budget. The twin has transformer, local, linformer, linear
// and performer; the other mechanisms are reported as "n/a in twin".

// The twin's --attn name of a mechanism, "" when the twin lacks it.
std::string twin_attn(const std::string& model);
// The twin's command line for a configuration (python, script, then its flags).
std::vector<std::string> twin_argv(const std::string& python, const std::string& script,
                                   const Config& c);
// The variables the twin runs with on top of the inherited environment ("NAME=value").
std::vector<std::string> twin_environment();
// Runs the twin on c (status "n/a" without running anything when it lacks the mechanism).
TwinResult run_twin(const std::string& python, const std::string& script, const Config& c);
// Parses the twin's JSON line ("skipped" lines included); status "error" when malformed.
TwinResult twin_from_json(const std::string& line);
// apps/twin/torch_twin.py near the executable (build trees inside the source tree) or in the
// working directory; "" when not found.
std::string find_twin_script(const std::string& exe_path);
// Our speed-up over the twin (twin ms / our ms), the same in CPU time per step (the steadier
// figure on a shared machine), and our peak RSS over the twin's; 0 when either side is missing.
double twin_speedup(const Result& r);
double twin_cpu_speedup(const Result& r);
double twin_rss_ratio(const Result& r);
// The side-by-side table (Markdown) and a plot of the speed-up against length ("" / an empty
// chart when no configuration has a twin figure).
std::string twin_markdown(const Sweep& s);
std::string twin_svg(const Sweep& s);

// ---- Figure 3: accuracy against speed, memory as marker size ------------------------------

struct TradeoffPoint {
  std::string model;
  double accuracy = 0.0;     // mean over Tradeoff::columns, in [0, 1]
  double steps_per_s = 0.0;  // at the chosen length
  double memory_mb = 0.0;    // marker area proportional to it
  int tasks = 0;             // columns behind the accuracy
};
// Only comparable cells go on one axis: every point averages the same report columns (task,
// preset, length, steps), the set most models share (all five tasks: the LRA average).
struct Tradeoff {
  std::vector<TradeoffPoint> points;
  std::vector<std::string> columns;   // the report columns averaged, e.g. "ListOps-500 (cpu, ...)"
  std::vector<std::string> left_out;  // models with runs and bench figures but not these columns
  int64_t length = 0;                 // the bench length of speed and memory
};
// Points from run folders (as `lra_cpu report` reads them: lra/report.hpp, seeds averaged) and
// a bench.json (speed and memory at `length`, 0: the longest measured). Models present in only
// one of the two are left out.
Tradeoff tradeoff_points(const std::vector<std::string>& run_paths,
                         const std::string& bench_json_path, int64_t length);
// Figure 3; the caption says which columns the accuracy averages and which models were left out.
std::string tradeoff_svg(const Tradeoff& t, const std::string& title);
// Figure 3 of run folders written to svg_path (atomically), with speed and memory from
// bench_json ("": the newest runs/bench-*/bench.json; ConfigError when there is none).
Tradeoff write_tradeoff(const std::vector<std::string>& run_paths, std::string bench_json,
                        int64_t length, const std::string& svg_path);
// The most recent <root>/bench-*/bench.json of a training sweep (lra_cpu bench's default
// output folders), "" when there is none: the default bench of `report --tradeoff`.
std::string latest_bench_json(const std::string& root = "runs");

}  // namespace lra::bench
