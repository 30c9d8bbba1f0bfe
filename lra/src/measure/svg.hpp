// The one SVG writer (no dependencies): x/y line plots (a run's loss and accuracy, several runs
// on one plot, the benchmark's speed and memory against length), grouped bars, labelled bubbles,
// and a grid of coloured cells (attention pattern pictures, lra/measure/pattern.hpp).
//
//   lra::svg::Plot p{.title = "loss", .x_label = "step", .y_label = "cross-entropy"};
//   p.series.push_back({"train", {1, 2, 3}, {2.3, 2.1, 1.9}});
//   lra::write_file_atomic("loss.svg", lra::svg::render(p));
//
// Every chart draws its axes with one helper: linear axes get "nice" ticks (1, 2, 2.5, 5 x 10^k),
// log axes a labelled tick at every 1, 2, 5 x 10^k in range (every decade when the range spans
// many). Non-finite points (and points <= 0 on a log axis) are skipped; a series with one point
// is drawn as a dot. Labels (legends, names at line ends, bubble labels) are placed so that they
// stay inside the canvas and do not overlap one another.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lra::svg {

struct Series {
  std::string label;
  std::vector<double> x, y;
  std::string color;     // CSS colour; empty: the palette's next
  bool markers = false;  // draw a marker at every point
};

struct Plot {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  int width = 640, height = 400;  // the plot; a column for the legend or line names is added
  bool log_x = false, log_y = false;
  // Many series that may coincide (e.g. equal memory): each also gets its own dash pattern and
  // hollow marker shape, the first series is drawn on top, and each line is named at its last
  // point (names spread apart, with a leader line) instead of in a legend.
  bool styled = false;
  std::string caption{};  // a line of small text under the plot
};

std::string render(const Plot& plot);

// Tick values covering [lo, hi] (on a log axis lo > 0): see the banner.
std::vector<double> axis_ticks(double lo, double hi, bool log);
std::string tick_label(double v);  // 0.002, 0.5, 20, 1000, 2e+06

// ---- label placement -------------------------------------------------------------------------

struct Box {
  double x = 0, y = 0, w = 0, h = 0;  // top-left corner and size, pixels
  bool overlaps(const Box& o) const;
  bool inside(const Box& area) const;
};
double text_width(const std::string& text, double font_px = 12);  // an upper estimate, pixels

// A label of size w x h to put near the point (x, y), at least `gap` away (a marker's radius).
struct LabelSpot {
  double x = 0, y = 0, gap = 0, w = 0, h = 0;
};
// Boxes for the labels, in order: each inside `area` and overlapping no other, as close to its
// point as that allows (right of it first, then left, above, below, then further out). Labels
// that find no free place at all (more text than area) are stacked at the area's top left.
std::vector<Box> place_labels(const std::vector<LabelSpot>& spots, const Box& area);

// 1-D: positions near `want` at least `h` apart, inside [lo, hi] when they fit (line names at
// the right end of a chart).
std::vector<double> spread(const std::vector<double>& want, double h, double lo, double hi);

// ---- a grid of cells (attention pictures) ----------------------------------------------------

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

// ---- charts of the benchmark and span reports ------------------------------------------------

struct Line {
  std::string name;
  std::vector<double> x, y;  // y <= 0 or NaN: no point (a gap)
};
// A styled Plot (see Plot::styled) 560 px wide, markers at every point. log_y: log y axis.
std::string line_chart(const std::string& title, const std::string& x_label,
                       const std::string& y_label, const std::vector<Line>& series, bool log_y,
                       const std::string& caption = "");

// Grouped bars: groups (e.g. tasks) on x, one bar per series (e.g. model) in each group.
std::string bar_chart(const std::string& title, const std::string& y_label,
                      const std::vector<std::string>& groups,
                      const std::vector<std::string>& series_names,
                      const std::vector<std::vector<double>>& values /* [series][group] */);

// Labelled bubbles on a log x and a linear y axis; area in [0, 1] scales the marker. The
// caption (what the area means, what the accuracy averages) is written under the plot.
struct Bubble {
  double x = 0, y = 0, area = 0;
  std::string label;
};
std::string bubble_chart(const std::string& title, const std::string& x_label,
                         const std::string& y_label, const std::string& caption,
                         const std::vector<Bubble>& bubbles);

}  // namespace lra::svg
