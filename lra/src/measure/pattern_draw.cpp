// Attention pattern pictures, part 2: colours, PNG and SVG (see lra/measure/pattern.hpp).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "data/png.hpp"
#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/lra/measure/pattern.hpp"
#include "measure/svg.hpp"

namespace lra::pattern {
namespace {

using Rgb = std::array<uint8_t, 3>;

// Three-stop ramps from light to dark (ColorBrewer Blues and Reds): the lightest stop is
// clearly off-white, so a small non-zero weight never looks like a zero.
const Rgb kBlues[3] = {{{222, 235, 247}}, {{66, 146, 198}}, {{8, 48, 107}}};
const Rgb kReds[3] = {{{254, 224, 210}}, {{239, 59, 44}}, {{103, 0, 13}}};

Rgb ramp(const Rgb (&stops)[3], double t) {  // t in [0, 1]
  const double s = std::clamp(t, 0.0, 1.0) * 2.0;
  const int k = std::min(1, int(s));
  const double f = s - k;
  Rgb c{};
  for (int i = 0; i < 3; ++i)
    c[size_t(i)] = uint8_t(std::lround(stops[k][i] * (1.0 - f) + stops[k + 1][i] * f));
  return c;
}

std::string css(const Rgb& c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c[0], c[1], c[2]);
  return buf;
}

float peak_of(const Pattern& p) {
  float peak = 0.0f;
  for (float w : p.weights) peak = std::max(peak, std::fabs(w));
  return peak;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string base64(const std::vector<uint8_t>& bytes) {
  static const char* kDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const uint32_t n = uint32_t(bytes[i]) << 16 | (i + 1 < bytes.size() ? bytes[i + 1] << 8 : 0) |
                       (i + 2 < bytes.size() ? bytes[i + 2] : 0);
    out += kDigits[n >> 18 & 63];
    out += kDigits[n >> 12 & 63];
    out += i + 1 < bytes.size() ? kDigits[n >> 6 & 63] : '=';
    out += i + 2 < bytes.size() ? kDigits[n & 63] : '=';
  }
  return out;
}

std::string fmt(const char* f, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

const std::vector<Rgb>& palette() {
  static const std::vector<Rgb> colours = [] {
    std::vector<Rgb> c{{255, 255, 255}};
    for (int i = 0; i < kLevels; ++i) c.push_back(ramp(kBlues, double(i) / (kLevels - 1)));
    for (int i = 0; i < kLevels; ++i) c.push_back(ramp(kReds, double(i) / (kLevels - 1)));
    return c;
  }();
  return colours;
}

int colour_index(float w, float peak) {
  if (w == 0.0f || !(peak > 0.0f)) return 0;
  const double t = 1.0 + std::log10(double(std::fabs(w)) / double(peak)) / kDecades;
  const int level = int(std::lround(std::clamp(t, 0.0, 1.0) * (kLevels - 1)));
  return (w > 0.0f ? 1 : 1 + kLevels) + level;
}

std::string caption() {
  return "colour: log10 |weight|, " + std::to_string(kDecades) +
         " decades below the max; white = exactly 0; red = negative";
}

int default_scale(int64_t n) {
  return int(std::clamp<int64_t>(512 / std::max<int64_t>(n, 1), 1, 16));
}

std::vector<uint8_t> png(const Pattern& p, int scale) {
  if (scale <= 0) scale = default_scale(p.n);
  const float peak = peak_of(p);
  data::IndexedImage img;
  img.width = img.height = p.n * scale;
  img.palette = palette();
  img.pixels.resize(size_t(img.width * img.height));
  for (int64_t y = 0; y < img.height; ++y)
    for (int64_t x = 0; x < img.width; ++x)
      img.pixels[size_t(y * img.width + x)] =
          uint8_t(colour_index(p.at(y / scale, x / scale), peak));
  return data::encode_png_indexed(
      img, {{"Title", p.title},
            {"Description", "attention weights, query rows x key columns; " + caption() +
                                "; largest |weight| " + fmt("%.3g", peak)}});
}

std::string svg(const Pattern& p) {
  const float peak = peak_of(p);
  svg::Grid g;
  g.title = p.title;
  g.caption = caption();
  g.x_label = "key";
  g.y_label = "query";
  g.rows = g.cols = p.n;
  g.cell = default_scale(p.n);
  g.labels = p.labels;
  std::vector<std::string> colours;
  for (const Rgb& c : palette()) colours.push_back(css(c));
  g.colors.reserve(p.weights.size());
  int64_t runs = 0;
  for (size_t k = 0; k < p.weights.size(); ++k) {
    const int i = colour_index(p.weights[k], peak);
    g.colors.push_back(i == 0 ? std::string() : colours[size_t(i)]);
    runs += i != 0 && (k % size_t(p.n) == 0 || g.colors[k] != g.colors[k - 1]);
  }
  if (runs > kMaxSvgRuns) g.image = "data:image/png;base64," + base64(png(p, 1));
  const std::string floor = fmt("%.2g", peak * std::pow(10.0, -kDecades));
  const std::string high = fmt("%.3g", peak);
  g.ramps.push_back({{colours.begin() + 1, colours.begin() + 1 + kLevels}, "<= " + floor, high});
  if (std::any_of(p.weights.begin(), p.weights.end(), [](float w) { return w < 0.0f; }))
    g.ramps.push_back({{colours.begin() + 1 + kLevels, colours.end()}, ">= -" + floor, "-" + high});
  return svg::render(g);
}

void check_output(const std::string& path) {
  LRA_CHECK(ends_with(path, ".png") || ends_with(path, ".svg"), ConfigError, "--out ", path,
            ": unknown extension; expected FILE.png or FILE.svg");
}

void write(const Pattern& p, const std::string& path, int scale) {
  check_output(path);
  if (ends_with(path, ".svg")) {
    write_file_atomic(path, svg(p));
  } else {
    const std::vector<uint8_t> bytes = png(p, scale);
    write_file_atomic(path,
                      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
}

}  // namespace lra::pattern
