// lra_cpu bench: see lra/include/lra/lra/measure/bench.hpp for what is measured and how.
#include "lra/lra/measure/bench.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <new>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "lra/attention/registry.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/allocator.hpp"
#include "lra/core/io.hpp"
#include "lra/core/kernels.hpp"
#include "lra/core/rng.hpp"
#include "lra/core/threading.hpp"
#include "lra/lra/measure/child.hpp"
#include "lra/lra/measure/report.hpp"
#include "lra/lra/train/engine_info.hpp"
#include "lra/lra/train/model.hpp"
#include "lra/nn/loss.hpp"
#include "lra/nn/optim.hpp"
#include "measure/svg.hpp"

namespace lra::bench {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

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

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// 3 significant digits, no exponent: 12.3, 1.23, 0.123, 123.
std::string sig3(double v) {
  if (!(v > 0)) return "0";
  if (v >= 100) return fmt("%.0f", v);
  if (v >= 10) return fmt("%.1f", v);
  if (v >= 1) return fmt("%.2f", v);
  return fmt("%.3f", v);
}

std::string length_label(int64_t n) {
  if (n >= 1024 && n % 1024 == 0) return std::to_string(n / 1024) + "K";
  return std::to_string(n);
}

// ---- synthetic data (the twin's: random byte tokens, random labels, no padding) -----------

data::Batch random_batch(const Config& c, uint64_t index) {
  data::Batch b;
  b.tokens = Tensor::empty({c.batch, c.seq_len}, DType::I32);
  b.lengths = Tensor::empty({c.batch}, DType::I32);
  b.labels = Tensor::empty({c.batch}, DType::I32);
  const uint64_t key = rng_key(c.seed, {rng_tag("bench.tokens"), index});
  int32_t* t = b.tokens.data<int32_t>();
  for (int64_t i = 0; i < c.batch * c.seq_len; ++i)  // ids 1..vocab-1 (0 is padding)
    t[i] = int32_t(1 + random_below(key, uint64_t(i), uint64_t(std::max<int64_t>(1, c.vocab - 1))));
  for (int64_t i = 0; i < c.batch; ++i) {
    b.lengths.data<int32_t>()[i] = int32_t(c.seq_len);
    b.labels.data<int32_t>()[i] =
        int32_t(random_below(key, uint64_t(c.batch * c.seq_len + i), uint64_t(c.classes)));
  }
  return b;
}

// ---- JSON helpers --------------------------------------------------------------------------

Json config_j(const Config& c) {
  return {{"model", c.model},         {"params", c.params},   {"preset", c.preset},
          {"seq_len", c.seq_len},     {"batch", c.batch},     {"dim", c.dim},
          {"heads", c.heads},         {"mlp_dim", c.mlp_dim}, {"vocab", c.vocab},
          {"classes", c.classes},     {"layers", c.layers},   {"inference", c.inference},
          {"warmup", c.warmup},       {"steps", c.steps},     {"min_steps", c.min_steps},
          {"budget_s", c.budget_s},   {"threads", c.threads}, {"max_mem_bytes", c.max_mem_bytes},
          {"timeout_s", c.timeout_s}, {"seed", c.seed},       {"sgemm_n", c.sgemm_n}};
}

Config config_from(const Json& j) {
  Config c;
  c.model = j.value("model", c.model);
  if (j.contains("params")) c.params = j.at("params").get<std::map<std::string, std::string>>();
  c.preset = j.value("preset", c.preset);
  c.seq_len = j.value("seq_len", c.seq_len);
  c.batch = j.value("batch", c.batch);
  c.dim = j.value("dim", c.dim);
  c.heads = j.value("heads", c.heads);
  c.mlp_dim = j.value("mlp_dim", c.mlp_dim);
  c.vocab = j.value("vocab", c.vocab);
  c.classes = j.value("classes", c.classes);
  c.layers = j.value("layers", c.layers);
  c.inference = j.value("inference", c.inference);
  c.warmup = j.value("warmup", c.warmup);
  c.steps = j.value("steps", c.steps);
  c.min_steps = j.value("min_steps", c.min_steps);
  c.budget_s = j.value("budget_s", c.budget_s);
  c.threads = j.value("threads", c.threads);
  c.max_mem_bytes = j.value("max_mem_bytes", c.max_mem_bytes);
  c.timeout_s = j.value("timeout_s", c.timeout_s);
  c.seed = j.value("seed", c.seed);
  c.sgemm_n = j.value("sgemm_n", c.sgemm_n);
  return c;
}

Json twin_j(const TwinResult& t) {
  if (t.status.empty()) return nullptr;
  return {{"status", t.status},
          {"message", t.message},
          {"median_ms", t.median_ms},
          {"min_ms", t.min_ms},
          {"max_ms", t.max_ms},
          {"cpu_ms", t.cpu_ms},
          {"step_ms", t.step_ms},
          {"timed_steps", t.timed_steps},
          {"peak_rss_mb", double(t.rss_peak_bytes) / 1048576.0},
          {"wall_s", t.wall_s}};
}

Json baseline_j(const BaselineResult& b) {
  if (b.status.empty()) return nullptr;
  return {{"status", b.status},       {"message", b.message}, {"exe", b.exe},
          {"median_ms", b.median_ms}, {"step_ms", b.step_ms}, {"peak_rss_bytes", b.rss_peak_bytes},
          {"runs", b.runs},           {"cpu_ms", b.cpu_ms}};
}

BaselineResult baseline_from(const Json& j) {
  BaselineResult b;
  b.status = j.value("status", std::string("error"));
  b.message = j.value("message", std::string());
  b.exe = j.value("exe", std::string());
  b.median_ms = j.value("median_ms", 0.0);
  b.cpu_ms = j.value("cpu_ms", 0.0);
  if (j.contains("step_ms")) b.step_ms = j.at("step_ms").get<std::vector<double>>();
  b.rss_peak_bytes = j.value("peak_rss_bytes", size_t(0));
  b.runs = j.value("runs", 0);
  return b;
}

Json result_j(const Result& r) {
  return {{"config", config_j(r.config)},
          {"status", r.status},
          {"message", r.message},
          {"parameters", r.parameters},
          {"warmup_steps", r.warmup_steps},
          {"timed_steps", r.timed_steps},
          {"first_step_ms", r.first_step_ms},
          {"median_ms", r.median_ms},
          {"min_ms", r.min_ms},
          {"max_ms", r.max_ms},
          {"steps_per_s", r.steps_per_s},
          {"forward_ms", r.forward_ms},
          {"backward_ms", r.backward_ms},
          {"optimizer_ms", r.optimizer_ms},
          {"cpu_ms", r.cpu_ms},
          {"page_faults", r.page_faults},
          {"step_ms", r.step_ms},
          {"alloc_peak_bytes", r.alloc_peak_bytes},
          {"alloc_held_bytes", r.alloc_held_bytes},
          {"rss_peak_bytes", r.rss_peak_bytes},
          {"rss_base_bytes", r.rss_base_bytes},
          {"wall_s", r.wall_s},
          {"flops_per_step", r.flops_per_step},
          {"gflops", r.gflops},
          {"sgemm_gflops", r.sgemm_gflops},
          {"runs", r.runs},
          {"twin", twin_j(r.twin)},
          {"baseline", baseline_j(r.baseline)}};
}

Result result_from(const Json& j) {
  Result r;
  if (j.contains("config")) r.config = config_from(j.at("config"));
  r.status = j.value("status", std::string("error"));
  r.message = j.value("message", std::string());
  r.parameters = j.value("parameters", int64_t(0));
  r.warmup_steps = j.value("warmup_steps", 0);
  r.timed_steps = j.value("timed_steps", 0);
  r.first_step_ms = j.value("first_step_ms", 0.0);
  r.median_ms = j.value("median_ms", 0.0);
  r.min_ms = j.value("min_ms", 0.0);
  r.max_ms = j.value("max_ms", 0.0);
  r.steps_per_s = j.value("steps_per_s", 0.0);
  r.forward_ms = j.value("forward_ms", 0.0);
  r.backward_ms = j.value("backward_ms", 0.0);
  r.optimizer_ms = j.value("optimizer_ms", 0.0);
  r.cpu_ms = j.value("cpu_ms", 0.0);
  r.page_faults = j.value("page_faults", 0.0);
  if (j.contains("step_ms")) r.step_ms = j.at("step_ms").get<std::vector<double>>();
  r.alloc_peak_bytes = j.value("alloc_peak_bytes", size_t(0));
  r.alloc_held_bytes = j.value("alloc_held_bytes", size_t(0));
  r.rss_peak_bytes = j.value("rss_peak_bytes", size_t(0));
  r.rss_base_bytes = j.value("rss_base_bytes", size_t(0));
  r.wall_s = j.value("wall_s", 0.0);
  r.flops_per_step = j.value("flops_per_step", 0.0);
  r.gflops = j.value("gflops", 0.0);
  r.sgemm_gflops = j.value("sgemm_gflops", 0.0);
  r.runs = j.value("runs", 1);
  if (j.contains("twin") && j.at("twin").is_object()) r.twin = twin_from_json(j.at("twin").dump());
  if (j.contains("baseline") && j.at("baseline").is_object())
    r.baseline = baseline_from(j.at("baseline"));
  return r;
}

const Result* find_result(const Sweep& s, const std::string& model, int64_t len) {
  for (const Result& r : s.results)
    if (r.config.model == model && r.config.seq_len == len) return &r;
  return nullptr;
}

std::vector<std::string> sweep_models(const Sweep& s) {
  std::vector<std::string> out;
  for (const Result& r : s.results)
    if (std::find(out.begin(), out.end(), r.config.model) == out.end())
      out.push_back(r.config.model);
  return out;
}

std::vector<int64_t> sweep_lengths(const Sweep& s) {
  std::set<int64_t> l;
  for (const Result& r : s.results) l.insert(r.config.seq_len);
  return {l.begin(), l.end()};
}

// The paper's Table 2 speed-up at 4K (TPU v3), for the mechanisms it measured.
double paper_speedup_4k(const std::string& model) {
  static const std::map<std::string, double> t = {
      {"transformer", 1.0}, {"local", 5.3},    {"linformer", 5.5},
      {"reformer", 0.8},    {"sinkhorn", 3.8}, {"synthesizer", 1.4},
      {"bigbird", 1.1},     {"linear", 5.6},   {"performer", 5.7}};
  auto it = t.find(model);
  return it == t.end() ? 0.0 : it->second;
}

}  // namespace

