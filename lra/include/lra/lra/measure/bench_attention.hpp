// The attention core alone, fast path vs dense face (issue figures: batch 1, one head, d 64).
//
// For each mechanism and length N, with random q, k, v (1, 1, N, d):
//   fast   attend(q, k, v) forward + backward (the mechanism's real algorithm)
//   dense  its dense face: W = dense_weights(q, k) materialised (N x N), then W v, forward only;
//          for the masked-softmax family (transformer, local, sparse, longformer, bigbird) also
//          forward + backward of softmax(q k^T / sqrt(d) + log mask) v with autograd, which is
//          what a "masked dense N x N imitation" of the mechanism costs to train.
// Each figure is the median over `reps` runs after one warm-up; peak bytes are the allocator's
// peak live bytes above what was live before the run.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lra::bench {

struct CoreOptions {
  std::vector<std::string> models;  // registry names
  std::vector<int64_t> lengths = {1024, 4096};
  int64_t head_dim = 64;
  int reps = 5;
  std::map<std::string, std::map<std::string, std::string>> params;  // per mechanism
};

struct CoreRow {
  std::string model;
  int64_t n = 0;
  double fast_ms = 0, dense_fwd_ms = 0, dense_train_ms = -1;  // -1: not measured
  size_t fast_peak = 0, dense_fwd_peak = 0, dense_train_peak = 0;
};

std::vector<CoreRow> bench_attention_core(const CoreOptions& opt);
std::string core_markdown(const std::vector<CoreRow>& rows);

}  // namespace lra::bench
