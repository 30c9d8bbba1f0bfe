#include "measure/svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <set>
#include <sstream>
#include <tuple>

namespace lra::svg {
namespace {

const char* color_of(size_t i) {
  static const char* palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                                  "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#ad494a"};
  return palette[i % (sizeof(palette) / sizeof(palette[0]))];
}
const char* dash_of(size_t i) {  // styled plots: solid, dashed, dotted, dash-dot
  static const char* dashes[] = {"", "7 4", "2 3", "10 3 2 3"};
  return dashes[i % 4];
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// The plot area (pixels) and the data range it shows; a log axis maps log10 of the value.
struct Frame {
  double left = 0, top = 0, w = 0, h = 0;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  bool log_x = false, log_y = false;
  static double frac(double v, double a, double b, bool log) {
    return log ? (std::log10(v) - std::log10(a)) / (std::log10(b) - std::log10(a))
               : (v - a) / (b - a);
  }
  double X(double v) const { return left + frac(v, x0, x1, log_x) * w; }
  double Y(double v) const { return top + (1 - frac(v, y0, y1, log_y)) * h; }
};

void open_svg(std::ostringstream& o, double W, double H, const std::string& title, double title_x) {
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(W) << "\" height=\"" << num(H)
    << "\" viewBox=\"0 0 " << num(W) << " " << num(H)
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  o << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o << "<text x=\"" << num(title_x) << "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">"
    << escape(title) << "</text>\n";
}

// The axes of every chart: grid lines and labelled ticks (none on x when xt is empty: bar
// groups are labelled by the caller), the frame, and the two axis titles.
void draw_axes(std::ostringstream& o, const Frame& f, const std::vector<double>& xt,
               const std::vector<double>& yt, const std::string& x_label,
               const std::string& y_label) {
  const double bottom = f.top + f.h;
  for (double v : xt)
    o << "<line x1=\"" << num(f.X(v)) << "\" x2=\"" << num(f.X(v)) << "\" y1=\"" << num(f.top)
      << "\" y2=\"" << num(bottom) << "\" stroke=\"#e5e5e5\"/><text x=\"" << num(f.X(v))
      << "\" y=\"" << num(bottom + 16) << "\" text-anchor=\"middle\">" << tick_label(v)
      << "</text>\n";
  for (double v : yt)
    o << "<line x1=\"" << num(f.left) << "\" x2=\"" << num(f.left + f.w) << "\" y1=\""
      << num(f.Y(v)) << "\" y2=\"" << num(f.Y(v)) << "\" stroke=\"#e5e5e5\"/><text x=\""
      << num(f.left - 6) << "\" y=\"" << num(f.Y(v) + 4) << "\" text-anchor=\"end\">"
      << tick_label(v) << "</text>\n";
  o << "<rect x=\"" << num(f.left) << "\" y=\"" << num(f.top) << "\" width=\"" << num(f.w)
    << "\" height=\"" << num(f.h) << "\" fill=\"none\" stroke=\"#444\"/>\n";
  o << "<text x=\"" << num(f.left + f.w / 2) << "\" y=\"" << num(bottom + 36)
    << "\" text-anchor=\"middle\">" << escape(x_label) << "</text>\n";
  const double yx = f.left - 54, ym = f.top + f.h / 2;
  o << "<text x=\"" << num(yx) << "\" y=\"" << num(ym)
    << "\" text-anchor=\"middle\" transform=\"rotate(-90 " << num(yx) << " " << num(ym) << ")\">"
    << escape(y_label) << "</text>\n";
}

// Small grey lines of text from (x, y) down, one per '\n'-separated line.
void draw_caption(std::ostringstream& o, double x, double y, const std::string& caption) {
  std::istringstream lines(caption);
  std::string line;
  for (double at = y; std::getline(lines, line); at += 15)
    o << "<text x=\"" << num(x) << "\" y=\"" << num(at) << "\" font-size=\"11\" fill=\"#555\">"
      << escape(line) << "</text>\n";
}
int caption_lines(const std::string& caption) {
  return caption.empty() ? 0 : 1 + int(std::count(caption.begin(), caption.end(), '\n'));
}

// A marker of one of five shapes (circle, square, triangle, diamond, triangle down).
void draw_marker(std::ostringstream& o, size_t shape, double x, double y, double r,
                 const std::string& color, bool hollow) {
  const std::string paint = std::string(" fill=\"") + (hollow ? "white" : color) + "\" stroke=\"" +
                            color + "\" stroke-width=\"1.5\"/>\n";
  auto poly = [&](std::vector<std::pair<double, double>> p) {
    o << "<polygon points=\"";
    for (const auto& [dx, dy] : p) o << num(x + dx * r) << "," << num(y + dy * r) << " ";
    o << "\"" << paint;
  };
  switch (shape % 5) {
    case 0:
      o << "<circle cx=\"" << num(x) << "\" cy=\"" << num(y) << "\" r=\"" << num(r) << "\""
        << paint;
      break;
    case 1:
      poly({{-0.9, -0.9}, {0.9, -0.9}, {0.9, 0.9}, {-0.9, 0.9}});
      break;
    case 2:
      poly({{0, -1.2}, {1.1, 0.8}, {-1.1, 0.8}});
      break;
    case 3:
      poly({{0, -1.25}, {1.25, 0}, {0, 1.25}, {-1.25, 0}});
      break;
    default:
      poly({{0, 1.2}, {1.1, -0.8}, {-1.1, -0.8}});
  }
}

// [lo, hi] padded: 4% of the span on a linear axis, a factor 1.12 on a log axis.
std::pair<double, double> padded(double lo, double hi, bool log) {
  if (!(lo <= hi)) return log ? std::pair{1.0, 10.0} : std::pair{0.0, 1.0};
  if (log) {
    if (hi / lo < 1.0001) lo /= 2, hi *= 2;
    return {lo / 1.12, hi * 1.12};
  }
  if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
  const double pad = 0.04 * (hi - lo);
  return {lo - pad, hi + pad};
}

std::vector<double> linear_ticks(double lo, double hi, int want = 6) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / want, mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> t;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  return t;
}

}  // namespace

