// Child processes: posix_spawn, a pipe for stdout, a poll loop that watches the child's RSS and
// time, SIGKILL when the caller says so, and the exit status (lra/lra/measure/child.hpp).
#include "lra/lra/measure/child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

extern char** environ;

namespace lra::child {
namespace {

// This process's environment with s.env put over it.
std::vector<std::string> environment(const Spawn& s) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string v = *e;
    const std::string name = v.substr(0, v.find('='));
    bool replaced = false;
    for (const std::string& a : s.env) replaced = replaced || a.substr(0, a.find('=')) == name;
    if (!replaced) env.push_back(v);
  }
  env.insert(env.end(), s.env.begin(), s.env.end());
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& v) {
  std::vector<char*> p;
  for (std::string& a : v) p.push_back(a.data());
  p.push_back(nullptr);
  return p;
}

// posix_spawn with the file actions given; the error text when it fails.
pid_t spawn(const Spawn& s, posix_spawn_file_actions_t* fa, std::string& error) {
  if (s.argv.empty()) {
    error = "no executable to run";
    return -1;
  }
  std::vector<std::string> args = s.argv, env = environment(s);
  std::vector<char*> argv = pointers(args), envp = pointers(env);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], fa, nullptr, argv.data(), envp.data());
  if (rc != 0) {
    error = std::string("could not start ") + argv[0] + ": " + std::strerror(rc);
    return -1;
  }
  return pid;
}

// SIGKILL to pid and every process below it (/proc/<pid>/task/<pid>/children), so that no
// grandchild (sh -c "sleep 5") lives on holding our pipe or the caller's stderr. The parent
// goes first: killed after its children, a shell could see them die and exit 137 on its own,
// and the caller would read "exited with status 137" instead of "killed by signal 9".
void kill_tree(pid_t pid) {
  std::vector<pid_t> children;
  std::ifstream f("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  for (pid_t c; f >> c;) children.push_back(c);
  kill(pid, SIGKILL);
  for (const pid_t c : children) kill_tree(c);
}

}  // namespace

size_t proc_status_bytes(const std::string& pid, const char* field) {
  std::ifstream f("/proc/" + pid + "/status");
  std::string line;
  const size_t n = std::strlen(field);
  while (std::getline(f, line))
    if (line.compare(0, n, field) == 0) return size_t(std::atoll(line.c_str() + n)) * 1024;
  return 0;
}

pid_t start(const Spawn& s, std::string& error) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, s.log.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  const pid_t pid = spawn(s, &fa, error);
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

Captured run(const Spawn& s, int poll_ms,
             const std::function<std::string(size_t rss, double seconds)>& watch) {
  Captured c;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    c.error = std::string("pipe failed: ") + std::strerror(errno);
    return c;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = spawn(s, &fa, c.error);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return c;
  }
  c.started = true;
  const std::string spid = std::to_string(pid);
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  // Until the child has exited and its output is read. A grandchild that inherited the pipe
  // (sh -c "sleep 5") may hold it open after the child is gone: the reaped child ends the loop.
  bool reaped = false;
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, reaped ? 0 : poll_ms) > 0) {
      char buf[4096];
      const ssize_t got = read(fds[0], buf, sizeof buf);
      if (got <= 0) break;  // EOF: every writer closed stdout
      c.out.append(buf, size_t(got));
    } else if (reaped) {
      break;  // nothing more buffered
    }
    if (reaped) continue;
    const size_t rss = proc_status_bytes(spid, "VmRSS:");
    c.rss_peak = std::max(c.rss_peak, rss);
    if (c.killed.empty() && watch) {
      c.killed = watch(rss, seconds());
      if (!c.killed.empty()) kill_tree(pid);
    }
    reaped = waitpid(pid, &c.status, WNOHANG) == pid;
  }
  close(fds[0]);
  if (!reaped) waitpid(pid, &c.status, 0);
  c.seconds = seconds();
  return c;
}

std::string describe(int status) {
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "";
}

}  // namespace lra::child
