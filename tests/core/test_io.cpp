// File I/O: unique temp names, and the exclusive file lock between two processes (a forked
// child holds it; the parent is refused with the child's pid; the child's kill -9 frees it).
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "lra/core/io.hpp"

namespace fs = std::filesystem;

TEST_CASE("io: temp names are unique per write and carry the pid") {
  const std::string a = lra::temp_path("/x/f.json"), b = lra::temp_path("/x/f.json");
  CHECK(a != b);
  CHECK(a.rfind("/x/f.json.tmp." + std::to_string(::getpid()) + ".", 0) == 0);
}

TEST_CASE("io: a file lock excludes a second process until the holder dies") {
  const char* env = std::getenv("LRA_TEST_TMP");
  fs::path dir = (env && *env ? fs::path(env) : fs::temp_directory_path()) / "core_io_lock";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / ".lock").string();

  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // holds the lock until killed
    lra::FileLock held;
    const char ok = held.try_lock(path) ? 'y' : 'n';
    if (::write(ready[1], &ok, 1) != 1) ::_exit(2);
    for (;;) ::pause();
  }
  char ok = 0;
  REQUIRE(::read(ready[0], &ok, 1) == 1);
  REQUIRE(ok == 'y');
  {
    lra::FileLock second;
    CHECK(!second.try_lock(path));
    CHECK(lra::FileLock::holder_pid(path) == long(child));
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  lra::FileLock after;
  CHECK(after.try_lock(path));  // the OS released the dead holder's lock
  CHECK(lra::FileLock::holder_pid(path) == long(::getpid()));
}
