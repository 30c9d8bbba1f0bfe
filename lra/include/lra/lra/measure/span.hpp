// Required attention span (LRA paper section 2.3, Figure 2; docs/lra.md section 9).
//
// For one attention module (a layer's head) and one input, with weights a_ij (the mechanism's
// dense face: what query i gives key j) and valid positions i, j < len:
//   span = mean over valid queries i of  sum_j a_ij |i - j|
// The metric of a trained model averages this over every layer and head (the "attention
// modules") and then over validation samples (1000 random ones in the paper).
//
// Worked example: N = 3, one head, weights rows [1 0 0], [0.5 0.5 0], [0 0 1]
//   row 0: 0,  row 1: 0.5·1 + 0.5·0 = 0.5,  row 2: 0  ->  span = (0 + 0.5 + 0) / 3 = 1/6.
//
// Positions are encoder positions (a CLS token, when pooling = cls, is position 0). Weights are
// used as the dense face gives them: for Linformer (W = P F̃) they can be negative and need not
// sum to 1; its span is then the same weighted sum, not a mean distance.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lra/core/tensor.hpp"
#include "lra/lra/train/model.hpp"

namespace lra::span {

// Per (b, h): the mean over valid queries of sum_j w_ij |i - j| for weights (B, H, N, N) and
// lengths i32 (B) (undefined: every position valid). Result f32 (B, H); a batch entry with
// length 0 gives 0.
Tensor attention_span(const Tensor& weights, const Tensor& lengths = {});

// Calls visit(layer, weights, encoder_lengths, order) for every layer in order: weights is the
// dense face (B, H, N', N') of that layer's attention on its real input (eval mode, no dropout)
// for one (single-tower) batch of tokens; encoder_lengths i32 (B) counts CLS; order is the
// mechanism's display order (MultiHeadAttention::display_order, undefined: position order).
// One layer's weights are alive at a time. Read by the span metric and the pattern pictures
// (pattern.hpp).
using LayerVisitor = std::function<void(int layer, const Tensor& weights,
                                        const Tensor& encoder_lengths, const Tensor& order)>;
void visit_layer_weights(LraModel& model, const Tensor& tokens, const Tensor& lengths,
                         const LayerVisitor& visit);

// Spans of every layer and head of `model` on one (single-tower) batch of tokens, from
// visit_layer_weights. Result f32 (layers, B, H).
Tensor model_spans(LraModel& model, const Tensor& tokens, const Tensor& lengths);

struct Options {
  int64_t samples = 1000;           // validation examples (all of them when fewer)
  std::string split = "val";        // val or test
  std::string checkpoint = "best";  // best or last (<run>/<name>.safetensors)
  std::string data;                 // data folder override (empty: the run's own)
  uint64_t seed = 0;                // which examples are drawn
  int threads = 0;
  std::function<void(int64_t done, int64_t total)> progress;
};

struct Result {
  std::string run_dir, task, model;
  int64_t max_len = 0;                        // encoder length of the model
  int64_t samples = 0;                        // sequences measured (two per example for dual tasks)
  double mean_length = 0.0;                   // mean valid length of those sequences
  double span = 0.0;                          // mean over samples of the mean over layers and heads
  std::vector<double> per_layer;              // mean over samples and heads
  std::vector<std::vector<double>> per_head;  // [layer][head], mean over samples
};

// Loads the run folder (lra/run.hpp: settings and data folder from config.json, weights from
// <checkpoint>.safetensors, checked) and measures on the run's data or opt.data.
// Throws ConfigError / DataError / CheckpointError naming what is missing.
Result measure_run(const std::string& run_dir, const Options& opt);

// Table (Markdown) and Figure 2-style bar chart (SVG: tasks on x, one bar per model).
std::string markdown(const std::vector<Result>& results);
std::string json(const Result& r);
std::string svg(const std::vector<Result>& results);

}  // namespace lra::span