std::vector<double> axis_ticks(double lo, double hi, bool log) {
  if (!log || !(lo > 0)) return linear_ticks(lo, hi);
  if (!(hi > lo)) return {lo};
  std::vector<double> t125, decades, all;
  for (int e = int(std::floor(std::log10(lo))); e <= int(std::ceil(std::log10(hi))); ++e)
    for (int m = 1; m <= 9; ++m) {
      const double v = m * std::pow(10.0, e);
      if (v < lo * (1 - 1e-9) || v > hi * (1 + 1e-9)) continue;
      all.push_back(v);
      if (m == 1 || m == 2 || m == 5) t125.push_back(v);
      if (m == 1) decades.push_back(v);
    }
  if (t125.size() > 12) return decades;  // many decades: each decade
  if (t125.size() >= 3) return t125;
  if (all.size() >= 3) return all;  // within a decade: 1..9 x 10^k
  return linear_ticks(lo, hi);
}

std::string tick_label(double v) {
  if (v == 0) return "0";
  char buf[32];
  const double a = std::fabs(v);
  std::snprintf(buf, sizeof buf, a >= 1e6 || a < 1e-3 ? "%.2g" : "%g", v);
  return buf;
}

// ---- label placement -------------------------------------------------------------------------

bool Box::overlaps(const Box& o) const {
  return x < o.x + o.w && o.x < x + w && y < o.y + o.h && o.y < y + h;
}

bool Box::inside(const Box& a) const {
  const double e = 1e-9;
  return x >= a.x - e && y >= a.y - e && x + w <= a.x + a.w + e && y + h <= a.y + a.h + e;
}

double text_width(const std::string& text, double font_px) {
  double chars = 0;
  for (unsigned char c : text) chars += (c & 0xC0) != 0x80;  // UTF-8: count code points
  return 0.62 * font_px * chars + 2;
}

