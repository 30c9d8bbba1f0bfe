// Embedding tables: token embedding, learned and sinusoidal position tables.
#include <cmath>

#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "lra/nn/layers.hpp"

namespace lra::nn {

Embedding::Embedding(int64_t vocab, int64_t dim, uint64_t init_key, float stddev) {
  LRA_CHECK(vocab > 0 && dim > 0, ConfigError, "Embedding: vocab and dim must be positive (got ",
            vocab, ", ", dim, ")");
  Tensor w = Tensor::empty({vocab, dim});
  fill_normal(w, rng_key(init_key, {rng_tag("weight")}), 0.0f, stddev);
  weight_ = register_parameter("weight", w);
}

Var Embedding::forward(const Tensor& ids) const {
  LRA_CHECK(ids.dtype() == DType::I32, ShapeError, "Embedding '", path(),
            "': ids must be i32, got ", ids.describe());
  return embedding(weight_, ids);
}

namespace {
// x must be (B, N, dim) with N <= max_len.
void check_positions_input(const Var& x, int64_t max_len, int64_t dim, const std::string& path,
                           const char* what) {
  LRA_CHECK(x.dim() == 3 && x.size(2) == dim, ShapeError, what, " '", path, "': expected (B, N, ",
            dim, ") input, got ", x.data().describe());
  LRA_CHECK(x.size(1) <= max_len, ConfigError, what, " '", path, "': sequence length ", x.size(1),
            " exceeds the position table's max_len ", max_len,
            "; build the model with a larger max_len");
}
}  // namespace

LearnedPositions::LearnedPositions(int64_t max_len, int64_t dim, uint64_t init_key)
    : max_len_(max_len), dim_(dim) {
  LRA_CHECK(max_len > 0 && dim > 0, ConfigError,
            "LearnedPositions: max_len and dim must be positive (got ", max_len, ", ", dim, ")");
  Tensor w = Tensor::empty({max_len, dim});
  fill_normal(w, rng_key(init_key, {rng_tag("weight")}), 0.0f, 0.02f);
  weight_ = register_parameter("weight", w);
}

Var LearnedPositions::forward(const Var& x) const {
  check_positions_input(x, max_len_, dim_, path(), "LearnedPositions");
  return add(x, slice(weight_, 0, 0, x.size(1)));  // (B, N, D) + (N, D)
}

namespace {
// row[0, width): the 1D sinusoid of position p over `width` channels.
void write_sinusoid(float* row, int64_t p, int64_t width) {
  for (int64_t j = 0; j < width; ++j) {
    int64_t even = j - (j % 2);  // 2i for both members of the pair
    double angle = double(p) * std::exp(-double(even) * std::log(10000.0) / double(width));
    row[j] = float(j % 2 == 0 ? std::sin(angle) : std::cos(angle));
  }
}
}  // namespace

SinusoidalPositions::SinusoidalPositions(int64_t max_len, int64_t dim, int64_t grid_side)
    : max_len_(max_len), dim_(dim) {
  LRA_CHECK(max_len > 0 && dim > 0, ConfigError,
            "SinusoidalPositions: max_len and dim must be positive (got ", max_len, ", ", dim, ")");
  LRA_CHECK(grid_side >= 0 && grid_side * grid_side <= max_len && (grid_side == 0 || dim >= 2),
            ConfigError, "SinusoidalPositions: a ", grid_side, " x ", grid_side,
            " grid needs max_len >= ", grid_side * grid_side, " (got ", max_len,
            ") and dim >= 2 (got ", dim, ")");
  table_ = Tensor::zeros({max_len, dim});
  float* t = table_.data<float>();
  if (grid_side == 0) {
    for (int64_t p = 0; p < max_len; ++p) write_sinusoid(t + p * dim, p, dim);
    return;
  }
  const int64_t leading = max_len - grid_side * grid_side, half = dim / 2;
  for (int64_t p = 0; p < grid_side * grid_side; ++p) {
    float* row = t + (leading + p) * dim;
    write_sinusoid(row, p / grid_side, half);               // image row
    write_sinusoid(row + half, p % grid_side, dim - half);  // image column
  }
}

Var SinusoidalPositions::forward(const Var& x) const {
  check_positions_input(x, max_len_, dim_, path(), "SinusoidalPositions");
  return add(x, Var(table_.slice(0, 0, x.size(1))));  // constant: no gradient
}

}  // namespace lra::nn