// ---- presets ---------------------------------------------------------------------------------

const std::vector<ModelPreset>& model_presets() {
  static const std::vector<ModelPreset> p = {{"tiny", 2, 64, 2, 128, 8},
                                             {"text", 4, 256, 4, 1024, 4}};
  return p;
}

const ModelPreset& find_model_preset(const std::string& name) {
  std::string known;
  for (const ModelPreset& p : model_presets()) {
    if (p.name == name) return p;
    known += " " + p.name;
  }
  throw ConfigError("unknown bench preset '" + name + "'; known:" + known);
}

std::map<std::string, std::string> default_mechanism_params(const std::string& mechanism) {
  if (mechanism == "local") return {{"block", "256"}};
  if (mechanism == "linformer") return {{"k", "256"}};
  if (mechanism == "performer") return {{"features", "256"}};
  return {};
}

Config preset_config(const std::string& preset, const std::string& model, int64_t seq_len) {
  const ModelPreset& p = find_model_preset(preset);
  Config c;
  c.model = model;
  c.params = default_mechanism_params(model);
  c.preset = p.name;
  c.seq_len = seq_len;
  c.layers = p.layers;
  c.dim = p.dim;
  c.heads = p.heads;
  c.mlp_dim = p.mlp_dim;
  c.batch = p.batch;
  return c;
}

