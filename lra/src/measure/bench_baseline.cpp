// lra_cpu bench --baseline OTHER_LRA_CPU [--repeats R]: each configuration measured R times by
// this binary and R times by another one (e.g. the build of an older commit), in child
// processes alternating ours, theirs, ours, theirs ..., so machine load hits both alike. Step
// times are pooled over the repetitions; the ratio is their median step over ours.
// --baseline-threads T runs the baseline with T threads: with this binary as the baseline and
// T = 1, the ratio is the thread scaling of ours, measured alternately.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "lra/lra/measure/bench.hpp"
#include "lra/lra/measure/mechanism_facts.hpp"
#include "measure/bench_util.hpp"

namespace lra::bench {
void pool_result(Result& into, const Result& next) {
  if (!into.ok()) return;
  if (!next.ok()) {  // one failed repetition fails the configuration, with its reason
    into.status = next.status;
    into.message = "repetition " + std::to_string(into.runs + 1) + ": " + next.message;
    return;
  }
  const double w = double(into.runs), w1 = w + 1.0;
  auto mean = [&](double a, double b) { return (a * w + b) / w1; };
  into.forward_ms = mean(into.forward_ms, next.forward_ms);
  into.backward_ms = mean(into.backward_ms, next.backward_ms);
  into.optimizer_ms = mean(into.optimizer_ms, next.optimizer_ms);
  into.page_faults = mean(into.page_faults, next.page_faults);
  into.first_step_ms = mean(into.first_step_ms, next.first_step_ms);
  into.wall_s += next.wall_s;
  into.runs += 1;
  into.step_ms.insert(into.step_ms.end(), next.step_ms.begin(), next.step_ms.end());
  into.timed_steps += next.timed_steps;
  into.median_ms = median(into.step_ms);
  into.min_ms = std::min(into.min_ms, next.min_ms);
  into.max_ms = std::max(into.max_ms, next.max_ms);
  into.steps_per_s = into.median_ms > 0 ? 1e3 / into.median_ms : 0.0;
  into.cpu_ms = mean(into.cpu_ms, next.cpu_ms);
  into.alloc_peak_bytes = std::max(into.alloc_peak_bytes, next.alloc_peak_bytes);
  into.rss_peak_bytes = std::max(into.rss_peak_bytes, next.rss_peak_bytes);
  into.sgemm_gflops = std::max(into.sgemm_gflops, next.sgemm_gflops);
  into.gflops = into.median_ms > 0 ? into.flops_per_step / (into.median_ms * 1e6) : 0.0;
}

Result run_repeated(const Config& c, const Runner& ours, const std::string& baseline_exe,
                    int repeats, int baseline_threads) {
  Config theirs_config = c;
  if (baseline_threads > 0) theirs_config.threads = baseline_threads;
  repeats = std::max(1, repeats);
  Result r;
  BaselineResult b;
  std::vector<Result> theirs;
  for (int i = 0; i < repeats; ++i) {
    Result a = ours(c);
    if (i == 0)
      r = a;
    else
      pool_result(r, a);
    if (!baseline_exe.empty())
      theirs.push_back(run_in_child({baseline_exe, "bench", "--child"}, theirs_config));
  }
  if (baseline_exe.empty()) return r;
  b.exe = baseline_exe;
  b.threads = theirs_config.threads;
  b.status = "ok";
  for (const Result& t : theirs) {
    if (!t.ok()) {
      b.status = t.status;
      b.message = t.message;
      break;
    }
    b.step_ms.insert(b.step_ms.end(), t.step_ms.begin(), t.step_ms.end());
    b.rss_peak_bytes = std::max(b.rss_peak_bytes, t.rss_peak_bytes);
    b.cpu_ms = (b.cpu_ms * double(b.runs) + t.cpu_ms) / double(b.runs + 1);
    b.runs += 1;
  }
  if (b.ok() && b.step_ms.empty()) b.status = "error", b.message = "no step times";
  b.median_ms = median(b.step_ms);
  r.baseline = b;
  return r;
}

double baseline_speedup(const Result& r) {
  if (!r.ok() || !r.baseline.ok() || r.median_ms <= 0) return 0.0;
  return r.baseline.median_ms / r.median_ms;
}

double baseline_cpu_speedup(const Result& r) {
  if (!r.ok() || !r.baseline.ok() || r.cpu_ms <= 0 || r.baseline.cpu_ms <= 0) return 0.0;
  return r.baseline.cpu_ms / r.cpu_ms;
}

double baseline_rss_ratio(const Result& r) {
  if (!r.ok() || !r.baseline.ok() || r.baseline.rss_peak_bytes == 0) return 0.0;
  return double(r.rss_peak_bytes) / double(r.baseline.rss_peak_bytes);
}

std::string baseline_markdown(const Sweep& s) {
  bool any = false;
  for (const Result& r : s.results) any = any || !r.baseline.status.empty();
  if (!any) return "";
  std::ostringstream o;
  o << "Against the baseline binary `" << s.options.baseline_exe << "`";
  if (s.options.baseline_threads > 0 && s.options.baseline_threads != s.options.base.threads)
    o << " run with " << s.options.baseline_threads << " thread(s), ours with "
      << (s.options.base.threads > 0 ? std::to_string(s.options.base.threads) : "all cores")
      << " (the speed-up is our thread scaling when the baseline is this binary)";
  o << " (" << s.options.repeats
    << " child process(es) each per configuration, alternating with ours; median over the "
       "pooled steps; speed-up = baseline ms / ours ms, the same in CPU time per step (steadier "
       "when other work shares the cores); RSS = ours / baseline):\n\n"
       "| Model | N | ours ms | baseline ms | speed-up | CPU-time speed-up | ours RSS MB | "
       "baseline "
       "RSS MB | RSS ratio |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const Result& r : s.results) {
    o << "| " << facts::display_name(r.config.model) << " | " << r.config.seq_len << " | ";
    if (!r.ok()) {
      o << r.status << " | – | – | – | – | – | – |\n";
      continue;
    }
    o << fmt("%.1f", r.median_ms) << " | ";
    if (!r.baseline.ok()) {
      o << r.baseline.status << ": " << r.baseline.message << " | – | – | – | – | – |\n";
      continue;
    }
    o << fmt("%.1f", r.baseline.median_ms) << " | **" << fmt("%.2fx", baseline_speedup(r))
      << "** | " << fmt("%.2fx", baseline_cpu_speedup(r)) << " | "
      << fmt("%.0f", double(r.rss_peak_bytes) / 1e6) << " | "
      << fmt("%.0f", double(r.baseline.rss_peak_bytes) / 1e6) << " | "
      << fmt("%.2f", baseline_rss_ratio(r)) << " |\n";
  }
  return o.str();
}

