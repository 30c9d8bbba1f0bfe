// lra_cpu bench, the runner: one configuration measured in this process (run_config), in a
// child process (run_in_child), and the sweep over models x lengths. See
// lra/include/lra/lra/measure/bench.hpp for what is measured and how.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <new>
#include <sstream>
#include <thread>

#include "lra/attention/registry.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/allocator.hpp"
#include "lra/core/kernels.hpp"
#include "lra/core/threading.hpp"
#include "lra/lra/measure/child.hpp"
#include "lra/lra/train/engine_info.hpp"
#include "lra/lra/train/model.hpp"
#include "lra/nn/loss.hpp"
#include "lra/nn/optim.hpp"
#include "measure/bench_util.hpp"

namespace lra::bench {
namespace {

struct Usage {
  double cpu_ms = 0, faults = 0;
};
Usage usage() {  // this process: user + system CPU time, minor + major page faults
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return {1e3 * double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
              1e-3 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec),
          double(u.ru_minflt + u.ru_majflt)};
}

// The 1-minute load average (/proc/loadavg), -1 when unreadable.
double load_average() {
  std::ifstream f("/proc/loadavg");
  double v = -1;
  f >> v;
  return v;
}

}  // namespace

// ---- one configuration -------------------------------------------------------------------

Result run_config(const Config& c) {
  Result r;
  r.config = c;
  const auto t_start = Clock::now();
  try {
    LRA_CHECK(c.seq_len > 0 && c.batch > 0, ConfigError,
              "bench: seq_len and batch must be positive");
    set_num_threads(c.threads);
    r.config.threads = num_threads();
    set_memory_limit(c.max_mem_bytes);
    r.rss_base_bytes = child::proc_status_bytes("self", "VmRSS:");

    ModelConfig mc;
    mc.mechanism = c.model;
    mc.mechanism_params = c.params;
    mc.vocab = c.vocab;
    mc.max_len = c.seq_len;
    mc.dim = c.dim;
    mc.heads = c.heads;
    mc.qkv_dim = c.dim;
    mc.mlp_dim = c.mlp_dim;
    mc.layers = c.layers;
    mc.dropout = 0.0f;
    mc.attn_dropout = 0.0f;
    mc.pooling = nn::Pooling::Mean;
    mc.positions = nn::Positions::Learned;
    mc.classes = c.classes;
    mc.seed = c.seed;
    LraModel model(mc);
    r.parameters = model.num_parameters();
    std::unique_ptr<nn::Adam> adam;
    nn::AdamConfig ac;  // lr 1e-4 below, like the twin
    if (!c.inference) adam = std::make_unique<nn::Adam>(model.named_parameters(), ac);
    std::vector<data::Batch> batches;
    for (uint64_t i = 0; i < 4; ++i) batches.push_back(random_batch(c, i));
    reset_peak_memory();

    struct Times {
      double total, fwd, bwd, opt, cpu, faults;
    };
    auto step = [&](int i) -> Times {
      const data::Batch& b = batches[size_t(i) % batches.size()];
      const Usage u0 = usage();
      const auto t0 = Clock::now();
      Times t{};
      struct Finish {  // CPU time and page faults of the step, however it returns
        Times& t;
        Usage u0;
        ~Finish() {
          Usage u1 = usage();
          t.cpu = u1.cpu_ms - u0.cpu_ms;
          t.faults = u1.faults - u0.faults;
        }
      } finish{t, u0};
      if (c.inference) {
        NoGradGuard ng;
        nn::ForwardContext ctx{false, c.seed, uint64_t(i)};
        Var logits = model.forward(b, ctx);
        (void)logits.data().data<float>()[0];
        t.fwd = t.total = ms_since(t0);
        return t;
      }
      nn::ForwardContext ctx{true, c.seed, uint64_t(i + 1)};
      nn::LossOut lo = nn::classification_loss(model.forward(b, ctx), b.labels);
      const auto t1 = Clock::now();
      adam->zero_grad();
      lo.loss.backward();
      const auto t2 = Clock::now();
      adam->step(1e-4f);
      const auto t3 = Clock::now();
      t.fwd = std::chrono::duration<double, std::milli>(t1 - t0).count();
      t.bwd = std::chrono::duration<double, std::milli>(t2 - t1).count();
      t.opt = std::chrono::duration<double, std::milli>(t3 - t2).count();
      t.total = std::chrono::duration<double, std::milli>(t3 - t0).count();
      return t;
    };

    // Warm-up: at least one step; more while they fit in half the budget.
    const auto t_measure = Clock::now();
    int done = 0;
    double last = 0.0;
    const double budget_ms = c.budget_s * 1e3;
    while (done < std::max(1, c.warmup)) {
      last = step(done).total;
      if (done == 0) r.first_step_ms = last;
      ++done;
      if (ms_since(t_measure) + last > 0.5 * budget_ms) break;
    }
    r.warmup_steps = done;
    // Timed steps: as many as fit in what is left of the budget, within [min_steps, steps].
    const double left = budget_ms - ms_since(t_measure);
    int fit = last > 0 ? int(left / last) : c.steps;
    int steps =
        std::clamp(fit, std::max(1, c.min_steps), std::max(c.steps, std::max(1, c.min_steps)));
    std::vector<double> tot, fwd, bwd, opt, cpu, faults;
    for (int i = 0; i < steps; ++i) {
      Times t = step(done + i);
      tot.push_back(t.total), fwd.push_back(t.fwd), bwd.push_back(t.bwd), opt.push_back(t.opt);
      cpu.push_back(t.cpu), faults.push_back(t.faults);
    }
    r.timed_steps = steps;
    r.step_ms = tot;
    r.median_ms = median(tot);
    r.min_ms = *std::min_element(tot.begin(), tot.end());
    r.max_ms = *std::max_element(tot.begin(), tot.end());
    r.steps_per_s = r.median_ms > 0 ? 1e3 / r.median_ms : 0.0;
    r.forward_ms = median(fwd);
    r.backward_ms = median(bwd);
    r.optimizer_ms = median(opt);
    r.cpu_ms = median(cpu);
    r.page_faults = median(faults);
    r.alloc_peak_bytes = memory_stats().peak_bytes;
    r.alloc_held_bytes = memory_stats().held_bytes;
    r.flops_per_step = flops_per_step(c);
    r.gflops = r.median_ms > 0 ? r.flops_per_step / (r.median_ms * 1e6) : 0.0;
    r.rss_peak_bytes = peak_rss_bytes();  // before the probe's matrices
    if (c.sgemm_n > 0) r.sgemm_gflops = kern::sgemm_probe_gflops(c.sgemm_n);
    r.status = "ok";
  } catch (const std::bad_alloc& e) {
    MemoryStats m = memory_stats();
    r.status = "out_of_memory";
    r.message = std::string(e.what()) + " (--max-mem budget)";
    r.alloc_peak_bytes = m.peak_bytes;
  } catch (const std::exception& e) {
    r.status = "error";
    r.message = e.what();
  }
  set_memory_limit(0);
  if (r.rss_peak_bytes == 0) r.rss_peak_bytes = peak_rss_bytes();
  r.wall_s = ms_since(t_start) / 1e3;
  return r;
}

