// Child processes, the one supervisor of the measuring tools: every benchmark configuration,
// every PyTorch twin run and every suite cell runs in a process of its own, so a crash, an
// out-of-memory kill or a hang costs one measurement, never the sweep.
//
//   child::Spawn s{{exe, "bench-config", json}};
//   child::Captured c = child::run(s, 100, [&](size_t rss, double seconds) {
//     return seconds > 60 ? "no result after 60 s; killed" : "";   // "": let it run
//   });
//   // c.out: its stdout; c.killed: why it was killed; child::describe(c.status)
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace lra::child {

struct Spawn {
  std::vector<std::string> argv{};  // argv[0]: the executable's path
  std::vector<std::string> env{};   // NAME=VALUE, replacing an inherited NAME (the rest inherited)
  std::string log{};  // "": stdout to the caller (run); else stdout and stderr appended here,
                      // stdin from /dev/null (start)
};

// Starts the child with stdout and stderr appended to s.log. -1 and `error` set
// ("could not start <argv0>: <reason>") when it cannot start.
pid_t start(const Spawn& s, std::string& error);

struct Captured {
  bool started = false;
  std::string error;    // why it did not start
  std::string out;      // everything it wrote to stdout
  int status = 0;       // waitpid's status
  std::string killed;   // why the supervisor killed it with SIGKILL ("": it ended by itself)
  size_t rss_peak = 0;  // the largest VmRSS seen while polling (bytes)
  double seconds = 0;   // wall time from start to exit
};

// Runs s.argv to its end with stdout captured, polling every poll_ms: `watch(rss, seconds)`
// returning a non-empty reason kills the child and its descendants (once) with SIGKILL.
Captured run(const Spawn& s, int poll_ms,
             const std::function<std::string(size_t rss, double seconds)>& watch = {});

// "exited with status N" / "killed by signal N" ("" for a zero exit).
std::string describe(int status);

// "VmRSS:" (or another field) of /proc/<pid>/status in bytes ("self": this process); 0 when
// unreadable.
size_t proc_status_bytes(const std::string& pid, const char* field);

}  // namespace lra::child