std::vector<Box> place_labels(const std::vector<LabelSpot>& spots, const Box& area) {
  std::vector<Box> out;
  auto free = [&](const Box& b) {
    if (!b.inside(area)) return false;
    for (const Box& p : out)
      if (b.overlaps(p)) return false;
    return true;
  };
  for (const LabelSpot& s : spots) {
    bool placed = false;
    // Rings of eight candidates around the point, nearer first (right of it first).
    for (int ring = 0; ring < 12 && !placed; ++ring) {
      const double d = s.gap + 3 + 8.0 * ring, q = 0.7 * d;
      const Box c[] = {
          {s.x + d, s.y - s.h / 2, s.w, s.h},       {s.x - d - s.w, s.y - s.h / 2, s.w, s.h},
          {s.x - s.w / 2, s.y - d - s.h, s.w, s.h}, {s.x - s.w / 2, s.y + d, s.w, s.h},
          {s.x + q, s.y - q - s.h, s.w, s.h},       {s.x + q, s.y + q, s.w, s.h},
          {s.x - q - s.w, s.y - q - s.h, s.w, s.h}, {s.x - q - s.w, s.y + q, s.w, s.h}};
      for (const Box& b : c)
        if (free(b)) {
          out.push_back(b);
          placed = true;
          break;
        }
    }
    if (placed) continue;
    // Else the free place nearest the point anywhere in the area (a leader line will show it).
    Box best;
    double best_d = std::numeric_limits<double>::infinity();
    for (double y = area.y; y + s.h <= area.y + area.h; y += 2)
      for (double x = area.x; x + s.w <= area.x + area.w; x += 4) {
        const Box b{x, y, s.w, s.h};
        const double dx = x + s.w / 2 - s.x, dy = y + s.h / 2 - s.y, d = dx * dx + dy * dy;
        if (d < best_d && free(b)) best = b, best_d = d;
      }
    if (best_d == std::numeric_limits<double>::infinity())
      best = {area.x, area.y + s.h * double(out.size()), s.w, s.h};  // no room at all
    out.push_back(best);
  }
  return out;
}

std::vector<double> spread(const std::vector<double>& want, double h, double lo, double hi) {
  std::vector<size_t> order(want.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return want[a] < want[b]; });
  std::vector<double> y(want.size());
  double prev = -std::numeric_limits<double>::infinity();
  for (size_t i : order) prev = y[i] = std::max(want[i], prev + h);  // push down
  double next = hi;
  for (auto it = order.rbegin(); it != order.rend(); ++it)  // pull back above hi
    y[*it] = std::min(y[*it], next), next = y[*it] - h;
  prev = lo - h;
  for (size_t i : order) prev = y[i] = std::max(y[i], prev + h);  // and below lo
  return y;
}

// ---- line plots ------------------------------------------------------------------------------