std::string flops_markdown(const Sweep& s) {
  std::ostringstream o;
  o << "Work per " << (s.options.base.inference ? "forward pass" : "training step (3x forward)")
    << ", counted from the sizes (lra/src/measure/bench_flops.cpp), and the rate achieved at the "
       "median "
       "step, beside OpenBLAS sgemm (n^3 with n = `sgemm_n`, 1024 by default; rows split over the "
       "same threads) measured in the "
       "same process:\n\n| Model | N | GFLOP/step | attention GFLOP/layer (fwd) | GFLOP/s | sgemm "
       "GFLOP/s | of sgemm |\n|---|---:|---:|---:|---:|---:|---:|\n";
  for (const Result& r : s.results) {
    if (!r.ok() || r.flops_per_step <= 0) continue;
    o << "| " << facts::display_name(r.config.model) << " | " << r.config.seq_len << " | "
      << fmt("%.2f", r.flops_per_step / 1e9) << " | "
      << fmt("%.2f", attention_flops(r.config) / 1e9) << " | " << fmt("%.1f", r.gflops) << " | "
      << fmt("%.1f", r.sgemm_gflops) << " | "
      << (r.sgemm_gflops > 0 ? fmt("%.0f%%", 100.0 * r.gflops / r.sgemm_gflops) : "–") << " |\n";
  }
  return o.str();
}

}  // namespace lra::bench
