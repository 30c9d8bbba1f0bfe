// An early memory check: the bytes a training configuration needs, estimated from its sizes
// before anything is built, against what the machine has, so that an impossible configuration
// fails at once with the flags to lower instead of in std::bad_alloc minutes later.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "lra/lra/train/model.hpp"

namespace lra {

// Bytes of one training step (float32 everywhere).
struct MemoryEstimate {
  double parameters = 0;   // weights: embeddings, positions, per layer Q/K/V/out, MLP, norms
  double optimiser = 0;    // gradients + Adam's two moments: 3 x parameters
  double activations = 0;  // saved for backward: batch x tokens x layers x per-token widths
  double attention = 0;    // the mechanism's own tensors (weights, features, buckets)
  double total() const { return parameters + optimiser + activations + attention; }
};
MemoryEstimate estimate_training_memory(const ModelConfig& c, int64_t batch);

// Bytes this process may still take: the least of MemAvailable (/proc/meminfo) and the room
// under its cgroup's memory limit; 0 when neither can be read. `source` names where it came from.
size_t available_memory_bytes(std::string* source = nullptr);

// The rows one process holds at a time: a global batch of `batch` rows is cut over `ranks`
// processes (mpirun -np) and `accumulate` micro-batches, and each forward and backward holds
// one micro-batch, batch / (ranks x accumulate) rows (rounded up).
int64_t rows_held(int64_t batch, int ranks, int64_t accumulate);

// ConfigError when the estimate for rows_held(batch, ranks, accumulate) rows exceeds
// `available` bytes (0: not known, no check), naming the estimate's parts and the flags to
// lower (--layers, --dim, --max-len, --batch) or raise (--accumulate).
void check_memory(const ModelConfig& c, int64_t batch, size_t available, const std::string& source,
                  int ranks = 1, int64_t accumulate = 1);
// The same against this machine (available_memory_bytes); returns a line saying both figures.
std::string check_memory(const ModelConfig& c, int64_t batch, int ranks = 1,
                         int64_t accumulate = 1);

}  // namespace lra
