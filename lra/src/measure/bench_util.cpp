// Private helpers of the bench files (measure/bench_util.hpp).
#include "measure/bench_util.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

namespace lra::bench {

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
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

}  // namespace lra::bench
