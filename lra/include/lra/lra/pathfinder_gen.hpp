// Pathfinder generator: snakes of paddles with two circular markers (docs/lra.md section 6), our
// own implementation of the idea of drewlinsley/pathfinder (snakes2.py), written from its
// description. Writes the release layout that pathfinder.hpp reads.
//
// One image (all lengths in output pixels):
//   1. label ~ Bernoulli(0.5); a paddle margin is drawn from the size's margin list.
//   2. Two target snakes of contour_length paddles. Their origin tips are seed_distance apart
//      (the first one at least 2*seed_distance from the borders, as upstream). A paddle is a
//      segment of paddle_length and thickness paddle_thickness; the next one starts `margin`
//      further on, turned by delta with weight cos^2(min(continuity*|delta|, pi/2)) over 24
//      jittered candidate angles (so continuity 1.8 allows turns < 50 degrees, 1.0 < 90).
//      A paddle is refused when it leaves the image (minus `padding`), comes near another
//      snake or touches its own older paddles. The targets grow one after the other; a stuck
//      one takes back its last paddle and regrows it (at most 40 times), else the layout is
//      redrawn.
//   3. Markers: discs of marker_radius at the origin tip of target snake o (o random) and at
//      the terminal tip of the same snake (label 1) or of the other one (label 0).
//   4. num_distractors snakes of up to distractor_length paddles at random free places
//      (shorter ones are kept when they get stuck, as upstream).
//   5. Antialiasing: everything is rasterised at 2x (a render pixel is lit when its centre is
//      inside the paddle or disc, or when it holds a paddle's end point), composited by max
//      (paddles at `contrast`, markers at 1.0), and each output pixel is the 2x2 box average,
//      rounded to 0..255. (Upstream used a Lanczos resize; a box filter keeps the background
//      exactly 0, which the rule below needs.)
//
// Note [Pathfinder connectivity]: "connected" is checked on the rendered 8-bit pixels.
// Call two lit pixels (value > 0) linked when their Chebyshev distance is <= `link` (1 =
// ordinary 8-connectivity; 2 at 128x128 bridges the 1-pixel gaps of a dashed contour). The
// generator guarantees, and verifies on every image it returns:
//   - consecutive paddles of a snake, and a marker and its tip, are linked;
//   - pixels of different snakes are never linked (a clearance of link + 1 is kept);
// so a flood fill from one marker over linked lit pixels reaches the other marker iff
// label == 1. An image failing the check is redrawn (a new attempt), never returned.
//
// Determinism: image i of a data set uses key pathfinder_image_key(seed, size, i) and nothing
// else, so the files are the same for any thread count and any batch size.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lra/lra/png.hpp"

namespace lra::data {

struct PathfinderParams {
  int64_t size = 32;               // image side (pixels)
  int scale = 2;                   // antialias supersampling factor
  double paddle_length = 2;        // pixels
  double paddle_thickness = 0.5;   // pixels (rendered at least one render pixel wide)
  std::vector<double> margins{1};  // gap between paddles; one is drawn per image
  double marker_radius = 1.5;
  double seed_distance = 7;  // between the origin tips of the two targets
  double continuity = 1.0;
  int contour_length = 14;    // paddles per target snake
  int distractor_length = 4;  // paddles per distractor snake (at most)
  int num_distractors = 5;
  double contrast = 1.0;  // paddle intensity (markers are 1.0)
  int padding = 1;        // border kept free of paddles (pixels)
  int link = 1;           // Chebyshev step of Note [Pathfinder connectivity]
  std::string source;     // where the numbers come from
};

// LRA's parameter sets (the builder docstrings of lra_benchmarks/data/pathfinder.py) for
// size 32, 64 or 128; ConfigError for other sizes.
PathfinderParams pathfinder_params(int64_t size);

struct PfPoint {
  double x = 0, y = 0;  // pixels; pixel (i, j) covers [i, i+1) x [j, j+1)
};

struct PathfinderSample {
  GrayImage image;
  int32_t label = 0;                             // 1: both markers on the same target snake
  double margin = 0;                             // paddle margin drawn for this image
  int origin = 0;                                // the target snake carrying markers[0]
  std::array<std::array<PfPoint, 2>, 2> tips{};  // tips[snake] = {origin tip, terminal tip}
  std::array<PfPoint, 2> markers{};              // marker centres
  std::array<int, 2> target_paddles{};           // paddles drawn per target (= contour_length)
  int distractors = 0;                           // distractor snakes drawn
  int distractor_paddles = 0;                    // their paddles in total
  int attempts = 0;                              // layouts tried until one fitted
};

// The key of image `index` of a data set.
uint64_t pathfinder_image_key(uint64_t seed, int64_t size, int64_t index);

// One image from a key. Throws lra::Error if no layout fits in 1000 attempts (does not happen
// with the built-in parameter sets).
PathfinderSample render_pathfinder(const PathfinderParams& p, uint64_t key);

// Flood fill of Note [Pathfinder connectivity]: is lit pixel b reachable from lit pixel a?
bool pathfinder_connected(const GrayImage& img, int64_t ax, int64_t ay, int64_t bx, int64_t by,
                          int link);

struct PathfinderGenConfig {
  int64_t size = 32;
  int64_t count = 2000;  // images
  uint64_t seed = 1;
  int64_t per_batch = 1000;  // images per imgs/<batch>/ folder and metadata/<batch>.npy
};

// Writes <dir>/curv_contour_length_14/{imgs/<b>/sample_<i>.png, metadata/<b>.npy}, generating
// images in parallel; progress(done, total) is called from the calling thread after each batch.
// A batch's metadata file is written after its images. Throws IoError on write failures.
void write_pathfinder_dataset(const std::string& dir, const PathfinderGenConfig& cfg,
                              const std::function<void(size_t, size_t)>& progress = {});

}  // namespace lra::data
