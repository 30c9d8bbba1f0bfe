#include "measure/svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <sstream>

namespace lra::svg {
namespace {

const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

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

std::string tick_label(double v, bool log) {
  if (log) v = std::pow(10.0, v);
  char buf[32];
  if (v != 0 && (std::fabs(v) >= 1e5 || std::fabs(v) < 1e-3))
    std::snprintf(buf, sizeof buf, "%.0e", v);
  else
    std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Ticks at 1, 2, 5 x 10^k covering [lo, hi], about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target) {
  double span = hi - lo;
  double raw = span / std::max(1, target);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> t;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  return t;
}

}  // namespace

std::string render(const Plot& plot) {
  const double W = plot.width, H = plot.height;
  const double left = 70, right = 20, top = 36, bottom = 50;
  auto tx = [&](double v) { return plot.log_x ? std::log10(v) : v; };
  auto ty = [&](double v) { return plot.log_y ? std::log10(v) : v; };
  auto usable = [&](double x, double y) {
    return std::isfinite(x) && std::isfinite(y) && (!plot.log_x || x > 0) && (!plot.log_y || y > 0);
  };
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const Series& s : plot.series)
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
      if (usable(s.x[i], s.y[i])) {
        x0 = std::min(x0, tx(s.x[i]));
        x1 = std::max(x1, tx(s.x[i]));
        y0 = std::min(y0, ty(s.y[i]));
        y1 = std::max(y1, ty(s.y[i]));
      }
  const bool empty = !(x0 <= x1);
  if (empty) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 - x0 < 1e-12) x0 -= 0.5, x1 += 0.5;
  if (y1 - y0 < 1e-12) y0 -= 0.5, y1 += 0.5;
  const double pad = 0.04 * (y1 - y0);
  y0 -= pad;
  y1 += pad;
  const double pw = W - left - right, ph = H - top - bottom;
  auto px = [&](double v) { return left + (v - x0) / (x1 - x0) * pw; };
  auto py = [&](double v) { return top + ph - (v - y0) / (y1 - y0) * ph; };

  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << plot.width << "\" height=\""
    << plot.height << "\" viewBox=\"0 0 " << plot.width << " " << plot.height
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  o << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o << "<text x=\"" << num(W / 2) << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">"
    << escape(plot.title) << "</text>\n";
  // grid and ticks
  for (double v : nice_ticks(x0, x1, 6)) {
    o << "<line x1=\"" << num(px(v)) << "\" y1=\"" << num(top) << "\" x2=\"" << num(px(v))
      << "\" y2=\"" << num(top + ph) << "\" stroke=\"#e0e0e0\"/>\n";
    o << "<text x=\"" << num(px(v)) << "\" y=\"" << num(top + ph + 16)
      << "\" text-anchor=\"middle\">" << tick_label(v, plot.log_x) << "</text>\n";
  }
  for (double v : nice_ticks(y0, y1, 6)) {
    o << "<line x1=\"" << num(left) << "\" y1=\"" << num(py(v)) << "\" x2=\"" << num(left + pw)
      << "\" y2=\"" << num(py(v)) << "\" stroke=\"#e0e0e0\"/>\n";
    o << "<text x=\"" << num(left - 6) << "\" y=\"" << num(py(v) + 4) << "\" text-anchor=\"end\">"
      << tick_label(v, plot.log_y) << "</text>\n";
  }
  o << "<rect x=\"" << num(left) << "\" y=\"" << num(top) << "\" width=\"" << num(pw)
    << "\" height=\"" << num(ph) << "\" fill=\"none\" stroke=\"#444\"/>\n";
  o << "<text x=\"" << num(left + pw / 2) << "\" y=\"" << num(H - 12)
    << "\" text-anchor=\"middle\">" << escape(plot.x_label) << "</text>\n";
  o << "<text transform=\"translate(16," << num(top + ph / 2)
    << ") rotate(-90)\" text-anchor=\"middle\">" << escape(plot.y_label) << "</text>\n";
  if (empty)
    o << "<text x=\"" << num(left + pw / 2) << "\" y=\"" << num(top + ph / 2)
      << "\" text-anchor=\"middle\" fill=\"#888\">no data yet</text>\n";

  // series
  size_t color_i = 0;
  double legend_y = top + 14;
  for (const Series& s : plot.series) {
    const std::string color = s.color.empty() ? kPalette[color_i++ % 10] : s.color;
    std::vector<std::pair<double, double>> pts;
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
      if (usable(s.x[i], s.y[i])) pts.emplace_back(px(tx(s.x[i])), py(ty(s.y[i])));
    if (pts.size() > 1) {
      o << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"1.8\" points=\"";
      for (const auto& [a, b] : pts) o << num(a) << "," << num(b) << " ";
      o << "\"/>\n";
    }
    if (pts.size() == 1 || s.markers)
      for (const auto& [a, b] : pts)
        o << "<circle cx=\"" << num(a) << "\" cy=\"" << num(b) << "\" r=\"3\" fill=\"" << color
          << "\"/>\n";
    if (!s.label.empty()) {
      o << "<line x1=\"" << num(left + pw - 120) << "\" y1=\"" << num(legend_y - 4) << "\" x2=\""
        << num(left + pw - 100) << "\" y2=\"" << num(legend_y - 4) << "\" stroke=\"" << color
        << "\" stroke-width=\"2\"/>\n";
      o << "<text x=\"" << num(left + pw - 95) << "\" y=\"" << num(legend_y) << "\">"
        << escape(s.label) << "</text>\n";
      legend_y += 16;
    }
  }
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

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

