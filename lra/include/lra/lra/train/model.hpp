// LraModel: the LRA classifier around any attention mechanism.
//
//   tokens (B, N) --[CLS id prepended when pooling = CLS]--> embedding (B, N', D)
//   + positions (learned, sinusoidal, or 2D sinusoidal over a square image) -> dropout
//   -> L pre-LN encoder blocks (mixer = the chosen mechanism) -> final LayerNorm
//      (reversible: L RevNet coupling layers on two streams, their mean, final LayerNorm;
//      activations recomputed in backward, lra/nn/reversible.hpp)
//   -> pool (CLS row or mean over valid positions) -> head -> logits (B, classes)
//
// Dual (retrieval): both documents go through the same encoder (shared weights, no
// cross-attention); the head sees [e1, e2] (LRA's default interaction), as in docs/lra.md
// section 2.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "lra/attention/registry.hpp"
#include "lra/lra/data/dataset.hpp"
#include "lra/nn/layers.hpp"
#include "lra/nn/reversible.hpp"

namespace lra {

struct ModelConfig {
  std::string task;  // the LRA task whose tokens and classes it reads ("": not recorded)
  std::string mechanism = "transformer";
  std::map<std::string, std::string> mechanism_params;  // "block=64", ...
  int64_t vocab = 0;                                    // token ids in [0, vocab), 0 = padding
  int64_t max_len = 0;                                  // tokens per sequence, without CLS
  int64_t dim = 64;
  int64_t heads = 2;
  int64_t qkv_dim = 64;
  int64_t mlp_dim = 128;
  int layers = 2;
  float dropout = 0.1f;
  float attn_dropout = 0.1f;
  nn::Pooling pooling = nn::Pooling::Mean;
  nn::Positions positions = nn::Positions::Learned;  // sinusoidal2d: max_len a square
  // Hide keys whose token id is 0 from attention (the LRA reference's `inputs > 0` mask; for
  // images the black background). The CLS token is never hidden.
  bool mask_zero_tokens = false;
  int64_t classes = 2;
  bool dual = false;
  bool reversible = false;  // nn::ReversibleEncoder
  uint64_t seed = 0;

  bool uses_cls() const { return pooling == nn::Pooling::Cls; }
  int64_t cls_id() const { return vocab; }  // one extra embedding row
  int64_t encoder_len() const { return max_len + (uses_cls() ? 1 : 0); }
  // Image side S of positions=sinusoidal2d (floor(sqrt(max_len))); 0 for the 1D tables.
  int64_t position_grid_side() const;
  void validate() const;  // throws ConfigError naming the bad field
};

class LraModel : public nn::Module {
 public:
  explicit LraModel(const ModelConfig& cfg);

  // Logits (B, classes) for a padded batch.
  Var forward(const data::Batch& batch, const nn::ForwardContext& ctx);
  // Pooled representation (B, D) of one tower.
  Var encode(const Tensor& tokens, const Tensor& lengths, const nn::ForwardContext& ctx);
  // Embedded encoder input (B, N', D) and its lengths (CLS included): for inspection tools.
  Var embed(const Tensor& tokens, const Tensor& lengths, Tensor* lengths_out,
            const nn::ForwardContext& ctx);

  const ModelConfig& config() const { return cfg_; }
  // The standard encoder; ConfigError for a reversible model (see reversible_encoder()).
  nn::Encoder& encoder();
  nn::ReversibleEncoder& reversible_encoder();  // ConfigError for a standard model
  attn::MultiHeadAttention& attention(int layer);

 private:
  ModelConfig cfg_;
  nn::Embedding* embedding_;
  nn::LearnedPositions* learned_pos_ = nullptr;
  nn::SinusoidalPositions* fixed_pos_ = nullptr;
  nn::Dropout* embed_dropout_;
  nn::Encoder* encoder_ = nullptr;
  nn::ReversibleEncoder* rev_encoder_ = nullptr;
  nn::Linear *head1_, *head2_, *head3_ = nullptr;
};

}  // namespace lra
