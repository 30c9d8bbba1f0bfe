// Typed errors. The library throws; only the app turns an error into an exit code.
// Every message names what is at fault (file, line, field, flag, tensor) and how to fix it.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace lra {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct ShapeError : Error { using Error::Error; };       // incompatible shapes / dtypes
struct ConfigError : Error { using Error::Error; };      // bad flag, preset or config key
struct DataError : Error { using Error::Error; };        // malformed or missing data file
struct CheckpointError : Error { using Error::Error; };  // corrupt or mismatched checkpoint
struct IoError : Error { using Error::Error; };          // file system failures

namespace detail {
template <typename... Args> std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace lra

// LRA_CHECK(cond, ErrorType, message parts...): throw ErrorType(message) when cond is false.
#define LRA_CHECK(cond, ErrorType, ...)                                  \
  do {                                                                   \
    if (!(cond)) throw ErrorType(::lra::detail::concat(__VA_ARGS__));    \
  } while (0)

// Internal invariant (a bug in lra, not in the user's input): names file and line.
#define LRA_ASSERT(cond)                                                                  \
  do {                                                                                    \
    if (!(cond))                                                                          \
      throw ::lra::Error(::lra::detail::concat(__FILE__, ":", __LINE__,                   \
                                               ": internal check failed: ", #cond));      \
  } while (0)
