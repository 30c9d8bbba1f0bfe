// Module: a node of the model tree with named parameters and named children.
//
// Names are stable dotted paths ("encoder.blocks.0.mixer.wq") used by checkpoints.
// Children are owned by their parent (unique_ptr); parameters are leaf Vars.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lra/autograd/var.hpp"

namespace lra::nn {

// What a forward pass needs besides its inputs: train/eval, and the key material for every
// random draw (dropout masks, random features), so draws depend only on (seed, step, site).
struct ForwardContext {
  bool training = false;
  uint64_t seed = 0;
  uint64_t step = 0;
  // Optional key mask, i32 (B, N): key j of batch entry b gets no attention weight where it is
  // 0 (mask_zero_tokens: the token id is 0). Undefined: every key below the length is visible.
  Tensor key_mask = Tensor();
  // A piece of a larger batch (micro-batch or rank shard): its rows are rows row0 .. row0 +
  // rows of the whole batch, and per-example draws continue the whole batch's counters, so a
  // piece's dropout masks are the ones its examples get in the whole batch. rows = 0: whole.
  int64_t row0 = 0, rows = 0;
  // Key for one random site: mixes seed, step and the calling module's path.
  uint64_t key(const std::string& site) const;
  // First counter of a batch-major tensor of `numel` elements (B = rows leading): row0 x the
  // elements per row.
  uint64_t counter0(int64_t numel) const {
    return rows > 0 ? uint64_t(row0) * uint64_t(numel / rows) : 0;
  }
};

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // All parameters below this module, depth first, with dotted names.
  std::vector<std::pair<std::string, Var>> named_parameters() const;
  std::vector<Var> parameters() const;
  int64_t num_parameters() const;
  void zero_grad();

  // Tensors below this module that are state but not trained (the Performer's random
  // features), in the order and with the names of named_parameters(); for inspection and tests.
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;

  // The dotted path of this module from the root ("" for the root); set by register_module.
  const std::string& path() const { return path_; }

 protected:
  // This module's own buffers (not its children's); a module that keeps any overrides it.
  virtual std::vector<std::pair<std::string, Tensor>> own_buffers() const { return {}; }
  Var& register_parameter(const std::string& name, Tensor init);
  template <typename M>
  M* register_module(const std::string& name, std::unique_ptr<M> m) {
    M* raw = m.get();
    adopt(name, std::move(m));
    return raw;
  }

 private:
  void adopt(const std::string& name, std::unique_ptr<Module> m);
  void set_path(const std::string& path);
  std::string path_;
  std::vector<std::pair<std::string, Var>> params_;
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
};

}  // namespace lra::nn