std::string display_name(const std::string& model) {
  static const std::map<std::string, std::string> names = {
      {"transformer", "Transformer"},  {"local", "Local Attention"},   {"sparse", "Sparse Trans."},
      {"longformer", "Longformer"},    {"linformer", "Linformer"},     {"reformer", "Reformer"},
      {"sinkhorn", "Sinkhorn Trans."}, {"synthesizer", "Synthesizer"}, {"bigbird", "BigBird"},
      {"linear", "Linear Trans."},     {"performer", "Performer"}};
  auto it = names.find(model);
  return it == names.end() ? model : it->second;
}

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
    mc.learned_positions = true;
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

std::string config_to_json(const Config& c) {
  return config_j(c).dump();
}

Config config_from_json(const std::string& text) {
  try {
    return config_from(Json::parse(text));
  } catch (const Json::exception& e) {
    throw ConfigError(std::string("bench: malformed configuration JSON: ") + e.what());
  }
}

std::string result_to_json(const Result& r) {
  return result_j(r).dump();
}

Result result_from_json(const std::string& text) {
  try {
    return result_from(Json::parse(text));
  } catch (const Json::exception& e) {
    throw Error(std::string("bench: malformed result JSON: ") + e.what());
  }
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
      Result r = run_repeated(c, runner, options.baseline_exe, options.repeats);
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

double speedup(const Sweep& s, const std::string& model, int64_t len) {
  const Result* a = find_result(s, model, len);
  const Result* t = find_result(s, "transformer", len);
  if (!a || !t || !a->ok() || !t->ok() || t->steps_per_s <= 0) return 0.0;
  return a->steps_per_s / t->steps_per_s;
}

double memory_ratio(const Sweep& s, const std::string& model, int64_t len) {
  const Result* a = find_result(s, model, len);
  const Result* t = find_result(s, "transformer", len);
  if (!a || !t || !a->ok() || !t->ok() || t->alloc_peak_bytes == 0) return 0.0;
  return double(a->alloc_peak_bytes) / double(t->alloc_peak_bytes);
}

double crossover_length(const Sweep& s, const std::string& model) {
  std::vector<std::pair<int64_t, double>> pts;
  for (int64_t n : sweep_lengths(s)) {
    double r = speedup(s, model, n);
    if (r > 0) pts.push_back({n, r});
  }
  if (pts.empty()) return -1;
  if (pts.front().second >= 1.0) return 0;
  for (size_t i = 1; i < pts.size(); ++i) {
    if (pts[i].second >= 1.0) {
      // linear in log(length) between the two measurements around ratio 1
      double x0 = std::log(double(pts[i - 1].first)), x1 = std::log(double(pts[i].first));
      double y0 = pts[i - 1].second, y1 = pts[i].second;
      double x = x0 + (1.0 - y0) * (x1 - x0) / (y1 - y0);
      return std::exp(x);
    }
  }
  return -1;
}

std::string markdown(const Sweep& s) {
  const std::vector<std::string> models = sweep_models(s);
  const std::vector<int64_t> lengths = sweep_lengths(s);
  const Config& b = s.options.base;
  std::ostringstream o;
  Json machine = s.machine.empty() ? Json::object() : Json::parse(s.machine, nullptr, false);
  const bool inference = b.inference;
  o << "### " << (inference ? "Inference (forward only)" : "Training step")
    << " speed and memory, preset " << b.preset << " (" << b.layers << " layers, D " << b.dim
    << ", H " << b.heads << ", MLP " << b.mlp_dim << ", batch " << b.batch << ")\n\n";
  if (machine.is_object())
    o << "Machine: " << machine.value("cpu_model", std::string("?")) << ", "
      << machine.value("threads", 0) << " threads, BLAS core "
      << machine.value("blas_core", std::string("?")) << ". ";
  o << "Median over up to " << b.steps << " timed " << (inference ? "forward passes" : "steps")
    << " after warm-up, each configuration in a fresh process. Memory: the allocator's peak live "
       "bytes (parameters, optimiser moments, activations), MB. In brackets: relative to the "
       "Transformer at the same length.\n\n";
  o << "| Model |";
  for (size_t i = 0; i < lengths.size(); ++i)
    o << " " << (i == 0 ? (inference ? "fwd/s " : "steps/s ") : "") << length_label(lengths[i])
      << " |";
  for (size_t i = 0; i < lengths.size(); ++i)
    o << " " << (i == 0 ? "Mem MB " : "") << length_label(lengths[i]) << " |";
  o << " crossover | paper 4K |\n|---|";
  for (size_t i = 0; i < 2 * lengths.size() + 2; ++i) o << "---:|";
  o << "\n";
  for (const std::string& m : models) {
    o << "| " << display_name(m) << " |";
    for (int64_t n : lengths) {
      const Result* r = find_result(s, m, n);
      if (!r) {
        o << " – |";
      } else if (!r->ok()) {
        o << " " << (r->status == "out_of_memory" ? "OOM" : r->status) << " |";
      } else {
        o << " " << sig3(r->steps_per_s);
        double x = speedup(s, m, n);
        if (m != "transformer" && x > 0) o << " (" << fmt("%.1f", x) << "x)";
        o << " |";
      }
    }
    for (int64_t n : lengths) {
      const Result* r = find_result(s, m, n);
      if (!r || !r->ok()) {
        o << " " << (r ? (r->status == "out_of_memory" ? "OOM" : r->status) : "–") << " |";
      } else {
        o << " " << fmt("%.0f", double(r->alloc_peak_bytes) / 1e6);
        double x = memory_ratio(s, m, n);
        if (m != "transformer" && x > 0) o << " (" << fmt("%.2f", x) << "x)";
        o << " |";
      }
    }
    if (m == "transformer") {
      o << " – |";
    } else {
      double c = crossover_length(s, m);
      if (c == 0)
        o << " ≤ " << length_label(lengths.front()) << " |";
      else if (c < 0)
        o << " > " << length_label(lengths.back()) << " |";
      else
        o << " ~" << fmt("%.0f", c) << " |";
    }
    double p = paper_speedup_4k(m);
    o << " " << (p > 0 ? fmt("%.1fx", p) : std::string("–")) << " |\n";
  }
  o << "\n\"crossover\": the length where the model starts beating the Transformer (interpolated "
       "in log length between measured lengths). \"paper 4K\": LRA Table 2's speed-up at 4K (TPU "
       "v3, batch 32); the paper did not benchmark Sparse Transformer and Longformer.\n\n";

  // CPU time: what the step cost in core-seconds, whatever share of the cores it got.
  double wall_sum = 0, cpu_sum = 0;
  o << "CPU time per " << (inference ? "forward pass" : "step")
    << " (ms, all threads; speed-up from CPU time in brackets) — the steadier figure when other "
       "work shares the cores:\n\n| Model |";
  for (int64_t n : lengths) o << " " << length_label(n) << " |";
  o << "\n|---|";
  for (size_t i = 0; i < lengths.size(); ++i) o << "---:|";
  o << "\n";
  for (const std::string& m : models) {
    o << "| " << display_name(m) << " |";
    for (int64_t n : lengths) {
      const Result* r = find_result(s, m, n);
      const Result* t = find_result(s, "transformer", n);
      if (!r || !r->ok() || r->cpu_ms <= 0) {
        o << " – |";
        continue;
      }
      wall_sum += r->median_ms, cpu_sum += r->cpu_ms;
      o << " " << fmt("%.0f", r->cpu_ms);
      if (m != "transformer" && t && t->ok() && t->cpu_ms > 0)
        o << " (" << fmt("%.1f", t->cpu_ms / r->cpu_ms) << "x)";
      o << " |";
    }
    o << "\n";
  }
  if (machine.is_object() && cpu_sum > 0) {
    const int threads = machine.value("threads", 0);
    o << "\nLoad: 1-minute load average " << fmt("%.1f", machine.value("load_average_start", -1.0))
      << " at the start, " << fmt("%.1f", machine.value("load_average_end", -1.0))
      << " at the end; CPU time / wall time per step " << fmt("%.2f", cpu_sum / wall_sum) << " ("
      << threads << " threads fully busy would give up to " << threads << ").\n";
  }
  o << "\n" << flops_markdown(s);
  const std::string ab = baseline_markdown(s);
  if (!ab.empty()) o << "\n" << ab;
  o << "\n" << twin_markdown(s);
  o << "\n<details><summary>Every configuration</summary>\n\n";
  o << "| Model | N | ms/step | min..max | fwd | bwd | opt | CPU ms | timed | alloc peak MB | RSS "
       "peak MB | "
       "params | status |\n|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
  for (int64_t n : lengths)
    for (const std::string& m : models) {
      const Result* r = find_result(s, m, n);
      if (!r) continue;
      o << "| " << display_name(m) << " | " << n << " | ";
      if (r->ok())
        o << fmt("%.1f", r->median_ms) << " | " << fmt("%.0f", r->min_ms) << ".."
          << fmt("%.0f", r->max_ms) << " | " << fmt("%.1f", r->forward_ms) << " | "
          << fmt("%.1f", r->backward_ms) << " | " << fmt("%.1f", r->optimizer_ms) << " | "
          << fmt("%.0f", r->cpu_ms) << " | " << r->timed_steps << " | "
          << fmt("%.0f", double(r->alloc_peak_bytes) / 1e6) << " | "
          << fmt("%.0f", double(r->rss_peak_bytes) / 1e6) << " | " << r->parameters << " | ok |\n";
      else
        o << "– | – | – | – | – | – | – | "
          << (r->alloc_peak_bytes ? fmt("%.0f", double(r->alloc_peak_bytes) / 1e6) : "–") << " | "
          << (r->rss_peak_bytes ? fmt("%.0f", double(r->rss_peak_bytes) / 1e6) : "–") << " | – | "
          << r->status << ": " << r->message << " |\n";
    }
  o << "\n</details>\n";
  if (!s.command.empty()) o << "\nCommand: `" << s.command << "`";
  o << "\nSweep wall time: " << fmt("%.0f", s.wall_s) << " s.\n";
  return o.str();
}

std::string json(const Sweep& s) {
  nlohmann::json j;
  j["command"] = s.command;
  j["machine"] = s.machine.empty() ? nlohmann::json::object() : nlohmann::json::parse(s.machine);
  j["base"] = config_j(s.options.base);
  j["models"] = s.options.models;
  j["lengths"] = s.options.lengths;
  j["params"] = s.options.params;
  j["wall_s"] = s.wall_s;
  j["repeats"] = s.options.repeats;
  if (!s.options.baseline_exe.empty()) j["baseline"] = s.options.baseline_exe;
  if (!s.options.twin_python.empty())
    j["twin"] = {{"python", s.options.twin_python},
                 {"script", s.options.twin_script},
                 {"environment", twin_environment()}};
  nlohmann::json rs = nlohmann::json::array();
  for (const Result& r : s.results) {
    nlohmann::json x = result_j(r);
    x["speedup_vs_transformer"] = speedup(s, r.config.model, r.config.seq_len);
    x["memory_vs_transformer"] = memory_ratio(s, r.config.model, r.config.seq_len);
    if (r.twin.ok()) {
      x["speedup_vs_twin"] = twin_speedup(r);
      x["cpu_speedup_vs_twin"] = twin_cpu_speedup(r);
      x["rss_vs_twin"] = twin_rss_ratio(r);
    }
    if (r.baseline.ok()) {
      x["speedup_vs_baseline"] = baseline_speedup(r);
      x["rss_vs_baseline"] = baseline_rss_ratio(r);
      x["cpu_speedup_vs_baseline"] = baseline_cpu_speedup(r);
    }
    rs.push_back(x);
  }
  j["results"] = rs;
  nlohmann::json cross = nlohmann::json::object();
  for (const std::string& m : sweep_models(s))
    if (m != "transformer") cross[m] = crossover_length(s, m);
  j["crossover_length"] = cross;
  return j.dump(2) + "\n";
}

Sweep sweep_from_json(const std::string& text) {
  Sweep s;
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    s.command = j.value("command", std::string());
    if (j.contains("machine")) s.machine = j.at("machine").dump();
    if (j.contains("base")) s.options.base = config_from(j.at("base"));
    if (j.contains("models")) s.options.models = j.at("models").get<std::vector<std::string>>();
    if (j.contains("lengths")) s.options.lengths = j.at("lengths").get<std::vector<int64_t>>();
    s.wall_s = j.value("wall_s", 0.0);
    s.options.repeats = j.value("repeats", 1);
    s.options.baseline_exe = j.value("baseline", std::string());
    for (const auto& r : j.at("results")) s.results.push_back(result_from(r));
  } catch (const nlohmann::json::exception& e) {
    throw DataError(std::string("bench JSON: ") + e.what());
  }
  return s;
}

