#include "lra/core/io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "lra/core/error.hpp"

namespace lra {

void write_file_atomic(const std::string& path, std::string_view content) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
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

}  // namespace lra
