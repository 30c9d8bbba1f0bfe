// Attention pattern pictures: the dense face of one head of one mechanism, drawn as an N x N
// heatmap (query rows, key columns), "the picture of what each mechanism sees".
//
//   pattern::Options o;
//   o.model = "local";
//   o.len = 256;
//   pattern::Pattern p = pattern::compute(o);  // a fresh model keyed by o.seed
//   pattern::write(p, "local.png");             // or .svg; atomic
//
// Input: a freshly initialised LraModel (D = 64, 2 heads, byte vocabulary, learned positions,
// mean pooling, o.layer + 1 layers, no dropout) reads N tokens: uniform random bytes keyed by
// o.seed, or the bytes of o.text + 1 (ids 1..256; positions past the text are padding). Or,
// with o.run, the trained model of a run folder (lra/run.hpp: its settings, o.checkpoint)
// reads example o.sample of its o.split split, unpadded (the first document for Retrieval).
// The picture is the dense face of layer o.layer, head o.head, on that layer's real input
// (span::visit_layer_weights, the code the span metric uses).
//
// Order: rows and columns are positions in order, or with o.order = "buckets" the mechanism's
// display order (Reformer: its first round's LSH sort, so its chunks become diagonal blocks).
// Labels: the token at each drawn position where the input is text (--text, ListOps, Text,
// Retrieval; "<cls>" for a CLS token), drawn along both axes of the SVG.
//
// Colour: log10 |w| over kDecades decades below the largest |w| of the picture (smaller weights
// get the lightest colour, never white): white = exactly 0, blues = positive (darker = larger),
// reds = negative (Linformer's W = P F can be).
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lra::pattern {

constexpr int64_t kMaxLen = 2048;      // the dense face holds N x N floats per head
constexpr int64_t kMaxSvgRuns = 2000;  // SVG: <rect>s up to this many runs, else embedded PNG
constexpr int kDecades = 3;            // colour range below the largest |weight|
constexpr int kLevels = 8;             // colours per sign

struct Options {
  std::string model = "transformer";
  int64_t len = 256;
  uint64_t seed = 0;
  int64_t head = 0;
  int layer = 0;
  std::string text;                           // empty: random bytes
  std::map<std::string, std::string> params;  // --attn, applied over picture_defaults
  std::string order = "positions";            // or "buckets": the mechanism's display order
  // A trained model instead of a fresh one (model, len, seed, text and params come from it):
  std::string run;                  // run folder written by `lra_cpu train`
  std::string checkpoint = "best";  // best or last
  std::string split = "val";        // val or test
  int64_t sample = 0;               // example index in that split
  std::string data;                 // data folder override (empty: the run's own)
};

// Small-N-friendly hyper-parameters that keep each mechanism's structure visible at length
// `len` (LRA's defaults, e.g. longformer window=512, would fill a 256 x 256 picture):
//   local, sparse, sinkhorn: block = N/8;  sparse: summary = N/32;
//   longformer: window = N/8;  bigbird: block = N/16;  performer: dense=features (the
//   normalised phi(Q) phi(K)^T its fast path computes, not exact softmax);  others: none.
std::map<std::string, std::string> picture_defaults(const std::string& model, int64_t len);

struct Pattern {
  std::string model;
  std::string title;                // mechanism, N, head, layer, input, hyper-parameters
  int64_t n = 0;                    // side of the square
  std::vector<float> weights;       // n * n in drawn order: row s = what position order[s] gives
  std::vector<int32_t> order;       // n: the position drawn s-th (identity unless --order buckets)
  std::vector<std::string> labels;  // n in drawn order: the token there; empty: no labels
  float at(int64_t i, int64_t j) const { return weights[size_t(i * n + j)]; }
};

// Throws ConfigError naming the problem: unknown model (listing the valid ones), len outside
// 1..kMaxLen, head or layer out of range, text longer than len, bad or unknown --attn item,
// unknown order or a mechanism without a bucket order, a sample outside the split; with a run
// folder also CheckpointError / DataError naming the missing or bad file.
Pattern compute(const Options& opt);

// Palette index of weight w in a picture whose largest |weight| is `peak`: 0 = white (w == 0),
// 1..kLevels blues (w > 0, darker = larger), kLevels+1..2*kLevels reds (w < 0).
int colour_index(float w, float peak);
const std::vector<std::array<uint8_t, 3>>& palette();  // 2 * kLevels + 1 colours
std::string caption();                                 // the colour scale in words

int default_scale(int64_t n);  // PNG pixels per cell: max(1, 512 / n), at most 16
// PNG: n*scale x n*scale indexed colour, title and caption in tEXt chunks (scale 0: default).
std::vector<uint8_t> png(const Pattern& p, int scale = 0);
// SVG: title, heatmap, colour ramps, caption. The heatmap is one <rect> per horizontal run of
// equal colour when there are at most kMaxSvgRuns coloured runs (sparse patterns), else the
// png(p, 1) picture as a data: URI, so a dense N = 2048 face stays a few MB at most.
std::string svg(const Pattern& p);

// Checks before any work that `path` ends in .png or .svg; ConfigError otherwise.
void check_output(const std::string& path);
// Writes png() or svg() by extension, atomically (write_file_atomic).
void write(const Pattern& p, const std::string& path, int scale = 0);

}  // namespace lra::pattern