std::string svg_plot(const Sweep& s, const std::string& metric) {
  LRA_CHECK(metric == "steps_per_s" || metric == "memory", ConfigError,
            "bench plot: metric must be steps_per_s or memory, got ", metric);
  std::vector<svg::Line> series;
  for (const std::string& m : sweep_models(s)) {
    svg::Line se;
    se.name = display_name(m);
    for (int64_t n : sweep_lengths(s)) {
      const Result* r = find_result(s, m, n);
      se.x.push_back(double(n));
      double y = NAN;
      if (r && r->ok()) y = metric == "memory" ? double(r->alloc_peak_bytes) / 1e6 : r->steps_per_s;
      se.y.push_back(y);
    }
    series.push_back(se);
  }
  const Config& b = s.options.base;
  std::string what = b.inference ? "forward passes/s" : "training steps/s";
  std::string title = (metric == "memory" ? std::string("Peak memory") : "Speed") + ", preset " +
                      b.preset + " (batch " + std::to_string(b.batch) + ")";
  return svg::line_chart(
      title, "sequence length",
      metric == "memory" ? "allocator peak (MB, log scale)" : what + " (log scale)", series, true);
}

void write_outputs(const Sweep& s, const std::string& dir) {
  make_dirs(dir);
  write_file_atomic(dir + "/bench.md", markdown(s));
  write_file_atomic(dir + "/bench.json", json(s));
  write_file_atomic(dir + "/steps_per_s.svg", svg_plot(s, "steps_per_s"));
  write_file_atomic(dir + "/memory.svg", svg_plot(s, "memory"));
  bool twin = false;
  for (const Result& r : s.results) twin = twin || r.twin.ok();
  if (twin) write_file_atomic(dir + "/twin_speedup.svg", twin_svg(s));
}