const char* chart_color(size_t i) {
  static const char* palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                                  "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#ad494a"};
  return palette[i % (sizeof(palette) / sizeof(palette[0]))];
}

// "Nice" tick values covering [lo, hi] (linear axis).
std::vector<double> linear_ticks(double lo, double hi, int want = 6) {
  std::vector<double> t;
  if (!(hi > lo)) return {lo};
  double raw = (hi - lo) / want, mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    t.push_back(v);
  return t;
}

std::string chart_tick(double v) {
  if (v == 0) return "0";
  double a = std::fabs(v);
  if (a >= 1000) return fmt("%.0f", v);
  if (a >= 10) return fmt("%.0f", v);
  if (a >= 1) return fmt("%.3g", v);
  return fmt("%.2g", v);
}

}  // namespace

std::string line_chart(const std::string& title, const std::string& x_label,
                       const std::string& y_label, const std::vector<Line>& series, bool log_y) {
  const double W = 760, H = 460, L = 70, R = 170, T = 44, B = 56;
  double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
  for (const Line& s : series)
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!(s.y[i] > 0)) continue;
      xmin = std::min(xmin, s.x[i]), xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, s.y[i]), ymax = std::max(ymax, s.y[i]);
    }
  if (xmax < xmin) xmin = 0, xmax = 1, ymin = 1, ymax = 10;
  if (xmax == xmin) xmin -= 1, xmax += 1;
  double ly0, ly1;
  if (log_y) {
    ly0 = std::floor(std::log10(ymin) * 4) / 4;
    ly1 = std::ceil(std::log10(ymax) * 4) / 4;
    if (ly1 - ly0 < 0.5) ly0 -= 0.25, ly1 += 0.25;
  } else {
    ly0 = 0;
    ly1 = ymax * 1.1;
  }
  const double pad = (xmax - xmin) * 0.04;
  const double x0 = xmin - pad, x1 = xmax + pad;
  auto X = [&](double v) { return L + (v - x0) / (x1 - x0) * (W - L - R); };
  auto Y = [&](double v) {
    double t = log_y ? (std::log10(v) - ly0) / (ly1 - ly0) : (v - ly0) / (ly1 - ly0);
    return T + (1 - t) * (H - T - B);
  };
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
       "fill=\"white\"/>\n";
  o << "<text x=\"" << (L + W - R) / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">"
    << escape(title) << "</text>\n";
  o << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << W - L - R << "\" height=\""
    << H - T - B << "\" fill=\"none\" stroke=\"#333\"/>\n";
  // x ticks: the measured x values when few, else nice ticks
  std::set<double> xs;
  for (const Line& s : series) xs.insert(s.x.begin(), s.x.end());
  std::vector<double> xt =
      xs.size() <= 8 ? std::vector<double>(xs.begin(), xs.end()) : linear_ticks(xmin, xmax);
  for (double v : xt)
    o << "<line x1=\"" << X(v) << "\" x2=\"" << X(v) << "\" y1=\"" << T << "\" y2=\"" << H - B
      << "\" stroke=\"#e5e5e5\"/><text x=\"" << X(v) << "\" y=\"" << H - B + 16
      << "\" text-anchor=\"middle\">" << chart_tick(v) << "</text>\n";
  std::vector<double> yt;
  if (log_y) {
    for (double e = std::floor(ly0); e <= ly1; e += 1)
      for (double m : {1.0, 2.0, 5.0}) {
        double v = m * std::pow(10.0, e);
        if (std::log10(v) >= ly0 - 1e-9 && std::log10(v) <= ly1 + 1e-9) yt.push_back(v);
      }
  } else {
    yt = linear_ticks(ly0, ly1);
  }
  for (double v : yt)
    o << "<line x1=\"" << L << "\" x2=\"" << W - R << "\" y1=\"" << Y(v) << "\" y2=\"" << Y(v)
      << "\" stroke=\"#e5e5e5\"/><text x=\"" << L - 6 << "\" y=\"" << Y(v) + 4
      << "\" text-anchor=\"end\">" << chart_tick(v) << "</text>\n";
  o << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << H - 16 << "\" text-anchor=\"middle\">"
    << escape(x_label) << "</text>\n";
  o << "<text x=\"16\" y=\"" << (T + H - B) / 2
    << "\" text-anchor=\"middle\" transform=\"rotate(-90 16 " << (T + H - B) / 2 << ")\">"
    << escape(y_label) << "</text>\n";
  for (size_t k = 0; k < series.size(); ++k) {
    const Line& s = series[k];
    std::string path;
    bool pen = false;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!(s.y[i] > 0)) {
        pen = false;
        continue;
      }
      path += (pen ? " L" : " M") + fmt("%.1f", X(s.x[i])) + "," + fmt("%.1f", Y(s.y[i]));
      pen = true;
    }
    if (!path.empty())
      o << "<path d=\"" << path << "\" fill=\"none\" stroke=\"" << chart_color(k)
        << "\" stroke-width=\"2\"/>\n";
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (s.y[i] > 0)
        o << "<circle cx=\"" << fmt("%.1f", X(s.x[i])) << "\" cy=\"" << fmt("%.1f", Y(s.y[i]))
          << "\" r=\"3.5\" fill=\"" << chart_color(k) << "\"/>\n";
    const double ly = T + 10 + 18.0 * double(k);
    o << "<line x1=\"" << W - R + 12 << "\" x2=\"" << W - R + 34 << "\" y1=\"" << ly << "\" y2=\""
      << ly << "\" stroke=\"" << chart_color(k) << "\" stroke-width=\"2\"/><text x=\"" << W - R + 40
      << "\" y=\"" << ly + 4 << "\">" << escape(s.name) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

