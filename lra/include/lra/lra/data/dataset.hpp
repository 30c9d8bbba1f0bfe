// Datasets in memory, batching and seeded shuffling, shared by every LRA task.
//
// An Example is a token sequence (ids of the task's vocabulary, 0 = padding) plus a class
// label. The dual-tower retrieval task fills `tokens2` with the second document; every other
// task leaves it empty.
//
// Batching right-pads with 0 and truncates to max_len:
//   examples {[3 4 5], [7]}, max_len 4, pad_to_max false -> tokens [[3 4 5], [7 0 0]],
//                                                          lengths [3, 1]
//   the same with pad_to_max true                       -> tokens [[3 4 5 0], [7 0 0 0]]
//
// Shuffling is a Fisher-Yates permutation drawn from the counter-based RNG with key
// rng_key(seed, {rng_tag("shuffle"), epoch}): the order of an epoch depends only on
// (n, seed, epoch), never on threads or on earlier epochs, so a resumed run replays it exactly.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "lra/core/tensor.hpp"

namespace lra::data {

struct Example {
  std::vector<int32_t> tokens;   // token ids, no padding, no CLS
  int32_t label = 0;             // class index
  std::vector<int32_t> tokens2;  // second document (dual-tower retrieval only), else empty
};

struct Split {
  std::vector<Example> examples;
  std::string source;     // where the examples came from (file path or description)
  int64_t truncated = 0;  // examples cut to the reader's max_len
  int64_t dropped = 0;    // examples longer than max_len left out (ListOps: a cut one is wrong)
  int64_t longest = 0;    // longest sequence before truncation (tokens)
};

struct Batch {
  Tensor tokens;    // i32 (B, N), right-padded with 0
  Tensor lengths;   // i32 (B), tokens kept per row (<= N)
  Tensor labels;    // i32 (B)
  Tensor tokens2;   // i32 (B, N2), dual-tower only (undefined otherwise)
  Tensor lengths2;  // i32 (B), dual-tower only (undefined otherwise)
};

// Gathers ex[indices[b]] into a batch. Each sequence is truncated to max_len (> 0).
// N = max_len when pad_to_max, else the longest (truncated) sequence in the batch (at least
// 1, so an all-empty batch still has a well-formed (B, 1) tensor of padding).
// The batch is dual-tower (tokens2/lengths2 defined) when any selected example has tokens2.
// Throws lra::Error on an empty index list, an index out of range or max_len <= 0.
Batch make_batch(const std::vector<Example>& ex, std::span<const int64_t> indices, int64_t max_len,
                 bool pad_to_max);

// The share of the split's most frequent label (0 when empty): the accuracy of always
// answering that class, the floor a trained model's accuracy has to beat.
double majority_rate(const Split& split);

// A permutation of 0..n-1 for `epoch`, deterministic in (n, seed, epoch).
std::vector<int64_t> epoch_order(size_t n, uint64_t seed, uint64_t epoch);

}  // namespace lra::data

namespace lra {

// What a task's reader returns: the three splits and what the reader noticed.
struct TaskData {
  data::Split train, val, test;
  std::vector<std::string> notes;  // e.g. "test split doubles as validation"
};

}  // namespace lra
