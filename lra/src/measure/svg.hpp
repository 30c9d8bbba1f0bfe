// The one SVG writer (no dependencies): loss and accuracy curves of a run folder,
// and any other x/y series (time or memory against sequence length in benchmarks); and a grid
// of coloured cells (a heatmap: attention pattern pictures, lra/measure/pattern.hpp).
//
//   lra::svg::Plot p{.title = "loss", .x_label = "step", .y_label = "cross-entropy"};
//   p.series.push_back({"train", {1, 2, 3}, {2.3, 2.1, 1.9}});
//   lra::write_file_atomic("loss.svg", lra::svg::render(p));
//
// Axes get "nice" ticks (1, 2, 5 x 10^k); non-finite points are skipped; a series with one
// point is drawn as a dot. Colours cycle through a fixed palette unless a series sets one.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lra::svg {

struct Series {
  std::string label;
  std::vector<double> x, y;
  std::string color;     // CSS colour; empty: the palette's next
  bool markers = false;  // draw a dot at every point
};

struct Plot {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  int width = 640, height = 400;
  bool log_x = false, log_y = false;  // log10 axes (points <= 0 are skipped)
};

std::string render(const Plot& plot);

// A colour ramp under a grid: swatches from `low` to `high` (labels at the two ends).
struct Ramp {
  std::vector<std::string> colors;
  std::string low, high;
};

// A grid of coloured cells, drawn as one <rect> per horizontal run of equal colour (cells with
// an empty colour show the white background), or as one embedded image, with the title above
// and ramps and the caption below. The size grows with the number of runs: for many, pass an
// image instead (pattern.cpp switches above pattern::kMaxSvgRuns).
struct Grid {
  std::string title, caption, x_label, y_label;
  int64_t rows = 0, cols = 0;
  std::vector<std::string> colors;  // rows * cols CSS colours, row-major; "" = background
  double cell = 2.0;                // pixels per cell side
  std::string image;                // if set: this image URI (e.g. a data: PNG, one pixel per
                                    // cell) is drawn pixelated in place of the cells
  std::vector<Ramp> ramps;
  std::vector<std::string> labels;  // square grids: one per row (left) and column (top); or none
};

std::string render(const Grid& grid);

// ---- charts of the benchmark and span reports (760 px wide, legend on the right) ----------

struct Line {
  std::string name;
  std::vector<double> x, y;  // y <= 0 or NaN: no point (a gap)
};
// A line chart with markers, axes, ticks and a legend. log_y: logarithmic y axis.
std::string line_chart(const std::string& title, const std::string& x_label,
                       const std::string& y_label, const std::vector<Line>& series, bool log_y);

// Grouped bars: groups (e.g. tasks) on x, one bar per series (e.g. model) in each group.
std::string bar_chart(const std::string& title, const std::string& y_label,
                      const std::vector<std::string>& groups,
                      const std::vector<std::string>& series_names,
                      const std::vector<std::vector<double>>& values /* [series][group] */);

// Labelled bubbles on a log x and a linear y axis; area in [0, 1] scales the marker.
struct Bubble {
  double x = 0, y = 0, area = 0;
  std::string label;
};
std::string bubble_chart(const std::string& title, const std::string& x_label,
                         const std::string& y_label, const std::string& note,
                         const std::vector<Bubble>& bubbles);

}  // namespace lra::svg
