// Runs the built lra_cpu binary through the shell in a folder and collects its exit code,
// stdout and stderr (arguments are simple words: no quoting is done).
#pragma once
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "lra/core/io.hpp"

namespace lra_test {

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
