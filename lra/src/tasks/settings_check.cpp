// The valid range of every numeric setting, checked when a value is set (flag, TOML file,
// preset, a run's config.json), so a bad number fails before anything runs and names its range.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

#include "lra/core/error.hpp"
#include "lra/core/text.hpp"
#include "lra/lra/tasks/settings.hpp"

namespace lra {
namespace {

enum class Kind { Int, Float, Bool };

// lo <= value (lo < value when lo_open), value <= hi (value < hi when hi_open).
struct Range {
  std::string_view key;
  Kind kind;
  double lo, hi;
  bool lo_open = false, hi_open = false;
  bool empty_ok = false;  // "" means "the task's default"
};

constexpr double kMaxInt = 9.0e18;  // within int64
constexpr Range kRanges[] = {
    {"seed", Kind::Int, 0, kMaxInt},
    {"threads", Kind::Int, 0, 4096},
    {"steps", Kind::Int, 1, kMaxInt},
    {"batch", Kind::Int, 1, 1 << 24},
    {"accumulate", Kind::Int, 1, 1 << 24},
    {"lr", Kind::Float, 0, 1e300, true},
    {"warmup", Kind::Int, 0, kMaxInt},
    {"weight_decay", Kind::Float, 0, 1e300},
    {"clip", Kind::Float, 0, 1e300},
    {"eval_every", Kind::Int, 0, kMaxInt},
    {"eval_batches", Kind::Int, 0, kMaxInt},
    {"log_every", Kind::Int, 0, kMaxInt},
    {"save_every", Kind::Int, 0, kMaxInt},
    {"layers", Kind::Int, 1, 1 << 16},
    {"reversible", Kind::Bool, 0, 0},
    {"dim", Kind::Int, 1, 1 << 24},
    {"heads", Kind::Int, 1, 1 << 16},
    {"qkv_dim", Kind::Int, 1, 1 << 24},
    {"mlp_dim", Kind::Int, 1, 1 << 24},
    {"dropout", Kind::Float, 0, 1, false, true},
    {"attn_dropout", Kind::Float, 0, 1, false, true},
    {"max_len", Kind::Int, 0, 1 << 30},
    {"gen_train", Kind::Int, 0, 1 << 30},
    {"gen_val", Kind::Int, 0, 1 << 30},
    {"gen_test", Kind::Int, 0, 1 << 30},
    {"gen_min_len", Kind::Int, 1, 1 << 30, false, false, true},
    {"gen_max_len", Kind::Int, 1, 1 << 30, false, false, true},
};

std::string range_text(const Range& r) {
  auto num = [&](double v) {
    return r.kind == Kind::Int ? std::to_string(int64_t(v)) : detail::concat(v);
  };
  if (r.kind == Kind::Bool) return "true or false";
  const std::string kind = r.kind == Kind::Int ? "an integer" : "a number";
  if (r.hi >= kMaxInt) return detail::concat(kind, r.lo_open ? " > " : " >= ", num(r.lo));
  return detail::concat(kind, " in ", r.lo_open ? "(" : "[", num(r.lo), ", ", num(r.hi),
                        r.hi_open ? ")" : "]");
}

}  // namespace

void check_setting(const std::string& key, const std::string& value, const std::string& source) {
  for (const Range& r : kRanges) {
    if (r.key != key) continue;
    if (r.empty_ok && value.empty()) return;
    auto fail = [&] {
      throw ConfigError(detail::concat(source, ": ", key, " = '", cut_for_message(value),
                                       "' is out of range; expected ", range_text(r)));
    };
    if (r.kind == Kind::Bool) {
      for (const char* ok : {"1", "0", "true", "false", "yes", "no", "on", "off"})
        if (value == ok) return;
      fail();
    }
    double v = 0;
    if (r.kind == Kind::Int) {
      const std::optional<int64_t> i = parse_int(value);
      if (!i) fail();
      v = double(*i);
    } else {
      const std::optional<double> x = parse_number(value);
      if (!x || !std::isfinite(*x)) fail();
      v = *x;
    }
    const bool above = r.lo_open ? v > r.lo : v >= r.lo;
    const bool below = r.hi_open ? v < r.hi : v <= r.hi;
    if (!above || !below) fail();
    return;
  }
}

std::string setting_type(const std::string& key) {
  for (const Range& r : kRanges)
    if (r.key == key) return r.kind == Kind::Int ? "INT" : r.kind == Kind::Float ? "FLOAT" : "BOOL";
  for (const SettingSpec& s : setting_schema())
    if (s.key == key && (s.default_value == "true" || s.default_value == "false")) return "BOOL";
  return "TEXT";
}

}  // namespace lra
