// Text in and out, one copy each: strict numbers from flag/setting/metadata text, a duration
// for progress lines, a timestamp for folder names.
//
//   parse_int("42") = 42; parse_int("4x"), parse_int(" 4"), parse_int("") = nullopt
//   to_int("abc", "flag: steps") throws ConfigError "flag: steps = 'abc' is not an integer"
//   format_duration(187) = "3m07s"; 42 -> "42s"; 7500 -> "2h05m"
//   timestamp() = "20261205-231500" (local time)
#pragma once
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "lra/core/error.hpp"

namespace lra {

// The whole of `text` as an integer (no sign but '-', no spaces, no trailing characters,
// within int64); nullopt otherwise.
inline std::optional<int64_t> parse_int(std::string_view text) {
  int64_t v = 0;
  const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || err != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// The whole of `text` as a number (decimal or exponent form); nullopt otherwise.
inline std::optional<double> parse_number(std::string_view text) {
  double v = 0;
  const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || err != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// parse_int, or ConfigError "<what> = '<text>' is not an integer".
inline int64_t to_int(std::string_view text, std::string_view what) {
  const std::optional<int64_t> v = parse_int(text);
  LRA_CHECK(v, ConfigError, what, " = '", cut_for_message(text), "' is not an integer");
  return *v;
}

// parse_number, or ConfigError "<what> = '<text>' is not a number".
inline double to_number(std::string_view text, std::string_view what) {
  const std::optional<double> v = parse_number(text);
  LRA_CHECK(v, ConfigError, what, " = '", cut_for_message(text), "' is not a number");
  return *v;
}

// Seconds as "42s", "3m07s" or "2h05m" (negative or NaN: "0s").
inline std::string format_duration(double s) {
  char buf[32];
  if (!(s >= 0)) s = 0;
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
  return buf;
}

// The local time as "YYYYmmdd-HHMMSS", for folder names (runs/listops-transformer-<time>).
inline std::string timestamp() {
  const std::time_t t = std::time(nullptr);
  std::tm local{};
  localtime_r(&t, &local);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &local);
  return buf;
}

}  // namespace lra
