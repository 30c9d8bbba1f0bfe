// File I/O helpers: every write is atomic (temp file in the same folder, fsync, rename), so
// a crash or kill -9 leaves either the old file or the new one, never a torn one.
#pragma once
#include <string>
#include <string_view>

namespace lra {

void write_file_atomic(const std::string& path, std::string_view content);
// A temp name beside `path` no other writer uses: path.tmp.PID.N (N counts this process's temps).
std::string temp_path(const std::string& path);
std::string read_file(const std::string& path);  // IoError naming the path when unreadable
void make_dirs(const std::string& path);         // mkdir -p; IoError on failure

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
