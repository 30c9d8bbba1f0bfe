// Data-parallel training: one global batch cut into pieces (K ranks x N micro-batches), the
// gradients of the pieces summed into the gradient of the whole batch.
//
//   global batch B rows (the order a single process uses) -> P = K x N pieces of B / P rows;
//   piece p = rank x N + m holds rows [p B/P, (p+1) B/P).
//   L = 1/B sum_b l_b = sum_p (B_p / B) L_p   (L_p: the mean loss of piece p)
//   dL/dw = sum_p (B_p / B) dL_p/dw           each rank sums its N pieces, then
//                                             allreduce_sum over the K ranks
// Every rank then holds the same gradient and takes the same optimiser step, so the model
// stays identical everywhere. A piece's forward pass keeps its rows' random streams
// (ForwardContext::row0), so its dropout masks (and Sinkhorn's Gumbel noise) are the ones of
// the whole batch. One exception: Reformer's attention dropout numbers its draws hash round
// first, so with attn_dropout > 0 a Reformer piece draws other (equally distributed) masks.
//
// Communicator: the serial one (rank 0 of 1) always exists; with LRA_HAVE_MPI and a launch
// under mpirun, world() is MPI_COMM_WORLD with MPI_ERRORS_RETURN, so a failed collective throws
// DistributedError naming the operation instead of aborting (a rank that dies: report_lost_ranks).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "lra/autograd/grad_ready.hpp"
#include "lra/autograd/var.hpp"
#include "lra/core/error.hpp"
#include "lra/lra/data/dataset.hpp"
#include "lra/nn/module.hpp"

namespace lra {

class LraModel;
struct EvalResult;

struct DistributedError : Error {
  using Error::Error;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  bool is_root() const { return rank() == 0; }
  // In-place sums over the ranks; every rank gets the same result.
  virtual void allreduce_sum(float* x, int64_t n) = 0;
  virtual void allreduce_sum(double* x, int64_t n) = 0;
  // The same sum, started and left running (MPI_Iallreduce): x must stay in place, untouched,
  // until wait_all(). Every rank starts its sums in the same order.
  virtual void start_allreduce_sum(float* x, int64_t n) = 0;
  // Lets the library move the started sums on (MPI_Testall; a single-threaded MPI progresses
  // only inside its calls); true when all have ended.
  virtual bool test_all() = 0;
  virtual void wait_all() = 0;  // ends every started sum
  // x on every rank becomes rank 0's x.
  virtual void broadcast(int64_t* x, int64_t n) = 0;
  virtual void barrier() = 0;
  // Ends every rank of the job with `code` (a rank that failed alone calls this).
  [[noreturn]] virtual void abort(int code) = 0;
  virtual std::string describe() const = 0;  // "serial" or "Open MPI v4.1.4, 2 ranks"
};

// The process's communicator: serial unless init_world found an MPI launch.
Communicator& world();
// A communicator of this process alone (rank 0 of 1), e.g. for a K=1 run inside an MPI job.
Communicator& serial_communicator();
// Initialises MPI when compiled in and started by mpirun (OMPI_COMM_WORLD_SIZE / PMI_SIZE
// set); finalize_world ends it.
void init_world(int* argc, char*** argv);
void finalize_world();
// For a SIGTERM handler (async-signal-safe). A rank that dies gives the others no MPI error
// code in Open MPI 4.1 (no fault tolerance built in): mpirun sends the survivors SIGTERM, then
// SIGKILL a second later. On rank 0 of an MPI job this writes to stderr which ranks on this
// host have ended ("lra_cpu (rank 0): rank 1 (pid 4242) has ended and mpirun is stopping the
// job") followed by `then`, and returns true; false, writing nothing, when none has (a SIGTERM
// from the user, or a rank on another host, which cannot be checked from here).
bool report_lost_ranks(const char* then);
// "Open MPI v4.1.4" when compiled with MPI, else "" (lra_cpu info).
std::string mpi_library_version();

// ---- the pieces of a global batch ----------------------------------------------------------

struct Piece {
  int64_t begin = 0, end = 0;  // rows of the global batch
};

// This rank's `accumulate` pieces of a global batch of `batch` rows over `ranks` ranks.
// ConfigError naming --batch, --accumulate and the rank count unless ranks x accumulate
// divides batch.
std::vector<Piece> batch_pieces(int64_t batch, int ranks, int rank, int64_t accumulate);

// Rows [begin, end) of a batch (tokens keep the whole batch's padded length, so a piece sees
// exactly the tensors its rows have in the whole batch).
data::Batch batch_rows(const data::Batch& b, int64_t begin, int64_t end);

// ---- forward and backward of one global batch ----------------------------------------------

// Sums parameter gradients over the ranks while the backward pass runs. The parameters,
// last registered first (the order backward finishes them), are cut into buckets of about
// `bucket_bytes`; a bucket's sum (start_allreduce_sum) starts as soon as backward has finished
// all its gradients (autograd/grad_ready.hpp) and every bucket before it has started, so all
// ranks start them in one order, and the sums of the top layers travel while the layers below
// are differentiated. A bucket is [its gradients | one 0/1 "defined" flag per parameter]: a
// gradient undefined on every rank stays undefined; one missing on some ranks counts as zeros
// there.
//
//   {
//     const GradReadyScope overlap = sync.watch(loss);  // around the step's last backward()
//     loss.backward();       // buckets start as they fill; test_all() lets them progress
//   }
//   sync.finish();           // starts the rest, waits, writes the sums into the gradients
class GradientSync {
 public:
  static constexpr int64_t kBucketBytes = int64_t(256) << 10;  // > 1 bucket for the cpu presets
  GradientSync(std::vector<Var> params, Communicator& comm, int64_t bucket_bytes = kBucketBytes);
  // The backward from `loss` comes: the gradients it does not reach are final now, the others
  // as it reports them while the returned scope lives (with one rank: nothing to do).
  GradReadyScope watch(const Var& loss);
  void finish();
  size_t buckets() const { return buckets_.size(); }
  size_t started_in_backward() const { return started_in_backward_; }  // of the last step