std::string bar_chart(const std::string& title, const std::string& y_label,
                      const std::vector<std::string>& groups,
                      const std::vector<std::string>& series_names,
                      const std::vector<std::vector<double>>& values) {
  const double W = 760, H = 440, L = 70, R = 170, T = 44, B = 56;
  double ymax = 0;
  for (const auto& s : values)
    for (double v : s)
      if (v > ymax) ymax = v;
  if (ymax <= 0) ymax = 1;
  std::vector<double> yt = linear_ticks(0, ymax * 1.08);
  const double y1 = std::max(yt.back(), ymax);
  auto Y = [&](double v) { return T + (1 - v / y1) * (H - T - B); };
  const double gw = (W - L - R) / double(std::max<size_t>(1, groups.size()));
  const double ns = double(std::max<size_t>(1, series_names.size()));
  const double bw = std::min(gw * 0.8 / ns, 60.0);
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
       "fill=\"white\"/>\n";
  o << "<text x=\"" << (L + W - R) / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">"
    << escape(title) << "</text>\n";
  for (double v : yt)
    o << "<line x1=\"" << L << "\" x2=\"" << W - R << "\" y1=\"" << Y(v) << "\" y2=\"" << Y(v)
      << "\" stroke=\"#e5e5e5\"/><text x=\"" << L - 6 << "\" y=\"" << Y(v) + 4
      << "\" text-anchor=\"end\">" << chart_tick(v) << "</text>\n";
  o << "<text x=\"16\" y=\"" << (T + H - B) / 2
    << "\" text-anchor=\"middle\" transform=\"rotate(-90 16 " << (T + H - B) / 2 << ")\">"
    << escape(y_label) << "</text>\n";
  for (size_t g = 0; g < groups.size(); ++g) {
    const double gx = L + gw * double(g) + (gw - bw * ns) / 2;
    for (size_t k = 0; k < series_names.size(); ++k) {
      double v = k < values.size() && g < values[k].size() ? values[k][g] : 0.0;
      if (!(v > 0)) continue;
      o << "<rect x=\"" << gx + bw * double(k) << "\" y=\"" << Y(v) << "\" width=\"" << bw * 0.92
        << "\" height=\"" << Y(0) - Y(v) << "\" fill=\"" << chart_color(k) << "\"><title>"
        << escape(series_names[k]) << ": " << fmt("%.1f", v) << "</title></rect>\n";
      o << "<text x=\"" << gx + bw * (double(k) + 0.46) << "\" y=\"" << Y(v) - 4
        << "\" text-anchor=\"middle\" font-size=\"10\">" << chart_tick(v) << "</text>\n";
    }
    o << "<text x=\"" << L + gw * (double(g) + 0.5) << "\" y=\"" << H - B + 16
      << "\" text-anchor=\"middle\">" << escape(groups[g]) << "</text>\n";
  }
  o << "<line x1=\"" << L << "\" x2=\"" << W - R << "\" y1=\"" << Y(0) << "\" y2=\"" << Y(0)
    << "\" stroke=\"#333\"/>\n";
  for (size_t k = 0; k < series_names.size(); ++k) {
    const double ly = T + 10 + 18.0 * double(k);
    o << "<rect x=\"" << W - R + 12 << "\" y=\"" << ly - 6
      << "\" width=\"14\" height=\"12\" fill=\"" << chart_color(k) << "\"/><text x=\"" << W - R + 32
      << "\" y=\"" << ly + 4 << "\">" << escape(series_names[k]) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

std::string bubble_chart(const std::string& title, const std::string& x_label,
                         const std::string& y_label, const std::string& note,
                         const std::vector<Bubble>& bubbles) {
  const double W = 760, H = 480, L = 70, R = 30, T = 50, B = 60;
  double xmin = 1e300, xmax = 0, ymin = 1e300, ymax = -1e300;
  for (const Bubble& p : bubbles) {
    xmin = std::min(xmin, p.x), xmax = std::max(xmax, p.x);
    ymin = std::min(ymin, p.y), ymax = std::max(ymax, p.y);
  }
  if (xmax <= 0) xmin = 1, xmax = 10, ymin = 0, ymax = 100;
  // room on the right for the labels that follow the markers
  double lx0 = std::log10(xmin) - 0.1, lx1 = std::log10(xmax) + 0.45;
  if (lx1 - lx0 < 0.5) lx0 -= 0.25, lx1 += 0.25;
  double y0 = std::floor(ymin - 2), y1 = std::ceil(ymax + 2);
  auto X = [&](double v) { return L + (std::log10(v) - lx0) / (lx1 - lx0) * (W - L - R); };
  auto Y = [&](double v) { return T + (y1 - v) / (y1 - y0) * (H - T - B); };
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
       "fill=\"white\"/>\n";
  o << "<text x=\"" << W / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">"
    << escape(title) << "</text>\n";
  o << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << W - L - R << "\" height=\""
    << H - T - B << "\" fill=\"none\" stroke=\"#333\"/>\n";
  for (double e = std::floor(lx0); e <= lx1; e += 1)
    for (double m : {1.0, 2.0, 5.0}) {
      double v = m * std::pow(10.0, e);
      if (std::log10(v) < lx0 || std::log10(v) > lx1) continue;
      o << "<line x1=\"" << X(v) << "\" x2=\"" << X(v) << "\" y1=\"" << T << "\" y2=\"" << H - B
        << "\" stroke=\"#ddd\"/><text x=\"" << X(v) << "\" y=\"" << H - B + 16
        << "\" text-anchor=\"middle\">" << chart_tick(v) << "</text>\n";
    }
  for (double v : linear_ticks(y0, y1))
    o << "<line x1=\"" << L << "\" x2=\"" << W - R << "\" y1=\"" << Y(v) << "\" y2=\"" << Y(v)
      << "\" stroke=\"#ddd\"/><text x=\"" << L - 6 << "\" y=\"" << Y(v) + 4
      << "\" text-anchor=\"end\">" << chart_tick(v) << "</text>\n";
  o << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << H - 18 << "\" text-anchor=\"middle\">"
    << escape(x_label) << "</text>\n";
  o << "<text x=\"18\" y=\"" << (T + H - B) / 2
    << "\" text-anchor=\"middle\" transform=\"rotate(-90 18 " << (T + H - B) / 2 << ")\">"
    << escape(y_label) << "</text>\n";
  for (size_t i = 0; i < bubbles.size(); ++i) {
    const Bubble& p = bubbles[i];
    double rad = 4 + 26 * std::sqrt(p.area);
    o << "<circle cx=\"" << X(p.x) << "\" cy=\"" << Y(p.y) << "\" r=\"" << rad << "\" fill=\""
      << chart_color(i) << "\" fill-opacity=\"0.45\" stroke=\"" << chart_color(i) << "\"/>\n";
    o << "<text x=\"" << X(p.x) + rad + 3 << "\" y=\"" << Y(p.y) + 4 << "\">" << escape(p.label)
      << "</text>\n";
  }
  o << "<text x=\"" << W - R << "\" y=\"" << T - 8 << "\" text-anchor=\"end\" fill=\"#555\">"
    << escape(note) << "</text>\n</svg>\n";
  return o.str();
}

}  // namespace lra::svg
