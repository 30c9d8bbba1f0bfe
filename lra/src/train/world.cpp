// The process's communicator: serial (rank 0 of 1), or MPI_COMM_WORLD when built with MPI
// (LRA_HAVE_MPI) and launched by mpirun. MPI errors return (MPI_ERRORS_RETURN) and become a
// DistributedError naming the call. A rank that dies gives the others no error code in Open
// MPI 4.1 (no ULFM): mpirun sends them SIGTERM, then SIGKILL a second later, and rank 0's
// SIGTERM handler names the lost rank (report_lost_ranks).
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "lra/lra/train/distributed.hpp"

#if defined(LRA_HAVE_MPI)
#include <mpi.h>
#endif

namespace lra {
namespace {

class SerialCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce_sum(float*, int64_t) override {}
  void allreduce_sum(double*, int64_t) override {}
  void start_allreduce_sum(float*, int64_t) override {}
  bool test_all() override { return true; }
  void wait_all() override {}
  void broadcast(int64_t*, int64_t) override {}
  void barrier() override {}
  [[noreturn]] void abort(int code) override { std::exit(code); }
  std::string describe() const override { return "serial"; }
};

// On rank 0 of an MPI job: every rank's process id and whether it runs on this host
// (report_lost_ranks), written once by MpiCommunicator before any signal handler reads it.
struct Peer {
  pid_t pid = 0;
  bool here = false;
};
std::vector<Peer>& peers() {
  static std::vector<Peer> p;
  return p;
}

#if defined(LRA_HAVE_MPI)
class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator() {
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    const int pid = int(getpid());
    std::vector<int> pids(size_t(size_), 0);
    std::array<char, MPI_MAX_PROCESSOR_NAME> host{};
    int len = 0;
    MPI_Get_processor_name(host.data(), &len);
    std::vector<char> hosts(size_t(size_) * host.size());
    if (MPI_Allgather(&pid, 1, MPI_INT, pids.data(), 1, MPI_INT, MPI_COMM_WORLD) != MPI_SUCCESS ||
        MPI_Allgather(host.data(), int(host.size()), MPI_CHAR, hosts.data(), int(host.size()),
                      MPI_CHAR, MPI_COMM_WORLD) != MPI_SUCCESS)
      return;  // no table: report_lost_ranks stays silent
    if (rank_ != 0) return;
    for (int r = 0; r < size_; ++r)
      peers().push_back(
          {pid_t(pids[size_t(r)]),
           std::strncmp(hosts.data() + size_t(r) * host.size(), host.data(), host.size()) == 0});
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allreduce_sum(float* x, int64_t n) override {
    check(MPI_Allreduce(MPI_IN_PLACE, x, int(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
  }
  void allreduce_sum(double* x, int64_t n) override {
    check(MPI_Allreduce(MPI_IN_PLACE, x, int(n), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
  }
  void start_allreduce_sum(float* x, int64_t n) override {
    pending_.emplace_back();
    check(MPI_Iallreduce(MPI_IN_PLACE, x, int(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                         &pending_.back()),
          "MPI_Iallreduce");
  }
  bool test_all() override {
    int done = 1;
    if (!pending_.empty())
      check(MPI_Testall(int(pending_.size()), pending_.data(), &done, MPI_STATUSES_IGNORE),
            "MPI_Testall");
    if (done) pending_.clear();
    return done != 0;
  }
  void wait_all() override {
    std::vector<MPI_Request> pending = std::move(pending_);
    pending_.clear();
    check(MPI_Waitall(int(pending.size()), pending.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
  }
  void broadcast(int64_t* x, int64_t n) override {
    check(MPI_Bcast(x, int(n), MPI_INT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
  }
  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }
  [[noreturn]] void abort(int code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::exit(code);
  }
  std::string describe() const override {
    return mpi_library_version() + ", " + std::to_string(size_) + " ranks";
  }

 private:
  void check(int rc, const char* call) const {
    if (rc == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    throw DistributedError(detail::concat(
        call, " failed on rank ", rank_, " of ", size_, " (", std::string(text, size_t(len)),
        "): another rank has stopped (see its message); the run folder's last checkpoint stays "
        "valid: continue with lra_cpu train --resume DIR"));
  }
  int rank_ = 0, size_ = 1;
  std::vector<MPI_Request> pending_;  // started sums (start_allreduce_sum)
};
#endif

std::unique_ptr<Communicator>& world_ptr() {
  static std::unique_ptr<Communicator> w = std::make_unique<SerialCommunicator>();
  return w;
}

bool launched_by_mpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

}  // namespace

Communicator& world() {
  return *world_ptr();
}

Communicator& serial_communicator() {
  static SerialCommunicator serial;
  return serial;
}

void init_world(int* argc, char*** argv) {
#if defined(LRA_HAVE_MPI)
  if (!launched_by_mpirun()) return;
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);  // only the main thread calls
  world_ptr() = std::make_unique<MpiCommunicator>();
#else
  (void)argc;
  (void)argv;
  (void)launched_by_mpirun;
#endif
}

void finalize_world() {
#if defined(LRA_HAVE_MPI)
  int init = 0, done = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&done);
  if (init && !done) MPI_Finalize();
#endif
}

namespace {
void write_text(const char* text) {
  size_t n = 0;
  while (text[n]) ++n;
  while (n > 0) {
    const ssize_t w = ::write(2, text, n);
    if (w <= 0) return;
    text += w, n -= size_t(w);
  }
}
void write_number(long v) {  // v >= 0
  char digits[24];
  int n = 0;
  do digits[n++] = char('0' + v % 10), v /= 10;
  while (v > 0);
  char out[24];
  for (int i = 0; i < n; ++i) out[i] = digits[n - 1 - i];
  out[n] = 0;
  write_text(out);
}
}  // namespace

bool report_lost_ranks(const char* then) {
  const std::vector<Peer>& p = peers();
  if (p.empty()) return false;  // not rank 0 of an MPI job
  bool any = false;
  for (size_t r = 1; r < p.size(); ++r) {
    if (!p[r].here || ::kill(p[r].pid, 0) == 0 || errno != ESRCH) continue;
    write_text(any ? ", rank " : "lra_cpu (rank 0): rank ");
    write_number(long(r));
    write_text(" (pid ");
    write_number(long(p[r].pid));
    write_text(")");
    any = true;
  }
  if (any) {
    write_text(" has ended and mpirun is stopping the job");
    write_text(then);
  }
  return any;
}

std::string mpi_library_version() {
#if defined(LRA_HAVE_MPI)
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(text, &len);
  std::string v(text, size_t(len));
  return v.substr(0, v.find(','));
#else
  return "";
#endif
}

}  // namespace lra