std::string render(const Plot& plot) {
  auto usable = [&](double x, double y) {
    return std::isfinite(x) && std::isfinite(y) && (!plot.log_x || x > 0) && (!plot.log_y || y > 0);
  };
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  std::set<double> xs;
  size_t labelled = 0;
  double longest = 0;
  for (const Series& s : plot.series) {
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
      if (usable(s.x[i], s.y[i])) {
        xmin = std::min(xmin, s.x[i]), xmax = std::max(xmax, s.x[i]);
        ymin = std::min(ymin, s.y[i]), ymax = std::max(ymax, s.y[i]);
        xs.insert(s.x[i]);
      }
    if (!s.label.empty()) ++labelled, longest = std::max(longest, text_width(s.label));
  }
  const bool empty = xs.empty();
  Frame f;
  f.log_x = plot.log_x, f.log_y = plot.log_y;
  std::tie(f.x0, f.x1) = padded(xmin, xmax, plot.log_x);
  std::tie(f.y0, f.y1) = padded(ymin, ymax, plot.log_y);
  const double column = labelled ? longest + 44 : 0;  // legend or line names
  const int cap = caption_lines(plot.caption);
  const double W = plot.width + column, H = plot.height + 15.0 * cap;
  f.left = 72, f.top = 40, f.w = plot.width - f.left - 16, f.h = plot.height - f.top - 54;
  // x ticks: the measured x values when there are few (bench lengths), else nice ones
  std::vector<double> xt = xs.size() >= 2 && xs.size() <= 8 && !plot.log_x
                               ? std::vector<double>(xs.begin(), xs.end())
                               : axis_ticks(f.x0, f.x1, plot.log_x);
  std::ostringstream o;
  open_svg(o, W, H, plot.title, f.left + f.w / 2);
  draw_axes(o, f, xt, axis_ticks(f.y0, f.y1, plot.log_y), plot.x_label, plot.y_label);
  if (empty)
    o << "<text x=\"" << num(f.left + f.w / 2) << "\" y=\"" << num(f.top + f.h / 2)
      << "\" text-anchor=\"middle\" fill=\"#888\">no data yet</text>\n";

  // Series: styled plots draw the first on top (it is the reference, e.g. the Transformer).
  const size_t n = plot.series.size();
  std::vector<std::string> colors(n);
  for (size_t k = 0, next = 0; k < n; ++k)
    colors[k] = plot.series[k].color.empty() ? color_of(next++) : plot.series[k].color;
  std::vector<std::pair<double, double>> last(n, {NAN, NAN});
  for (size_t j = 0; j < n; ++j) {
    const size_t k = plot.styled ? n - 1 - j : j;
    const Series& s = plot.series[k];
    std::string path;
    size_t points = 0;
    bool pen = false;
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!usable(s.x[i], s.y[i])) {
        pen = false;  // a gap
        continue;
      }
      path += (pen ? " L" : " M") + num(f.X(s.x[i])) + "," + num(f.Y(s.y[i]));
      pen = true, ++points;
      last[k] = {f.X(s.x[i]), f.Y(s.y[i])};
    }
    if (points > 1)
      o << "<path d=\"" << path << "\" fill=\"none\" stroke=\"" << colors[k] << "\" stroke-width=\""
        << (plot.styled && k == 0 ? "3" : "1.8") << "\""
        << (plot.styled && *dash_of(k) ? std::string(" stroke-dasharray=\"") + dash_of(k) + "\""
                                       : std::string())
        << "/>\n";
    if (points == 1 || s.markers)
      for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
        if (usable(s.x[i], s.y[i]))
          draw_marker(o, plot.styled ? k : 0, f.X(s.x[i]), f.Y(s.y[i]), plot.styled ? 4 : 3,
                      colors[k], plot.styled);
  }

  // Names: at the line ends (styled), else a legend; both in the column right of the plot.
  const double cx = f.left + f.w + 14;
  std::vector<size_t> named;
  std::vector<double> want;
  for (size_t k = 0; k < n; ++k)
    if (!plot.series[k].label.empty() && (!plot.styled || !std::isnan(last[k].first))) {
      named.push_back(k);
      want.push_back(plot.styled ? last[k].second : f.top + 10 + 16.0 * double(named.size() - 1));
    }
  const std::vector<double> ys = plot.styled ? spread(want, 15, f.top + 6, f.top + f.h) : want;
  for (size_t j = 0; j < named.size(); ++j) {
    const size_t k = named[j];
    const double y = ys[j];
    if (plot.styled)
      o << "<polyline points=\"" << num(last[k].first + 5) << "," << num(last[k].second) << " "
        << num(cx - 2) << "," << num(y)
        << "\" fill=\"none\" stroke=\"#999\" stroke-width=\"0.7\"/>\n";
    o << "<line x1=\"" << num(cx) << "\" x2=\"" << num(cx + 22) << "\" y1=\"" << num(y)
      << "\" y2=\"" << num(y) << "\" stroke=\"" << colors[k] << "\" stroke-width=\"2\""
      << (plot.styled && *dash_of(k) ? std::string(" stroke-dasharray=\"") + dash_of(k) + "\""
                                     : std::string())
      << "/>\n";
    if (plot.styled) draw_marker(o, k, cx + 11, y, 3.5, colors[k], true);
    o << "<text x=\"" << num(cx + 27) << "\" y=\"" << num(y + 4) << "\">"
      << escape(plot.series[k].label) << "</text>\n";
  }
  draw_caption(o, f.left, plot.height + 4, plot.caption);
  o << "</svg>\n";
  return o.str();
}