// ---- Figure 3 --------------------------------------------------------------------------------

std::vector<TradeoffPoint> tradeoff_points(const std::vector<std::string>& run_paths,
                                           const std::string& bench_json_path, int64_t length) {
  const Report rep = make_report(run_paths);  // finished runs, grouped by model and task
  Sweep s = sweep_from_json(read_file(bench_json_path));
  if (length <= 0) {
    std::vector<int64_t> l = sweep_lengths(s);
    LRA_CHECK(!l.empty(), DataError, bench_json_path, " holds no results");
    length = l.back();
  }
  std::vector<TradeoffPoint> pts;
  for (const ReportRow& row : rep.rows) {
    double sum = 0;
    int tasks = 0;
    for (const ReportCell& c : row.cells)
      if (c.n > 0) sum += c.mean, ++tasks;
    const Result* r = find_result(s, row.model, length);
    if (tasks == 0 || !r || !r->ok()) continue;
    const double acc = row.average ? *row.average : sum / tasks;  // %, the LRA average if complete
    pts.push_back(
        {row.model, acc / 100.0, r->steps_per_s, double(r->alloc_peak_bytes) / 1e6, tasks});
  }
  return pts;
}

std::string latest_bench_json(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return "";
  std::string best;
  fs::file_time_type best_time{};
  for (const fs::directory_entry& e : fs::directory_iterator(root, ec)) {
    const std::string name = e.path().filename().string();
    const fs::path f = e.path() / "bench.json";
    if (name.rfind("bench-", 0) != 0 || name.find("inference") != std::string::npos ||
        !fs::exists(f, ec))
      continue;
    const auto t = fs::last_write_time(f, ec);
    if (best.empty() || t > best_time) best = f.string(), best_time = t;
  }
  return best;
}

std::string tradeoff_svg(const std::vector<TradeoffPoint>& points, const std::string& title) {
  double mmax = 0;
  for (const TradeoffPoint& p : points)
    if (p.steps_per_s > 0) mmax = std::max(mmax, p.memory_mb);
  std::vector<svg::Bubble> bubbles;
  for (const TradeoffPoint& p : points) {
    if (p.steps_per_s <= 0) continue;
    bubbles.push_back({p.steps_per_s, p.accuracy * 100, mmax > 0 ? p.memory_mb / mmax : 0.0,
                       display_name(p.model) + " (" + fmt("%.0f", p.memory_mb) + " MB" +
                           (p.tasks > 0 && p.tasks < 5 ? ", " + std::to_string(p.tasks) + " task" +
                                                             (p.tasks > 1 ? "s" : "")
                                                       : std::string()) +
                           ")"});
  }
  return svg::bubble_chart(title, "training steps/s (log scale)", "accuracy (%)",
                           "marker area: peak memory", bubbles);
}

}  // namespace lra::bench
