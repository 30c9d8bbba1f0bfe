// The embedding API: the few calls a program that embeds the engine needs, on top of the layer
// headers (which stay public for everything else). Include it through <lra/lra.hpp>.
//
//   lra::api::ModelSpec spec;  // task "listops", preset "tiny", mechanism "transformer"
//   spec.mechanism = "performer";
//   std::unique_ptr<lra::LraModel> model = lra::api::make_model(spec);
//   lra::api::save_checkpoint(*model, "model.safetensors");
//   std::unique_ptr<lra::LraModel> loaded = lra::api::load_model("model.safetensors", "listops");
//   lra::api::Prediction p =
//       lra::api::predict(*loaded, {lra::api::tokenize("listops", "[MAX 2 9 [MIN 4 7 ] 0 ]")});
//   // p.labels[i]: the class of sequence i, p.names[i] its name; p.logits: f32 (1, classes)
//
// Errors: every function throws a subclass of lra::Error (lra/core/error.hpp) whose message
// names what is wrong: ConfigError (unknown task, preset, mechanism or setting), DataError (a
// token id outside the vocabulary, an empty sequence), CheckpointError (a file that is not a
// checkpoint of this model), IoError (a file that cannot be read or written), ShapeError. No
// function of the library exits or aborts on bad input.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lra/core/tensor.hpp"
#include "lra/lra/tasks/settings.hpp"
#include "lra/lra/train/engine_info.hpp"
#include "lra/lra/train/model.hpp"

namespace lra::api {

// ---- tensors and user memory -------------------------------------------------------------
// In: Tensor::from(span, shape) copies user memory into a new tensor (tensor.hpp).
// Out: copy a tensor (any layout) into user memory, row-major. ShapeError when out.size()
// differs from t.numel(); the f32 overload converts i32 tensors, the i32 one takes i32 only.
void copy_to(const Tensor& t, std::span<float> out);
void copy_to(const Tensor& t, std::span<int32_t> out);

// A sequence of token ids of the task's vocabulary, 0 <= id < vocab, as the task's readers
// produce them (tokenize below); no padding needed.
using Sequence = std::vector<int32_t>;

// ---- models from a task preset -----------------------------------------------------------
// What to build: an LRA task's model shape (vocabulary, length, classes) and one of its
// presets (`lra_cpu tasks`), with any attention mechanism (`lra_cpu models`) and overrides.
struct ModelSpec {
  std::string task = "listops";
  std::string preset = "tiny";  // "paper", "cpu" or "tiny"
  std::string mechanism = "transformer";
  std::string mechanism_params;  // "block=64,features=128" (empty: the defaults)
  std::vector<std::pair<std::string, std::string>> settings;  // run settings over the preset,
                                                              // e.g. {{"max_len", "500"}}
  uint64_t seed = 1;                                          // initialisation
};

// The resolved run settings: schema defaults < the task preset < spec (sources recorded).
Settings resolve_settings(const ModelSpec& spec);
ModelConfig model_config(const ModelSpec& spec);
// A freshly initialised model (parameters drawn from spec.seed).
std::unique_ptr<LraModel> make_model(const ModelSpec& spec);

// ---- checkpoints (safetensors, lra/nn/checkpoint.hpp) ------------------------------------
// Writes every parameter by dotted name, plus the whole ModelConfig (seed and task included) as
// "lra.model.*" metadata. Atomic (temp file + rename).
void save_checkpoint(const LraModel& model, const std::string& path);
// Loads parameters into `model`, which must be built with the same configuration and seed
// (some mechanisms draw fixed random non-parameters from the seed, e.g. the Performer's
// features). Refuses with CheckpointError, and then loads nothing, when the metadata names
// another task, mechanism, mechanism parameters, pooling, positions or seed, or when a tensor is
// missing, unexpected or mis-shaped (each one listed); IoError when the file cannot be read.
void load_checkpoint(LraModel& model, const std::string& path);
// Rebuilds a saved model and loads its weights: all a program needs to run inference on it.
// `path` is a file written by save_checkpoint (the model from its metadata), or the run folder
// of `lra_cpu train` (the model from config.json, the best-validation weights best.safetensors;
// run.hpp). CheckpointError when the metadata is missing or describes a model this build
// cannot make; ConfigError for a folder that is not a run folder.
// With `task` given, the checkpoint must be a model of that task (its tokens and classes):
// CheckpointError naming both tasks otherwise. A checkpoint saved before checkpoints recorded
// their task loads with a note on stderr, checked against `task` by vocabulary and classes.
std::unique_ptr<LraModel> load_model(const std::string& path, const std::string& task = "");

// ---- a task's tokens and classes ---------------------------------------------------------
// `text` as the task's token ids, as its readers produce them:
//   listops                    a ListOps expression, "[MAX 2 9 [MIN 4 7 ] 0 ]" (one token per
//                              symbol; DataError naming an unknown one)
//   text, retrieval            bytes: id = byte + 1 (a retrieval pair is two calls, one per
//                              document)
//   image, pathfinder, ...     the gray pixels row by row, one byte (0..255) each: id = value;
//                              exactly side x side bytes (DataError otherwise)
// ConfigError for an unknown task. No cut: predict cuts to the model's max_len.
Sequence tokenize(const std::string& task, std::string_view text);
// The names of a task's classes, index = label: listops "0".."9", text negative/positive,
// retrieval unrelated/linked, image the CIFAR-10 classes, pathfinder disconnected/connected.
const std::vector<std::string>& class_names(const std::string& task);

// ---- inference on token ids --------------------------------------------------------------

struct Prediction {
  Tensor logits;                   // f32 (sequences, classes)
  std::vector<int32_t> labels;     // argmax of each row (first maximum)
  std::vector<std::string> names;  // class_names(task) of each label (empty: no task recorded)
};

// Classifies `sequences` in batches of `batch_size`, without gradients or dropout. Sequences
// longer than the model's max_len are cut to it, as training and evaluation do. Dual-tower
// models (retrieval) take the second document of each pair in `second` (same count).
// DataError naming the sequence and position for an id outside [0, vocab) or an empty
// sequence; ConfigError for a missing or unexpected `second`.
Prediction predict(LraModel& model, const std::vector<Sequence>& sequences,
                   const std::vector<Sequence>& second = {}, int64_t batch_size = 32);

}  // namespace lra::api