std::string render(const Grid& grid) {
  // Token labels need a margin of their longest label on the left and on top.
  // Cells smaller than the font get every step-th label.
  const double font = std::clamp(grid.cell * 0.85, 5.0, 11.0);
  const size_t step = size_t(std::ceil(font / grid.cell - 1e-9));
  size_t longest = 0;
  for (const std::string& l : grid.labels) longest = std::max(longest, l.size());
  const double margin = grid.labels.empty() ? 0.0 : 0.62 * font * double(longest) + 6;
  const double left = 34 + margin, top = 46 + margin, right = 16, swatch = 12, line = 18;
  const double pw = double(grid.cols) * grid.cell, ph = double(grid.rows) * grid.cell;
  const double W = std::max({left + pw + right, 560.0, 8.0 * double(grid.title.size()) + 20});
  const double ramps_top = top + ph + 30;
  const double H = ramps_top + line * double(grid.ramps.size()) + 26;
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(W) << "\" height=\"" << num(H)
    << "\" viewBox=\"0 0 " << num(W) << " " << num(H)
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  o << "<title>" << escape(grid.title) << "</title>\n";
  o << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o << "<text x=\"" << num(W / 2) << "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">"
    << escape(grid.title) << "</text>\n";
  // cells: one embedded image, or one rect per run of equal colour in a row
  o << "<g transform=\"translate(" << num(left) << "," << num(top)
    << ")\" shape-rendering=\"crispEdges\">\n";
  if (!grid.image.empty()) {
    o << "<image width=\"" << num(pw) << "\" height=\"" << num(ph)
      << "\" preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" href=\"" << grid.image
      << "\"/>\n";
  } else {
    const std::string cell = num(grid.cell);
    for (int64_t r = 0; r < grid.rows; ++r)
      for (int64_t c = 0; c < grid.cols;) {
        const std::string& color = grid.colors[size_t(r * grid.cols + c)];
        int64_t end = c + 1;
        while (end < grid.cols && grid.colors[size_t(r * grid.cols + end)] == color) ++end;
        if (!color.empty())
          o << "<rect x=\"" << num(double(c) * grid.cell) << "\" y=\"" << num(double(r) * grid.cell)
            << "\" width=\"" << num(double(end - c) * grid.cell) << "\" height=\"" << cell
            << "\" fill=\"" << color << "\"/>\n";
        c = end;
      }
  }
  o << "</g>\n";
  o << "<rect x=\"" << num(left) << "\" y=\"" << num(top) << "\" width=\"" << num(pw)
    << "\" height=\"" << num(ph) << "\" fill=\"none\" stroke=\"#444\"/>\n";
  if (!grid.labels.empty()) {
    o << "<g font-family=\"monospace\" font-size=\"" << num(font) << "\" fill=\"#222\">\n";
    for (size_t i = 0; i < grid.labels.size(); i += step) {
      const double mid = (double(i) + 0.5) * grid.cell + font * 0.35;
      const std::string text = escape(grid.labels[i]);
      o << "<text x=\"" << num(left - 3) << "\" y=\"" << num(top + mid) << "\" text-anchor=\"end\">"
        << text << "</text>\n";
      o << "<text transform=\"translate(" << num(left + mid) << "," << num(top - 3)
        << ") rotate(-90)\">" << text << "</text>\n";
    }
    o << "</g>\n";
  }
  o << "<text x=\"" << num(left + pw / 2) << "\" y=\"" << num(top - margin - 6)
    << "\" text-anchor=\"middle\">" << escape(grid.x_label) << "</text>\n";
  o << "<text transform=\"translate(" << num(left - margin - 8) << "," << num(top + ph / 2)
    << ") rotate(-90)\" text-anchor=\"middle\">" << escape(grid.y_label) << "</text>\n";
  double y = ramps_top;
  for (const Ramp& ramp : grid.ramps) {
    o << "<text x=\"" << num(left) << "\" y=\"" << num(y - 2) << "\">" << escape(ramp.low)
      << "</text>\n";
    const double x0 = left + 7.0 * double(ramp.low.size()) + 8;
    for (size_t i = 0; i < ramp.colors.size(); ++i)
      o << "<rect x=\"" << num(x0 + swatch * double(i)) << "\" y=\"" << num(y - swatch)
        << "\" width=\"" << num(swatch) << "\" height=\"" << num(swatch) << "\" fill=\""
        << ramp.colors[i] << "\"/>\n";
    o << "<text x=\"" << num(x0 + swatch * double(ramp.colors.size()) + 6) << "\" y=\""
      << num(y - 2) << "\">" << escape(ramp.high) << "</text>\n";
    y += line;
  }
  o << "<text x=\"" << num(left) << "\" y=\"" << num(y + 4) << "\" fill=\"#444\">"
    << escape(grid.caption) << "</text>\n";
  o << "</svg>\n";
  return o.str();
}

