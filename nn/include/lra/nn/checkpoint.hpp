// Checkpoints in the safetensors format (https://huggingface.co/docs/safetensors):
//
//   [8 bytes]  N, little-endian u64: length of the header
//   [N bytes]  JSON header, padded with spaces to a multiple of 8:
//              {"__metadata__": {"k": "v", ...},                      (optional, strings only)
//               "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...}
//   [rest]     raw little-endian row-major tensor data; offsets are relative to the start of
//              this region, which every tensor covers exactly (no gaps, no overlap, no tail)
//
// Writes are atomic: the file is written to path + ".tmp", fsynced, then renamed over path.
// Reads validate everything and throw CheckpointError naming the file and the tensor.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "lra/core/tensor.hpp"
#include "lra/nn/module.hpp"

namespace lra::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Names must be unique, non-empty and not "__metadata__". F32 and I32 tensors, any layout.
// Throws IoError when the file cannot be written (nothing is left at path in that case).
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Tensors in header order. Throws IoError when the file cannot be opened, CheckpointError
// when it is not a valid F32/I32 safetensors file.
NamedTensors load_safetensors(const std::string& path,
                              std::map<std::string, std::string>* metadata = nullptr);

// The module's parameters by dotted name (fresh copies: a snapshot, not a view).
NamedTensors module_state(const Module& m);

// Copies `state` into m's parameters (in place: optimisers keep their handles). Refuses with
// CheckpointError, naming `source` and listing each missing, unexpected, duplicated or
// mis-shaped/mis-typed tensor (expected vs found), and then loads nothing.
void load_module_state(Module& m, const NamedTensors& state, const std::string& source);

}  // namespace lra::nn
