// Typed errors. The library throws; only the app turns an error into an exit code.
// Every message names what is at fault (file, line, field, flag, tensor) and how to fix it.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace lra {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct ShapeError : Error {
  using Error::Error;
};  // incompatible shapes / dtypes
struct ConfigError : Error {
  using Error::Error;
};  // bad flag, preset or config key
struct DataError : Error {
  using Error::Error;
};  // malformed or missing data file
struct CheckpointError : Error {
  using Error::Error;
};  // corrupt or mismatched checkpoint
struct IoError : Error {
  using Error::Error;
};  // file system failures

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

// `value` for an error message: whole up to `keep` bytes, else its first `keep` bytes and
// "... (N bytes)", so a 10 MB flag value is not echoed whole.
inline std::string cut_for_message(std::string_view value, size_t keep = 80) {
  if (value.size() <= keep) return std::string(value);
  return detail::concat(value.substr(0, keep), "... (", value.size(), " bytes)");
}

}  // namespace lra

// LRA_CHECK(cond, ErrorType, message parts...): throw ErrorType(message) when cond is false.
#define LRA_CHECK(cond, ErrorType, ...)                               \
  do {                                                                \
    if (!(cond)) throw ErrorType(::lra::detail::concat(__VA_ARGS__)); \
  } while (0)

// Internal invariant (a bug in lra, not in the user's input): names file and line.
#define LRA_ASSERT(cond)                                                                       \
  do {                                                                                         \
    if (!(cond))                                                                               \
      throw ::lra::Error(                                                                      \
          ::lra::detail::concat(__FILE__, ":", __LINE__, ": internal check failed: ", #cond)); \
  } while (0)
