// Layers of the LRA transformer (docs/lra.md section 2, docs/mechanisms.md section 1), composed
// from the differentiable ops of lra/autograd/ops.hpp. No layer has a kernel of its own.
//
//   tokens (B, N) -> Embedding -> + LearnedPositions | SinusoidalPositions -> Dropout
//   -> Encoder: L x EncoderBlock (pre-LN)     x += Dropout(mixer(LN1(x)))
//                                             x += MLP(LN2(x))
//               -> final LayerNorm
//   -> pool (CLS row 0 | mean over valid positions) -> ClassifierHead -> logits (B, classes)
//
// Initialisation follows LRA (flax): Dense kernels xavier-uniform, Dense biases N(0, 1e-6),
// embeddings N(0, 1), learned positions N(0, 0.02), LayerNorm scale 1 and bias 0. Every
// random init is keyed (init_key): the same key gives the same weights on any thread count.
//
// Parameters are Vars (shared handles): accessors such as Linear::weight() return the
// member handle that forward() uses, so a test can swap in its own leaf.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "lra/nn/mixer.hpp"
#include "lra/nn/module.hpp"

namespace lra::nn {

// y = x W + b. x (..., in) -> (..., out). Parameters "weight" (in, out), "bias" (out).
class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, bool bias, uint64_t init_key);
  Var forward(const Var& x) const;
  Var& weight() { return weight_; }  // (in, out)
  Var& bias() { return bias_; }      // (out), undefined without bias
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }

 private:
  int64_t in_, out_;
  Var weight_, bias_;
};

// Token embedding: ids i32 (...) -> (..., dim). Parameter "weight" (vocab, dim), N(0, stddev).
// An id outside [0, vocab) throws DataError (from the gather kernel).
class Embedding : public Module {
 public:
  Embedding(int64_t vocab, int64_t dim, uint64_t init_key, float stddev = 1.0f);
  Var forward(const Tensor& ids) const;
  Var& weight() { return weight_; }

 private:
  Var weight_;
};

// LayerNorm over the last axis. Parameters "weight" (dim) = 1, "bias" (dim) = 0.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t dim, float eps = 1e-6f);
  Var forward(const Var& x) const;
  Var& weight() { return weight_; }
  Var& bias() { return bias_; }

 private:
  float eps_;
  Var weight_, bias_;
};

// Inverted dropout, active only when ctx.training and p > 0. Mask key = ctx.key(path()), so
// the mask depends on (seed, step, this module's path) only. No parameters.
class Dropout : public Module {
 public:
  explicit Dropout(float p);  // p in [0, 1), else ConfigError
  Var forward(const Var& x, const ForwardContext& ctx) const;
  float p() const { return p_; }

 private:
  float p_;
};

// Dense(dim -> hidden) -> GELU -> Dropout -> Dense(hidden -> dim) -> Dropout.
// Children "fc1", "fc2" (with bias) and the parameter-free "dropout1", "dropout2".
class MLP : public Module {
 public:
  MLP(int64_t dim, int64_t hidden, float dropout, uint64_t init_key);
  Var forward(const Var& x, const ForwardContext& ctx) const;
  Linear& fc1() { return *fc1_; }
  Linear& fc2() { return *fc2_; }

 private:
  Linear *fc1_, *fc2_;
  Dropout *drop1_, *drop2_;
};

// x (B, N, D) + table[:N]. Parameter "weight" (max_len, dim), N(0, 0.02).
// Throws ConfigError when N > max_len, ShapeError when D != dim.
class LearnedPositions : public Module {
 public:
  LearnedPositions(int64_t max_len, int64_t dim, uint64_t init_key);
  Var forward(const Var& x) const;
  Var& weight() { return weight_; }

 private:
  int64_t max_len_, dim_;
  Var weight_;
};

