#include "lra/core/io.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "lra/core/error.hpp"

namespace lra {

std::string temp_path(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

void write_file_atomic(const std::string& path, std::string_view content) {
  const std::string tmp = temp_path(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  LRA_CHECK(fd >= 0, IoError, "cannot write ", tmp, ": ", std::strerror(errno));
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw IoError("cannot write " + path + ": " + std::strerror(err));
    }
    p += n;
    left -= size_t(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw IoError("cannot rename " + tmp + " to " + path + ": " + std::strerror(err));
  }
}

std::string file_problem(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return detail::concat("cannot open file (", std::strerror(errno), ")");
  if (S_ISDIR(st.st_mode)) return "is a directory, expected a file";
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode))
    return "is not a regular file";
  if (::access(path.c_str(), R_OK) != 0)
    return detail::concat("cannot open file (", std::strerror(errno), ")");
  return {};
}

bool read_rest(std::ifstream& in, std::string& out) {
  char buf[1 << 16];
  try {
    while (in.read(buf, sizeof buf) || in.gcount() > 0) out.append(buf, size_t(in.gcount()));
  } catch (const std::exception&) {  // libstdc++'s filebuf throws on a failed read(2)
    return false;
  }
  return !in.bad();
}

void make_dirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  LRA_CHECK(!ec, IoError, "cannot create folder ", path, ": ", ec.message());
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the lock
}

bool FileLock::try_lock(const std::string& path) {
  LRA_ASSERT(fd_ < 0);
  // O_CLOEXEC: a child process must not inherit (and keep) the lock.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  LRA_CHECK(fd >= 0, IoError, "cannot open the lock file ", path, ": ", std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    LRA_CHECK(err == EWOULDBLOCK, IoError, "cannot lock ", path, ": ", std::strerror(err));
    return false;
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != ssize_t(pid.size())) {
    // the lock holds without the pid; only the message for a second process is poorer
  }
  fd_ = fd;
  return true;
}

long FileLock::holder_pid(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  return in >> pid ? pid : 0;
}

}  // namespace lra
