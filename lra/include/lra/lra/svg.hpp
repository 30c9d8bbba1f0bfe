// A small SVG line-plot writer (no dependencies): loss and accuracy curves of a run folder,
// and any other x/y series (time or memory against sequence length in benchmarks).
//
//   lra::svg::Plot p{.title = "loss", .x_label = "step", .y_label = "cross-entropy"};
//   p.series.push_back({"train", {1, 2, 3}, {2.3, 2.1, 1.9}});
//   lra::write_file_atomic("loss.svg", lra::svg::render(p));
//
// Axes get "nice" ticks (1, 2, 5 x 10^k); non-finite points are skipped; a series with one
// point is drawn as a dot. Colours cycle through a fixed palette unless a series sets one.
#pragma once
#include <string>
#include <vector>

namespace lra::svg {

struct Series {
  std::string label;
  std::vector<double> x, y;
  std::string color;    // CSS colour; empty: the palette's next
  bool markers = false;  // draw a dot at every point
};

struct Plot {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  int width = 640, height = 400;
  bool log_x = false, log_y = false;  // log10 axes (points <= 0 are skipped)
};

std::string render(const Plot& plot);

}  // namespace lra::svg
