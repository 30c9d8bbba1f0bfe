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
// under mpirun, world() is MPI_COMM_WORLD with MPI_ERRORS_RETURN, so a failed collective (a
// rank died) throws DistributedError naming the operation instead of hanging or aborting.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

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

// Sums parameter gradients over the ranks through one flat buffer (in buckets). A gradient
// undefined on every rank stays undefined; one missing on some ranks counts as zeros there.
class GradientSync {
 public:
  GradientSync(std::vector<Var> params, Communicator& comm);
  void reduce();

 private:
  std::vector<Var> params_;
  Communicator& comm_;
  std::vector<float> flat_;
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
