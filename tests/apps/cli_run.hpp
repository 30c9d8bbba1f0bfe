// Helpers for the app tests: fresh scratch folders, and runs of the built lra_cpu binary
// through the shell in a folder, collecting the exit code, stdout and stderr (arguments are
// simple words: no quoting is done).
#pragma once
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "lra/core/io.hpp"

namespace lra_test {

// A fresh, empty folder $LRA_TEST_TMP/<group>/<name> (or under the system temp folder).
inline std::filesystem::path fresh_scratch(const std::string& group, const std::string& name) {
  const char* env = std::getenv("LRA_TEST_TMP");
  const std::filesystem::path d =
      (env && *env ? std::filesystem::path(env) : std::filesystem::temp_directory_path()) / group /
      name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

struct Outcome {
  int code;
  std::string out, err;
};

inline Outcome run_cli(const std::filesystem::path& dir, const std::string& args) {
  const std::filesystem::path out = dir / "stdout", err = dir / "stderr";
  const std::string cmd = "cd '" + dir.string() + "' && '" + std::string(LRA_CPU_BINARY) + "' " +
                          args + " >'" + out.string() + "' 2>'" + err.string() + "'";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, lra::read_file(out.string()),
          lra::read_file(err.string())};
}

}  // namespace lra_test