 private:
  struct Bucket {
    int64_t begin = 0, floats = 0;  // in flat_: gradients, then flags
    size_t waiting = 0;             // parameters whose gradient is not final yet
  };
  void gradient_final(size_t i);  // copies parameter i's gradient (or zeros) into its slot
  void start_ready();             // starts buckets in order while the next one is complete
  std::vector<Var> params_;
  Communicator& comm_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;                     // per parameter
  std::vector<int64_t> slot_, flag_;                  // per parameter: offsets in flat_
  std::unordered_map<const VarImpl*, size_t> index_;  // parameter -> i
  std::vector<char> final_;                           // per parameter, this step
  std::vector<float> flat_;
  size_t next_ = 0, started_in_backward_ = 0;
};

struct StepLoss {
  float loss = 0.0f;    // the mean loss over the global batch
  int64_t correct = 0;  // over the global batch
};

// Zeroed gradients in, the global batch's gradient out (on every rank): forward and backward
// of this rank's pieces of `whole` (the global batch), scaled by rows / batch, then summed
// over the ranks. With one piece covering the batch it is exactly the plain step.
StepLoss forward_backward(LraModel& model, const data::Batch& whole,
                          const std::vector<Piece>& pieces, const nn::ForwardContext& ctx,
                          GradientSync& sync, Communicator& comm);

// evaluate() with batch j on rank j mod K and the sums reduced: every rank gets the result.
EvalResult evaluate_sharded(LraModel& model, const data::Split& split, int64_t batch_size,
                            int64_t max_len, int64_t max_batches, Communicator& comm,
                            const std::function<void(size_t, size_t)>& progress = {});

}  // namespace lra
