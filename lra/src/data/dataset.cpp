#include "lra/lra/data/dataset.hpp"

#include <algorithm>
#include <map>
#include <numeric>

#include "lra/core/error.hpp"
#include "lra/core/rng.hpp"

namespace lra::data {
namespace {

// Copies min(len, max_len) tokens of each selected sequence into row b of a zeroed (B, N)
// tensor and records the kept length.
void fill_rows(const std::vector<const std::vector<int32_t>*>& rows, int64_t max_len,
               bool pad_to_max, Tensor& tokens, Tensor& lengths) {
  const int64_t batch = static_cast<int64_t>(rows.size());
  int64_t n = pad_to_max ? max_len : 1;
  if (!pad_to_max)
    for (const auto* r : rows) n = std::max(n, std::min<int64_t>(r->size(), max_len));
  tokens = Tensor::zeros({batch, n}, DType::I32);
  lengths = Tensor::zeros({batch}, DType::I32);
  int32_t* t = tokens.data<int32_t>();
  int32_t* l = lengths.data<int32_t>();
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t keep = std::min<int64_t>(rows[b]->size(), n);
    std::copy_n(rows[b]->data(), keep, t + b * n);
    l[b] = static_cast<int32_t>(keep);
  }
}

}  // namespace

Batch make_batch(const std::vector<Example>& ex, std::span<const int64_t> indices, int64_t max_len,
                 bool pad_to_max) {
  LRA_CHECK(!indices.empty(), Error, "make_batch: empty index list; expected at least one index");
  LRA_CHECK(max_len > 0, Error, "make_batch: max_len ", max_len, "; expected a positive length");
  const int64_t batch = static_cast<int64_t>(indices.size());
  std::vector<const std::vector<int32_t>*> first, second;
  first.reserve(indices.size());
  second.reserve(indices.size());
  bool dual = false;
  Batch out;
  out.labels = Tensor::zeros({batch}, DType::I32);
  int32_t* labels = out.labels.data<int32_t>();
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t i = indices[b];
    LRA_CHECK(i >= 0 && i < static_cast<int64_t>(ex.size()), Error, "make_batch: index ", i,
              " at batch row ", b, "; expected 0 <= index < ", ex.size());
    first.push_back(&ex[i].tokens);
    second.push_back(&ex[i].tokens2);
    dual = dual || !ex[i].tokens2.empty();
    labels[b] = ex[i].label;
  }
  fill_rows(first, max_len, pad_to_max, out.tokens, out.lengths);
  if (dual) fill_rows(second, max_len, pad_to_max, out.tokens2, out.lengths2);
  return out;
}

std::vector<int64_t> epoch_order(size_t n, uint64_t seed, uint64_t epoch) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), int64_t{0});
  const uint64_t key = rng_key(seed, {rng_tag("shuffle"), epoch});
  // Fisher-Yates from the back: position i swaps with a uniform j in [0, i]; draw i uses
  // counter i, so the permutation is a pure function of (n, seed, epoch).
  for (size_t i = n; i-- > 1;) {
    const size_t j = static_cast<size_t>(random_below(key, i, i + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

double majority_rate(const Split& split) {
  std::map<int32_t, int64_t> count;
  int64_t most = 0;
  for (const Example& e : split.examples) most = std::max(most, ++count[e.label]);
  return split.examples.empty() ? 0.0 : double(most) / double(split.examples.size());
}

}  // namespace lra::data
