// Pathfinder generator: snakes of paddles with two circular markers (docs/lra.md section 6), our
// own implementation of the idea of drewlinsley/pathfinder (snakes2.py), written from its
// description. Writes the release layout that pathfinder.hpp reads.
//
// One image (all lengths in output pixels):
//   1. label ~ Bernoulli(0.5); a paddle margin is drawn from the size's margin list.
//   2. Two target snakes of contour_length paddles. Their origin tips are seed_distance apart
//      (the first one at least 2*seed_distance from the borders, as upstream). A paddle is a
//      segment of paddle_length and thickness paddle_thickness; the next one starts a gap
//      further on, turned by delta with weight cos^2(min(continuity*|delta|, pi/2)) over 24
//      jittered candidate angles (so continuity 1.8 allows turns < 50 degrees, 1.0 < 90).
//      A paddle is refused when it leaves the image (minus `padding`), comes near another
//      snake or touches its own older paddles. The targets grow one after the other; a stuck
//      one takes back its last paddle and regrows it (at most 40 times), else the layout is
//      redrawn.
//   3. Markers: discs of marker_radius at an origin tip and a terminal tip, both of the same
//      target snake (label 1) or one of each (label 0).
//      Note [Pathfinder distance cue]: upstream marks the origin tip of snake o and the
//      terminal tip of o or of the other snake, whose origin is seed_distance away; so the
//      label-0 pair is on average farther apart and the marker distance alone beats chance
//      (54.5% at 32x32 before this rule). Here the two pairs are chosen together, without
//      looking at the label, among four choices (snake s; label 0 partner: origin of s with
//      the other's terminal tip, or the other's origin with the terminal tip of s) whose two
//      distances differ by at most max_cue_gap and whose discs lie wholly inside the image;
//      when none fits, the last 4 paddles of target 1 are regrown (at most 16 times, then
//      the layout is redrawn). The label then picks
//      the pair, so the distance of the shown pair differs by <= max_cue_gap between labels.
//   4. num_distractors snakes of up to distractor_length paddles at random free places
//      (shorter ones are kept when they get stuck, as upstream).
//   5. Antialiasing: everything is rasterised at `scale`x (a render pixel is lit when its
//      centre is inside the paddle or disc, or when it holds a paddle's end point),
//      composited by max (paddles at `contrast`, markers at 1.0), and each output pixel is the
//      scale x scale box average, rounded to 0..255. (Upstream used a Lanczos resize; a box
//      filter keeps the background exactly 0.)
//
// Two styles (PathfinderStyle):
//   release   as the release draws them: the ink of consecutive paddles is `margin` apart
//             (the centre line gap is margin + thickness), so contours are dashes with black
//             gaps; rendered at 4x (17 coverage levels, graded grey edges); other snakes are
//             kept max(1, ceil(margin)) pixels away. The label holds by construction (which
//             target snake each marker sits on); tests check it by geometry.
//   connected an easier setting (the generator before issue 17): 2x rendering, and the
//             pixels of consecutive paddles always touch, so a flood fill follows a contour;
//             Note [Pathfinder connectivity] holds and is verified on every image.
//
// Note [Pathfinder connectivity] (connected style): call two lit pixels (value > 0) linked
// when their Chebyshev distance is <= `link` (1 = ordinary 8-connectivity; 2 at 128x128
// bridges the 1-pixel gaps of a dashed contour). The generator guarantees, and verifies on
// every image it returns:
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

#include "lra/lra/data/gray_image.hpp"

namespace lra::data {

enum class PathfinderStyle { Release, Connected };

// "release" / "connected"; ConfigError naming the choices for anything else.
PathfinderStyle pathfinder_style(const std::string& name);
const char* pathfinder_style_name(PathfinderStyle s);

struct PathfinderParams {
  PathfinderStyle style = PathfinderStyle::Release;
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
  double contrast = 1.0;   // paddle intensity (markers are 1.0)
  int padding = 1;         // border kept free of paddles (pixels)
  int link = 1;            // connected: Chebyshev step of Note [Pathfinder connectivity]
  int clearance = 1;       // release: Chebyshev pixels kept free between different snakes
  double max_cue_gap = 1;  // Note [Pathfinder distance cue] (pixels)
  std::string source;      // where the numbers come from
};

// LRA's parameter sets (the builder docstrings of lra_benchmarks/data/pathfinder.py) for
// size 32, 64 or 128 and contour length 6 (baseline), 9 or 14 (LRA's "hard", the default);
// distractor_length = contour_length / 3 and the distractor count as the upstream wrapper.
// ConfigError for other sizes or lengths.
PathfinderParams pathfinder_params(int64_t size, int contour_length = 14,
                                   PathfinderStyle style = PathfinderStyle::Release);

// The parameters as JSON text (for generator.json).
std::string pathfinder_params_json(const PathfinderParams& p);

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
  // marker distance the layout gives label 0 and label 1 (Note [Pathfinder distance cue]);
  // the image shows pair_distance[label]
  std::array<double, 2> pair_distance{};
  // paddles[snake] = {start, end} of each paddle of target snake 0 and 1, in growth order
  std::array<std::vector<std::array<PfPoint, 2>>, 2> paddles;
  std::array<int, 2> target_paddles{};  // paddles drawn per target (= contour_length)
  int distractors = 0;                  // distractor snakes drawn
  int distractor_paddles = 0;           // their paddles in total
  int attempts = 0;                     // layouts tried until one fitted
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
  PathfinderStyle style = PathfinderStyle::Release;
  int contour_length = 14;  // 3-14 (kMinContour..kMaxContour); the release has 6, 9 and 14
  int distractors = -1;     // distractor snakes per image (-1: the size's LRA count, 5 at 32)
  int64_t size = 32;
  int64_t count = 2000;  // images
  uint64_t seed = 1;
  int64_t per_batch = 1000;  // images per imgs/<batch>/ folder and metadata/<batch>.npy
};

// Writes <dir>/<pathfinder_difficulty_folder(contour_length)>/{imgs/<b>/sample_<i>.png,
// metadata/<b>.npy, generator.json (style, contour length, size, seed, count, params)},
// generating images in parallel; progress(done, total) is called from the calling thread after
// each batch. A batch's metadata file is written after its images. Throws IoError on write
// failures.
void write_pathfinder_dataset(const std::string& dir, const PathfinderGenConfig& cfg,
                              const std::function<void(size_t, size_t)>& progress = {});

}  // namespace lra::data
