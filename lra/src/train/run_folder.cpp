// Starting a run in a folder: the lock and the checks of what the folder holds
// (Notes in lra/lra/train/run_folder.hpp).
#include "lra/lra/train/run_folder.hpp"

#include <filesystem>
#include <fstream>
#include <string_view>

#include "lra/core/error.hpp"
#include "lra/lra/train/run.hpp"

namespace lra {
namespace {

namespace fs = std::filesystem;

bool has(const std::string& dir, const char* name) {
  return fs::exists(dir + "/" + name);
}

// metrics.jsonl holds at least one line (the first is written after the first save).
bool has_metrics_lines(const std::string& dir) {
  std::ifstream in(dir + "/" + run_files::metrics);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) return true;
  return false;
}

// A name temp_path (core io) makes: NAME.tmp.PID.N, or NAME.tmp of older versions. Nothing
// else is removed, so a file of the user's that merely contains ".tmp" stays.
bool is_temp_name(const std::string& name) {
  if (name.size() > 4 && name.ends_with(".tmp")) return true;
  const size_t at = name.rfind(".tmp.");
  if (at == std::string::npos || at == 0) return false;
  const std::string rest = name.substr(at + 5);  // PID.N
  const size_t dot = rest.find('.');
  auto digits = [](std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  return dot != std::string::npos && digits(std::string_view(rest).substr(0, dot)) &&
         digits(std::string_view(rest).substr(dot + 1));
}

// Temp files of writes a kill interrupted (the renamed originals are intact); safe to remove
// while the folder is locked.
void remove_temp_files(const std::string& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (is_temp_name(name)) fs::remove(e.path());
  }
}

}  // namespace

void lock_run_folder(FileLock& lock, const std::string& dir, bool resume) {
  if (resume)
    LRA_CHECK(fs::is_directory(dir), CheckpointError, "cannot resume ", dir,
              ": no such folder; pass the --out folder of `lra_cpu train`");
  else
    make_dirs(dir);
  const std::string path = dir + "/" + run_files::lock;
  if (lock.try_lock(path)) return;
  const long pid = FileLock::holder_pid(path);
  const std::string who = pid > 0 ? "process " + std::to_string(pid) : "another process";
  throw CheckpointError("run folder " + dir + " is in use by " + who +
                        " (an lra_cpu train or train --resume writing it; see " + path +
                        "): wait for it to end" +
                        (pid > 0 ? " or stop it (kill " + std::to_string(pid) + ")" : "") +
                        ", or pick another --out");
}

bool holds_run(const std::string& dir) {
  return has(dir, run_files::state) || has(dir, run_files::last) || has(dir, run_files::best) ||
         has(dir, run_files::results) || has_metrics_lines(dir);
}

bool prepare_run_folder(const std::string& dir, bool resume,
                        const std::function<void(const std::string&)>& log) {
  const bool state = has(dir, run_files::state);
  const bool holds_run = lra::holds_run(dir);
  const bool stopped_early =
      !holds_run && (has(dir, run_files::config) || has(dir, run_files::metrics));
  remove_temp_files(dir);
  if (resume) {
    if (state) return true;
    LRA_CHECK(!holds_run, CheckpointError, "cannot resume ", dir, ": no ", run_files::state,
              " beside its other run files (deleted?); start a new run with another --out");
    if (log)
      log("note: " + dir + " holds no checkpoint yet (its run stopped before its first save): " +
          "starting it again from step 0 with its recorded settings");
    return false;
  }
  LRA_CHECK(!holds_run, ConfigError, dir, " already holds a run: continue it with --resume ", dir,
            " or pick a new --out");
  if (stopped_early && log)
    log("note: reusing " + dir + ": it holds no checkpoint and no results (an earlier run " +
        "stopped before its first save)");
  return false;
}

}  // namespace lra
