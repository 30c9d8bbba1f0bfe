// The child-process supervisor (lra/lra/measure/child.hpp): captured stdout, the environment
// put over the inherited one, a watch that kills, exit statuses, a log file, a missing binary.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <filesystem>
#include <string>

#include "lra/core/io.hpp"
#include "lra/lra/measure/child.hpp"
#include "task_helpers.hpp"

using namespace lra;
using lra_test::fresh_dir;

TEST_CASE("child: stdout captured, environment replaced, exit status described") {
  const child::Captured c = child::run({{"/bin/sh", "-c", "echo \"$LRA_CHILD_X\"; exit 3"},
                                        {"LRA_CHILD_X=over", "HOME=/nowhere"},
                                        {}},
                                       50);
  REQUIRE(c.started);
  CHECK(c.out == "over\n");
  CHECK(c.killed.empty());
  CHECK(child::describe(c.status) == "exited with status 3");
  const child::Captured ok = child::run({{"/bin/sh", "-c", "echo \"$HOME\""}, {"HOME=/x"}, {}}, 50);
  CHECK(ok.out == "/x\n");
  CHECK(child::describe(ok.status).empty());
}

TEST_CASE("child: the watch kills a child that runs too long; a missing binary is named") {
  const child::Captured slow = child::run(
      {{"/bin/sh", "-c", "sleep 5"}, {}, {}}, 20,
      [](size_t, double s) { return s > 0.2 ? std::string("too slow") : std::string(); });
  CHECK(slow.killed == "too slow");
  CHECK(slow.seconds < 4.0);
  CHECK(child::describe(slow.status) == "killed by signal 9");
  const child::Captured missing = child::run({{"/no/such/binary"}, {}, {}}, 20);
  CHECK(!missing.started);
  CHECK(missing.error.find("/no/such/binary") != std::string::npos);
}

TEST_CASE("child: start appends stdout and stderr to a log file") {
  const std::string log = fresh_dir("child", "log").string() + "/out.log";
  std::string error;
  const pid_t pid = child::start({{"/bin/sh", "-c", "echo out; echo err >&2"}, {}, log}, error);
  REQUIRE(pid > 0);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(read_file(log) == "out\nerr\n");
  CHECK(child::start({{"/no/such/binary"}, {}, log}, error) == -1);
  CHECK(error.find("could not start /no/such/binary") != std::string::npos);
}