// ---- charts of the benchmark and span reports ----------------------------------------------

std::string line_chart(const std::string& title, const std::string& x_label,
                       const std::string& y_label, const std::vector<Line>& series, bool log_y,
                       const std::string& caption) {
  Plot p;
  p.title = title, p.x_label = x_label, p.y_label = y_label, p.caption = caption;
  p.width = 560, p.height = 440, p.log_y = log_y, p.styled = true;
  for (const Line& l : series) {
    Series s{l.name, l.x, l.y, "", true};
    for (double& y : s.y)
      if (!(y > 0)) y = NAN;  // a gap
    p.series.push_back(s);
  }
  return render(p);
}

std::string bar_chart(const std::string& title, const std::string& y_label,
                      const std::vector<std::string>& groups,
                      const std::vector<std::string>& series_names,
                      const std::vector<std::vector<double>>& values) {
  double ymax = 0, longest = 0;
  for (const auto& s : values)
    for (double v : s) ymax = std::max(ymax, v);
  for (const std::string& name : series_names) longest = std::max(longest, text_width(name));
  if (ymax <= 0) ymax = 1;
  const std::vector<double> yt = linear_ticks(0, ymax * 1.08);
  Frame f;
  f.left = 72, f.top = 44, f.w = 520, f.h = 340;
  f.y0 = 0, f.y1 = std::max(yt.back(), ymax);
  const double W = f.left + f.w + 16 + longest + 30, H = f.top + f.h + 56;
  std::ostringstream o;
  open_svg(o, W, H, title, f.left + f.w / 2);
  draw_axes(o, f, {}, yt, "", y_label);
  const double gw = f.w / double(std::max<size_t>(1, groups.size()));
  const double ns = double(std::max<size_t>(1, series_names.size()));
  const double bw = std::min(gw * 0.8 / ns, 60.0);
  for (size_t g = 0; g < groups.size(); ++g) {
    const double gx = f.left + gw * double(g) + (gw - bw * ns) / 2;
    for (size_t k = 0; k < series_names.size(); ++k) {
      const double v = k < values.size() && g < values[k].size() ? values[k][g] : 0.0;
      if (!(v > 0)) continue;
      o << "<rect x=\"" << num(gx + bw * double(k)) << "\" y=\"" << num(f.Y(v)) << "\" width=\""
        << num(bw * 0.92) << "\" height=\"" << num(f.Y(0) - f.Y(v)) << "\" fill=\"" << color_of(k)
        << "\"><title>" << escape(series_names[k]) << ": " << tick_label(v) << "</title></rect>\n";
      o << "<text x=\"" << num(gx + bw * (double(k) + 0.46)) << "\" y=\"" << num(f.Y(v) - 4)
        << "\" text-anchor=\"middle\" font-size=\"10\">" << tick_label(std::round(v * 10) / 10)
        << "</text>\n";
    }
    o << "<text x=\"" << num(f.left + gw * (double(g) + 0.5)) << "\" y=\"" << num(f.top + f.h + 16)
      << "\" text-anchor=\"middle\">" << escape(groups[g]) << "</text>\n";
  }
  for (size_t k = 0; k < series_names.size(); ++k) {
    const double x = f.left + f.w + 14, y = f.top + 10 + 18.0 * double(k);
    o << "<rect x=\"" << num(x) << "\" y=\"" << num(y - 6)
      << "\" width=\"14\" height=\"12\" fill=\"" << color_of(k) << "\"/><text x=\"" << num(x + 20)
      << "\" y=\"" << num(y + 4) << "\">" << escape(series_names[k]) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

std::string bubble_chart(const std::string& title, const std::string& x_label,
                         const std::string& y_label, const std::string& caption,
                         const std::vector<Bubble>& bubbles) {
  Frame f;
  f.left = 72, f.top = 44, f.w = 660, f.h = 380, f.log_x = true;
  double lx0 = 0, lx1 = 1, y0 = 0, y1 = 100;
  if (!bubbles.empty()) {
    lx0 = lx1 = std::log10(std::max(bubbles[0].x, 1e-12));
    y0 = y1 = bubbles[0].y;
    for (const Bubble& b : bubbles) {
      lx0 = std::min(lx0, std::log10(std::max(b.x, 1e-12)));
      lx1 = std::max(lx1, std::log10(std::max(b.x, 1e-12)));
      y0 = std::min(y0, b.y), y1 = std::max(y1, b.y);
    }
  }
  if (lx1 - lx0 < 0.3) lx0 -= 0.15, lx1 += 0.15;
  if (y1 - y0 < 4) y0 -= 2, y1 += 2;
  // room for the largest marker (radius 30) inside the frame on every side
  const double mx = 36 * (lx1 - lx0) / (f.w - 72), my = 36 * (y1 - y0) / (f.h - 72);
  f.x0 = std::pow(10.0, lx0 - mx), f.x1 = std::pow(10.0, lx1 + mx);
  f.y0 = y0 - my, f.y1 = y1 + my;
  const double W = f.left + f.w + 20, H = f.top + f.h + 50 + 15.0 * caption_lines(caption);
  std::ostringstream o;
  open_svg(o, W, H, title, W / 2);
  draw_axes(o, f, axis_ticks(f.x0, f.x1, true), linear_ticks(f.y0, f.y1), x_label, y_label);
  std::vector<LabelSpot> spots;
  for (size_t i = 0; i < bubbles.size(); ++i) {
    const Bubble& p = bubbles[i];
    const double r = 4 + 26 * std::sqrt(std::clamp(p.area, 0.0, 1.0));
    o << "<circle cx=\"" << num(f.X(p.x)) << "\" cy=\"" << num(f.Y(p.y)) << "\" r=\"" << num(r)
      << "\" fill=\"" << color_of(i) << "\" fill-opacity=\"0.45\" stroke=\"" << color_of(i)
      << "\"/>\n";
    spots.push_back({f.X(p.x), f.Y(p.y), r, text_width(p.label), 14});
  }
  const Box area{f.left + 2, f.top + 2, f.w - 4, f.h - 4};
  const std::vector<Box> boxes = place_labels(spots, area);
  for (size_t i = 0; i < bubbles.size(); ++i) {
    const Box& b = boxes[i];
    const LabelSpot& s = spots[i];
    // a leader line when the label had to move away from its marker
    const double cx = std::clamp(s.x, b.x, b.x + b.w), cy = std::clamp(s.y, b.y, b.y + b.h);
    if (std::hypot(cx - s.x, cy - s.y) > s.gap + 12)
      o << "<line x1=\"" << num(s.x) << "\" y1=\"" << num(s.y) << "\" x2=\"" << num(cx)
        << "\" y2=\"" << num(cy) << "\" stroke=\"" << color_of(i) << "\" stroke-width=\"0.8\"/>\n";
    o << "<text x=\"" << num(b.x + 1) << "\" y=\"" << num(b.y + 11) << "\">"
      << escape(bubbles[i].label) << "</text>\n";
  }
  draw_caption(o, f.left, f.top + f.h + 56, caption);
  o << "</svg>\n";
  return o.str();
}

}  // namespace lra::svg