// ---- child processes -------------------------------------------------------------------------

Result run_in_child(const std::vector<std::string>& argv_in, const Config& c) {
  Result r;
  r.config = c;
  LRA_CHECK(!argv_in.empty(), Error, "bench: no executable to run the configuration in");
  child::Spawn spawn{argv_in};
  spawn.argv.push_back(config_to_json(c));
  // RSS limit: the allocator budget plus what the process held before building the model
  // (interpreter-free C++, so ~50-100 MB) and slack for caches; the allocator limit in the
  // child normally fires first, this catches memory outside it.
  const size_t rss_limit =
      c.max_mem_bytes ? c.max_mem_bytes + c.max_mem_bytes / 4 + (256u << 20) : 0;
  const child::Captured run = child::run(spawn, 100, [&](size_t rss, double seconds) {
    if (rss_limit && rss > rss_limit) {
      r.status = "out_of_memory";
      return "RSS " + fmt("%.0f", double(rss) / 1e6) + " MB exceeded the budget (--max-mem " +
             fmt("%.0f", double(c.max_mem_bytes) / 1e6) + " MB + slack); killed";
    }
    if (c.timeout_s > 0 && seconds > c.timeout_s) {
      r.status = "timeout";
      return "no result after " + fmt("%.0f", c.timeout_s) + " s; killed";
    }
    return std::string();
  });
  if (!run.started) {
    r.status = "error";
    r.message = run.error;
    return r;
  }
  r.wall_s = run.seconds;
  r.rss_peak_bytes = run.rss_peak;
  if (!run.killed.empty()) {
    r.message = run.killed;
    return r;
  }
  // The result is the last line that parses as a JSON object.
  std::istringstream lines(run.out);
  std::string line, last;
  while (std::getline(lines, line))
    if (!line.empty() && line[0] == '{') last = line;
  if (!last.empty()) {
    try {
      Result got = result_from_json(last);
      got.wall_s = r.wall_s;
      return got;
    } catch (const std::exception&) {
    }
  }
  r.status = "crashed";
  if (WIFSIGNALED(run.status))
    r.message = "child " + child::describe(run.status) +
                (WTERMSIG(run.status) == SIGKILL ? " (the kernel's OOM killer?)" : "");
  else
    r.message =
        "child exited with status " + std::to_string(WEXITSTATUS(run.status)) + " and no result";
  return r;
}