// x (B, N, D) + fixed table[:N], no parameters (flax sinusoidal_init, base 10000):
//   table[p, 2i]   = sin(p * 10000^(-2i / dim))
//   table[p, 2i+1] = cos(p * 10000^(-2i / dim))
// With grid_side = S > 0 the last S*S rows are a row-major S x S image (2D sinusoids: the
// first dim/2 channels encode the pixel's row, the others its column, each as above) and the
// max_len - S*S leading rows (a CLS token) are zero.
// Throws ConfigError when N > max_len, ShapeError when D != dim.
class SinusoidalPositions : public Module {
 public:
  SinusoidalPositions(int64_t max_len, int64_t dim, int64_t grid_side = 0);
  Var forward(const Var& x) const;
  const Tensor& table() const { return table_; }  // (max_len, dim)

 private:
  int64_t max_len_, dim_;
  Tensor table_;
};

// Pre-LN transformer block around any token mixer:
//   x = x + Dropout(mixer(LN1(x), lengths));  x = x + MLP(LN2(x)).
// Children "ln1", "mixer", "ln2", "mlp" and the parameter-free "dropout".
class EncoderBlock : public Module {
 public:
  EncoderBlock(int64_t dim, int64_t mlp_dim, float dropout, std::unique_ptr<TokenMixer> mixer,
               uint64_t init_key);
  // x (B, N, D), lengths i32 (B) -> (B, N, D).
  Var forward(const Var& x, const Tensor& lengths, const ForwardContext& ctx) const;
  // The two residual branches: F(h) = Dropout(mixer(LN1(h), lengths)), G(h) = MLP(LN2(h)).
  Var attend(const Var& h, const Tensor& lengths, const ForwardContext& ctx) const;
  Var feed_forward(const Var& h, const ForwardContext& ctx) const;
  TokenMixer& mixer() { return *mixer_; }
  LayerNorm& ln1() { return *ln1_; }
  LayerNorm& ln2() { return *ln2_; }
  MLP& mlp() { return *mlp_; }

 private:
  LayerNorm* ln1_;
  TokenMixer* mixer_;
  Dropout* drop_;
  LayerNorm* ln2_;
  MLP* mlp_;
};

// Builds the token mixer of layer `layer` (0-based).
using MixerFactory = std::function<std::unique_ptr<TokenMixer>(int layer)>;

// `layers` EncoderBlocks then a final LayerNorm. Children "blocks.0", "blocks.1", ... and "ln".
class Encoder : public Module {
 public:
  Encoder(int64_t dim, int64_t mlp_dim, int layers, float dropout, const MixerFactory& make_mixer,
          uint64_t init_key);
  Var forward(const Var& x, const Tensor& lengths, const ForwardContext& ctx) const;
  int num_layers() const { return int(blocks_.size()); }
  EncoderBlock& block(int i);  // throws ConfigError when i is out of range
  LayerNorm& final_norm() { return *ln_; }

 private:
  std::vector<EncoderBlock*> blocks_;
  LayerNorm* ln_;
};

// Position table of the classifier: learned 1D, fixed 1D sinusoids, or fixed 2D sinusoids over
// a square image (pixel tasks).
enum class Positions { Learned, Sinusoidal, Sinusoidal2D };
// "learned", "sinusoidal" or "sinusoidal2d" (case-insensitive); else ConfigError listing them.
Positions parse_positions(const std::string& name);
const char* positions_name(Positions p);

// ---- pooling and head --------------------------------------------------------------------
enum class Pooling { Cls, Mean };
// "cls" or "mean" (case-insensitive); anything else throws ConfigError listing both.
Pooling parse_pooling(const std::string& name);
const char* pooling_name(Pooling p);  // "cls", "mean"

// x (B, N, D) -> (B, D). Cls: row 0 of each sequence. Mean: mean over the valid positions
// [0, lengths[b]) (masked_mean; LRA's reference averages over the padding too, a quirk).
Var pool(const Var& x, const Tensor& lengths, Pooling p);

// Dense(in -> hidden) -> ReLU -> Dense(hidden -> classes). Children "fc1", "fc2".
class ClassifierHead : public Module {
 public:
  ClassifierHead(int64_t in, int64_t hidden, int64_t classes, uint64_t init_key);
  Var forward(const Var& pooled) const;  // (B, in) -> logits (B, classes)
  Linear& fc1() { return *fc1_; }
  Linear& fc2() { return *fc2_; }

 private:
  Linear *fc1_, *fc2_;
};

}  // namespace lra::nn
