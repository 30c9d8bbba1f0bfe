// The paper's ratios (speed and memory against the Transformer, crossover length) and the
// Markdown tables of a sweep (bench.md).
#include <cmath>
#include <sstream>

#include "lra/lra/measure/mechanism_facts.hpp"
#include "measure/bench_util.hpp"

namespace lra::bench {
namespace {}  // namespace

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
    o << "| " << facts::display_name(m) << " |";
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
    const facts::Mechanism* f = facts::find(m);
    o << " " << (f && f->speedup_4k ? fmt("%.1fx", *f->speedup_4k) : std::string("–")) << " |\n";
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
    o << "| " << facts::display_name(m) << " |";
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
      o << "| " << facts::display_name(m) << " | " << n << " | ";
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

}  // namespace lra::bench