// ---- machine ---------------------------------------------------------------------------------

std::string machine_json(int threads) {
  const api::EngineInfo e = api::engine_info();  // the one probe of CPU, SIMD and BLAS
  Json m;
  m["cpu_model"] = e.cpu;
  m["simd_flags"] = e.simd_detected_features;
  m["hardware_threads"] = e.hardware_threads;
  m["threads"] = threads;
  m["blas_core"] = e.blas_core;
  m["blas_config"] = e.blas_config;
  Json env = Json::object();
  for (const char* v : {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                        "OMP_NUM_THREADS", "GLIBC_TUNABLES"}) {
    const char* s = std::getenv(v);
    env[v] = s ? Json(s) : Json(nullptr);
  }
  m["env"] = env;
  m["compiler"] = e.compiler;
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string t;
  std::getline(thp, t);
  m["transparent_hugepage"] = t;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  m["hostname"] = host;
  return m.dump();
}

// ---- sweeps ----------------------------------------------------------------------------------

Sweep run_sweep(const SweepOptions& options, const Runner& runner, const Progress& progress) {
  Sweep s;
  s.options = options;
  std::vector<std::string> models = options.models;
  if (models.empty())
    for (const attn::MechanismInfo& m : attn::mechanisms()) models.push_back(m.name);
  for (const std::string& m : models) attn::find_mechanism(m);  // ConfigError when unknown
  std::vector<int64_t> lengths = options.lengths;
  std::sort(lengths.begin(), lengths.end());
  lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
  s.options.models = models;
  s.options.lengths = lengths;
  s.machine = machine_json(options.base.threads > 0 ? options.base.threads
                                                    : int(std::thread::hardware_concurrency()));
  Json machine = Json::parse(s.machine);
  machine["load_average_start"] = load_average();
  const auto t0 = Clock::now();
  const size_t total = models.size() * lengths.size();
  size_t done = 0;
  for (int64_t n : lengths)
    for (const std::string& m : models) {  // by length: a partial sweep has every model at 1K
      Config c = options.base;
      c.model = m;
      c.seq_len = n;
      c.params = default_mechanism_params(m);
      auto it = options.params.find(m);
      if (it != options.params.end())
        for (const auto& [k, v] : it->second) c.params[k] = v;
      Result r =
          run_repeated(c, runner, options.baseline_exe, options.repeats, options.baseline_threads);
      r.config.model = m;
      r.config.seq_len = n;
      if (!options.twin_python.empty())  // right after ours: the same machine state
        r.twin = run_twin(options.twin_python, options.twin_script, c);
      s.results.push_back(r);
      if (progress) progress(++done, total, s.results.back());
    }
  s.wall_s = ms_since(t0) / 1e3;
  machine["load_average_end"] = load_average();
  s.machine = machine.dump();
  return s;
}

}  // namespace lra::bench
