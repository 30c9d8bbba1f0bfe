// File I/O helpers: every write is atomic (temp file in the same folder, fsync, rename), so
// a crash or kill -9 leaves either the old file or the new one, never a torn one. Every read
// goes through open_file / read_file, which check once that the path is a regular file and
// name it when it is not (missing, a directory, unreadable).
#pragma once
#include <fstream>
#include <string>
#include <string_view>

#include "lra/core/error.hpp"

namespace lra {

void write_file_atomic(const std::string& path, std::string_view content);
// A temp name beside `path` no other writer uses: path.tmp.PID.N (N counts this process's temps).
std::string temp_path(const std::string& path);
void make_dirs(const std::string& path);  // mkdir -p; IoError on failure

// Empty when `path` is a regular file that opens for reading; else what is wrong with it:
// "cannot open file (No such file or directory)", "is a directory, expected a file", ...
std::string file_problem(const std::string& path);

// Opens `path` for binary reading, or throws E "<path>: <problem>; expected <expected>".
// Readers of data pass DataError, so that the error lands in the bad-data exit code.
template <class E = IoError>
std::ifstream open_file(const std::string& path, std::string_view expected = "a readable file") {
  std::string problem = file_problem(path);
  std::ifstream in;
  if (problem.empty()) {
    in.open(path, std::ios::binary);
    if (!in.is_open()) problem = "cannot open file";
  }
  if (!problem.empty()) throw E(detail::concat(path, ": ", problem, "; expected ", expected));
  return in;
}

// Removes a UTF-8 byte-order mark (EF BB BF) from the start of `first_line`: text files saved
// by some editors begin with one, and it is not part of the data.
inline void drop_utf8_bom(std::string& first_line) {
  if (first_line.rfind("\xEF\xBB\xBF", 0) == 0) first_line.erase(0, 3);
}

// Everything left in `in`; false when a read failed (then `out` holds what was read).
bool read_rest(std::ifstream& in, std::string& out);

// The whole file, or E naming the path (see open_file).
template <class E = IoError>
std::string read_file(const std::string& path, std::string_view expected = "a readable file") {
  std::ifstream in = open_file<E>(path, expected);
  std::string out;
  LRA_CHECK(read_rest(in, out), E, path, ": read error after ", out.size(), " bytes; expected ",
            expected);
  return out;
}

// An exclusive lock (flock) on the file `path`, held while this object lives and released by
// the OS when the process ends in any way (kill -9, crash). The file records the holder's pid.
class FileLock {
 public:
  FileLock() = default;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();
  // Takes the lock, or returns false when another process holds it; IoError if `path` cannot
  // be opened.
  bool try_lock(const std::string& path);
  // The pid recorded by the holder of a lock try_lock could not take (0 if not known).
  static long holder_pid(const std::string& path);

 private:
  int fd_ = -1;
};

}  // namespace lra
