// What every fuzz target shares: the input written to a scratch file of this process (the
// readers take paths), and the rule that a reader may only fail with an lra::Error: any other
// exception (std::out_of_range, a json exception, bad_alloc), a crash or an ASan report is a
// finding.
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <typeinfo>

#include "lra/core/error.hpp"
#include "lra/core/threading.hpp"

namespace lra_fuzz {

namespace fs = std::filesystem;

// A folder of this process under $TMPDIR (or /tmp), created once, removed at exit.
inline const fs::path& scratch() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("lra_fuzz_" + std::to_string(::getpid()));
    fs::create_directories(d);
    lra::set_num_threads(1);  // deterministic, and the fuzzer's own process stays small
    return d;
  }();
  static const struct Cleanup {
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup;
  return dir;
}

// Writes the input to `rel` under the scratch folder (overwriting the last one) and returns its
// path. Folders are made once: file-system calls dominate the cost of a run.
inline std::string write_input(const std::string& rel, const uint8_t* data, size_t size) {
  const fs::path p = scratch() / "in" / rel;
  static std::string made;
  if (made != rel) {
    fs::create_directories(p.parent_path());
    made = rel;
  }
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return p.string();
}

// Runs fn(); an lra::Error is the expected way to refuse a bad input, except a failed internal
// check (LRA_ASSERT), which is a bug and aborts like any other exception.
template <typename Fn>
void expect_ok_or_lra_error(Fn fn) {
  try {
    fn();
  } catch (const lra::Error& e) {
    // LRA_ASSERT throws exactly lra::Error (readers throw DataError ...); the message alone
    // is not enough: a reader may echo input that contains the words.
    if (typeid(e) == typeid(lra::Error) &&
        std::string(e.what()).find("internal check failed") != std::string::npos)
      throw;
  }
}

}  // namespace lra_fuzz
