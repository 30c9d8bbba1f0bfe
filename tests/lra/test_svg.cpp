// The SVG writer's axes and label placement (lra/src/measure/svg.hpp).
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "measure/svg.hpp"
#include "task_helpers.hpp"  // count_of

using namespace lra;

TEST_CASE("svg: a log axis labels every decade and the 1-2-5 ticks between") {
  const std::vector<double> t = svg::axis_ticks(60, 6000, true);
  CHECK(t == std::vector<double>{100, 200, 500, 1000, 2000, 5000});
  const std::vector<double> wide = svg::axis_ticks(1e-3, 1e6, true);  // many decades: each one
  REQUIRE(wide.size() == 10);
  for (size_t i = 0; i < wide.size(); ++i)
    CHECK(wide[i] == doctest::Approx(std::pow(10.0, double(i) - 3)));
  for (double v : svg::axis_ticks(2.1, 4.9, true)) CHECK((v >= 2.1 && v <= 4.9));  // in a decade
  CHECK(svg::axis_ticks(2.1, 4.9, true).size() >= 3);
  CHECK(svg::axis_ticks(0, 1, false).size() >= 5);
  CHECK(svg::tick_label(0.002) == "0.002");
  CHECK(svg::tick_label(5000) == "5000");
}

TEST_CASE("svg: crowded labels stay inside the area and do not overlap") {
  const svg::Box area{0, 0, 300, 200};
  std::vector<svg::LabelSpot> spots;
  for (int i = 0; i < 8; ++i)  // eight long labels on nearly one point, one at the right edge
    spots.push_back({150 + 0.5 * i, 100, 8, svg::text_width("Sinkhorn Trans. (123 MB)"), 14});
  spots.push_back({299, 5, 4, svg::text_width("Performer (694 MB)"), 14});
  const std::vector<svg::Box> boxes = svg::place_labels(spots, area);
  REQUIRE(boxes.size() == spots.size());
  for (size_t i = 0; i < boxes.size(); ++i) {
    CHECK(boxes[i].inside(area));
    for (size_t j = i + 1; j < boxes.size(); ++j) CHECK_FALSE(boxes[i].overlaps(boxes[j]));
  }
  // a lone label goes right of its point, clear of the marker
  const auto one = svg::place_labels({{50, 100, 10, 40, 14}}, area);
  CHECK(one[0].x >= 60);
  CHECK(one[0].y < 100);
  CHECK(one[0].y + one[0].h > 100);
}

TEST_CASE("svg: names at line ends are spread apart inside the plot") {
  const std::vector<double> y = svg::spread({100, 100, 100, 101, 300}, 15, 50, 310);
  for (size_t i = 0; i < y.size(); ++i)
    for (size_t j = i + 1; j < y.size(); ++j) CHECK(std::fabs(y[i] - y[j]) >= 15 - 1e-9);
  for (double v : y) CHECK((v >= 50 && v <= 310));
}

TEST_CASE("svg: a styled chart names every line, also lines that coincide") {
  std::vector<svg::Line> lines;
  for (const char* name : {"Transformer", "Local Attention", "BigBird"})
    lines.push_back({name, {1024, 2048}, {84, 167}});  // the same values
  const std::string out = svg::line_chart("memory", "length", "MB", lines, true, "equal");
  for (const char* name : {">Transformer<", ">Local Attention<", ">BigBird<"})
    CHECK(lra_test::count_of(out, name) == 1);
  CHECK(lra_test::count_of(out, "stroke-dasharray") >= 2);  // the second and third lines are dashed
  // the first (reference) line is drawn last, on top
  CHECK(out.find("stroke-width=\"3\"") > out.find("stroke-dasharray=\"7 4\""));
  CHECK(out.find(">equal<") != std::string::npos);
}

TEST_CASE("svg: bubble labels stay inside the canvas") {
  std::vector<svg::Bubble> b;
  for (int i = 0; i < 8; ++i)
    b.push_back({10.0 + 0.01 * i, 50.0, 1.0, "A long label number " + std::to_string(i)});
  const std::string out = svg::bubble_chart("t", "x", "y", "caption", b);
  CHECK(lra_test::count_of(out, "<circle") == 8);
  CHECK(lra_test::count_of(out, "A long label number") == 8);
  // every label's x lies left of the canvas width minus its own width
  for (size_t p = out.find("<text x=\""); p != std::string::npos;
       p = out.find("<text x=\"", p + 1)) {
    const double x = std::stod(out.substr(p + 9));
    const size_t gt = out.find('>', p), lt = out.find('<', gt);
    const std::string text = out.substr(gt + 1, lt - gt - 1);
    if (text.rfind("A long label", 0) == 0) CHECK(x + svg::text_width(text) <= 752 + 1e-9);
  }
}
