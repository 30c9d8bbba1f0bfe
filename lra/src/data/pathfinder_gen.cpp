// Pathfinder generator: snakes, markers, supersampled rendering, release layout writer (see
// pathfinder_gen.hpp, its two styles and Note [Pathfinder connectivity] there).
#include "lra/lra/data/pathfinder_gen.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/png.hpp"
#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/core/rng.hpp"
#include "lra/core/threading.hpp"
#include "lra/lra/data/pathfinder.hpp"

namespace lra::data {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kCandidates = 24;          // turn angles tried per paddle
constexpr int kMaxAttempts = 1000;       // layouts per image before giving up
constexpr int kDistractorSeeds = 20;     // places tried for a distractor's first paddle
constexpr int kBacktracks = 40;          // paddles taken back per target snake and attempt
constexpr int kCueRegrows = 16;          // regrowths of target 1's tail per attempt (cue)
constexpr int kCueTail = 4;              // paddles of that tail
constexpr int16_t kMarkerPiece = 30000;  // piece index of marker pixels (after every paddle)

// Draws from one counter-based stream.
struct Rng {
  uint64_t key = 0;
  uint64_t counter = 0;
  double uniform() { return double(uniform01(key, counter++)); }
  uint64_t below(uint64_t n) { return random_below(key, counter++, n); }
};

// A capsule: the points within r of segment a-b (a disc when a == b).
struct Stroke {
  PfPoint a, b;
  double r = 0;
};

// The image being drawn: render-resolution intensities plus, per output pixel, which snake
// lit it (owner, -1 = background) and with which of its paddles (piece).
class Canvas {
 public:
  explicit Canvas(const PathfinderParams& p)
      : p_(p),
        n_(int(p.size)),
        s_(p.scale),
        hi_(size_t(n_ * s_) * size_t(n_ * s_), 0.0f),
        owner_(size_t(n_) * size_t(n_), -1),
        piece_(size_t(n_) * size_t(n_), 0),
        stamp_(size_t(n_) * size_t(n_), 0) {}

  // Render pixels (sub) and output pixels (fin, unique) lit by `st`. Returns false when the
  // stroke's bounding box leaves [lo, hi]^2 (output pixel units); pass clip = true to clip to
  // the canvas instead.
  bool rasterize(const Stroke& st, double lo, double hi, bool clip, std::vector<int32_t>& sub,
                 std::vector<int32_t>& fin) {
    sub.clear();
    fin.clear();
    const double x0 = std::min(st.a.x, st.b.x) - st.r, x1 = std::max(st.a.x, st.b.x) + st.r;
    const double y0 = std::min(st.a.y, st.b.y) - st.r, y1 = std::max(st.a.y, st.b.y) + st.r;
    if (!clip && (x0 < lo || y0 < lo || x1 > hi || y1 > hi)) return false;
    const int side = n_ * s_;
    const int u0 = std::max(0, int(std::floor(x0 * s_))), u1 = std::min(side - 1, int(x1 * s_));
    const int v0 = std::max(0, int(std::floor(y0 * s_))), v1 = std::min(side - 1, int(y1 * s_));
    ++generation_;
    // the stroke in render pixel units; a render pixel is inside when its centre is
    const double ax = st.a.x * s_, ay = st.a.y * s_, dx = (st.b.x - st.a.x) * s_,
                 dy = (st.b.y - st.a.y) * s_, len2 = dx * dx + dy * dy;
    const double inv_len2 = len2 > 0 ? 1 / len2 : 0.0, r2 = st.r * st.r * s_ * s_;
    // The render pixels holding the two end points are always lit, so a thin paddle's tips
    // (where markers go) are never lost between pixel centres.
    const int ua = int(std::floor(st.a.x * s_)), va = int(std::floor(st.a.y * s_));
    const int ub = int(std::floor(st.b.x * s_)), vb = int(std::floor(st.b.y * s_));
    for (int v = v0; v <= v1; ++v)
      for (int u = u0; u <= u1; ++u) {
        const bool end_point = (u == ua && v == va) || (u == ub && v == vb);
        if (!end_point) {
          const double px = u + 0.5 - ax, py = v + 0.5 - ay;
          const double t = std::clamp((px * dx + py * dy) * inv_len2, 0.0, 1.0);
          const double ex = t * dx - px, ey = t * dy - py;
          if (ex * ex + ey * ey > r2) continue;
        }
        sub.push_back(v * side + u);
        const int32_t f = (v / s_) * n_ + (u / s_);
        if (stamp_[size_t(f)] != generation_) {
          stamp_[size_t(f)] = generation_;
          fin.push_back(f);
        }
      }
    return !fin.empty();
  }

  // No pixel of another snake within L (connected: `link`, Note [Pathfinder connectivity];
  // release: `clearance`) of fin; for a paddle (piece >= 0) no pixel of an older paddle of the
  // same snake touching fin, and, when need_link, some pixel of the previous paddle within L.
  bool fits(const std::vector<int32_t>& fin, int id, int piece, bool need_link) const {
    bool linked = !need_link;
    for (int32_t f : fin) {
      const Near near = near_pixel(f, id, piece);
      if (near == Near::Blocked) return false;
      linked = linked || near == Near::Linked;
    }
    return linked;
  }

  // Would fits() refuse a stroke lighting the output pixel under q? (A cheap test before
  // rasterising: the pixels under a paddle's end points are always lit.)
  bool blocked(PfPoint q, int id, int piece) const {
    const int x = int(std::floor(q.x)), y = int(std::floor(q.y));
    if (x < 0 || y < 0 || x >= n_ || y >= n_) return false;
    return near_pixel(y * n_ + x, id, piece) == Near::Blocked;
  }

  // Draws a stroke; the previous values go to a journal so that undo() can take it back.
  void commit(const std::vector<int32_t>& sub, const std::vector<int32_t>& fin, int id, int piece,
              float value) {
    for (int32_t u : sub) {
      hi_log_.push_back({u, hi_[size_t(u)]});
      hi_[size_t(u)] = std::max(hi_[size_t(u)], value);
    }
    for (int32_t f : fin) {
      px_log_.push_back({f, owner_[size_t(f)], piece_[size_t(f)]});
      owner_[size_t(f)] = int8_t(id);
      piece_[size_t(f)] = int16_t(piece);
    }
  }

  struct Mark {
    size_t hi = 0, px = 0;
  };
  Mark mark() const { return {hi_log_.size(), px_log_.size()}; }

  // Restores the canvas to what it was at `m` (strokes committed since are removed).
  void undo(Mark m) {
    while (hi_log_.size() > m.hi) {
      hi_[size_t(hi_log_.back().index)] = hi_log_.back().value;
      hi_log_.pop_back();
    }
    while (px_log_.size() > m.px) {
      const PxLog& e = px_log_.back();
      owner_[size_t(e.index)] = e.owner;
      piece_[size_t(e.index)] = e.piece;
      px_log_.pop_back();
    }
  }

  // Box-filtered 8-bit image.
  GrayImage image() const {
    GrayImage img;
    img.width = img.height = n_;
    img.pixels.resize(size_t(n_) * size_t(n_));
    const int side = n_ * s_;
    const float norm = 255.0f / float(s_ * s_);
    for (int y = 0; y < n_; ++y)
      for (int x = 0; x < n_; ++x) {
        float sum = 0;
        for (int v = y * s_; v < (y + 1) * s_; ++v)
          for (int u = x * s_; u < (x + 1) * s_; ++u)
            sum += hi_[size_t(v) * size_t(side) + size_t(u)];
        img.pixels[size_t(y) * size_t(n_) + size_t(x)] =
            uint8_t(std::min(255L, std::lround(sum * norm)));
      }
    return img;
  }

 private:
  enum class Near { Free, Linked, Blocked };

  // What lies within L of output pixel f, for fits().
  Near near_pixel(int32_t f, int id, int piece) const {
    const int L = p_.style == PathfinderStyle::Connected ? p_.link : p_.clearance;
    const int fx = f % n_, fy = f / n_;
    Near near = Near::Free;
    for (int y = std::max(0, fy - L); y <= std::min(n_ - 1, fy + L); ++y)
      for (int x = std::max(0, fx - L); x <= std::min(n_ - 1, fx + L); ++x) {
        const size_t q = size_t(y) * size_t(n_) + size_t(x);
        const int o = owner_[q];
        if (o < 0) continue;
        if (o != id) return Near::Blocked;
        if (piece < 0) continue;
        const int pc = piece_[q];
        if (pc == piece - 1)
          near = Near::Linked;
        else if (pc < piece - 1 && std::abs(x - fx) <= 1 && std::abs(y - fy) <= 1)
          return Near::Blocked;
      }
    return near;
  }

  const PathfinderParams& p_;
  int n_, s_;
  std::vector<float> hi_;        // (n*s)^2 render intensities
  std::vector<int8_t> owner_;    // n^2 snake ids (0, 1 targets; 2.. distractors)
  std::vector<int16_t> piece_;   // n^2 paddle index within the owner snake
  std::vector<uint32_t> stamp_;  // n^2 dedupe marks for rasterize
  uint32_t generation_ = 0;
  struct HiLog {
    int32_t index;
    float value;
  };
  struct PxLog {
    int32_t index;
    int8_t owner;
    int16_t piece;
  };
  std::vector<HiLog> hi_log_;  // journal of commit(), newest last
  std::vector<PxLog> px_log_;
};

struct Snake {
  int id = 0;
  PfPoint origin, end;  // origin tip, current terminal tip
  double theta = 0;     // direction of the last paddle
  int paddles = 0;
  struct Step {
    Canvas::Mark before;  // the canvas before this paddle
    PfPoint end;          // the terminal tip and direction before this paddle
    double theta;
  };
  std::vector<Step> history;                       // one entry per paddle
  std::vector<std::array<PfPoint, 2>> paddles_at;  // {start, end} per paddle
};

class Painter {
 public:
  Painter(const PathfinderParams& p, Canvas& cv, Rng& rng, double margin)
      : p_(p), cv_(cv), rng_(rng), margin_(margin) {
    radius_ = std::max(p.paddle_thickness / 2, 0.5 / p.scale);
    // release: the ink of consecutive paddles is `margin` apart; connected: the centre lines
    gap_ = p.style == PathfinderStyle::Release ? margin + 2 * radius_ : margin;
    need_link_ = p.style == PathfinderStyle::Connected;
  }

  // Adds the next paddle of `sn`, from `from` along `theta`, if it fits.
  bool try_paddle(Snake& sn, PfPoint from, double theta, bool need_link) {
    const PfPoint b{from.x + p_.paddle_length * std::cos(theta),
                    from.y + p_.paddle_length * std::sin(theta)};
    const double lo = p_.padding, hi = double(p_.size - p_.padding);
    if (cv_.blocked(from, sn.id, sn.paddles) || cv_.blocked(b, sn.id, sn.paddles)) return false;
    if (!cv_.rasterize({from, b, radius_}, lo, hi, false, sub_, fin_)) return false;
    if (!cv_.fits(fin_, sn.id, sn.paddles, need_link)) return false;
    sn.history.push_back({cv_.mark(), sn.end, sn.theta});
    cv_.commit(sub_, fin_, sn.id, sn.paddles, float(p_.contrast));
    sn.paddles_at.push_back({from, b});
    if (sn.paddles == 0) sn.origin = from;
    sn.end = b;
    sn.theta = theta;
    ++sn.paddles;
    return true;
  }

  // The next paddle: a turn drawn with weight cos^2(min(continuity*|delta|, pi/2)) among the
  // candidates that fit; false when none fits.
  bool extend(Snake& sn) {
    const double jitter = rng_.uniform();
    double w[kCandidates];
    for (int j = 0; j < kCandidates; ++j) {
      const double delta = -kPi + (j + jitter) * (2 * kPi / kCandidates);
      const double a = p_.continuity * std::abs(delta);
      w[j] = a >= kPi / 2 ? 0.0 : std::cos(a) * std::cos(a);
    }
    for (;;) {
      double total = 0;
      for (double x : w) total += x;
      if (total <= 1e-12) return false;
      double r = rng_.uniform() * total;
      int j = -1;
      for (int c = 0; c < kCandidates; ++c) {
        if (w[c] == 0) continue;
        j = c;  // the last candidate with weight, should rounding leave r >= 0 at the end
        if (r < w[c]) break;
        r -= w[c];
      }
      const double theta = sn.theta - kPi + (j + jitter) * (2 * kPi / kCandidates);
      const PfPoint from{sn.end.x + gap_ * std::cos(theta), sn.end.y + gap_ * std::sin(theta)};
      if (try_paddle(sn, from, theta, need_link_)) return true;
      w[j] = 0;
    }
  }

  // Grows `sn` to `length` paddles. When it gets stuck, its last paddle is taken back and
  // regrown with new draws, at most `backtracks` times (the first paddle is never taken back).
  bool grow(Snake& sn, int length, int backtracks) {
    while (sn.paddles < length) {
      if (extend(sn)) continue;
      if (backtracks-- <= 0 || sn.paddles <= 1) return false;
      take_back(sn, 1);
    }
    return true;
  }

  // Removes the last n paddles of `sn` (the newest strokes on the canvas).
  void take_back(Snake& sn, int n) {
    for (; n > 0; --n) {
      const Snake::Step last = sn.history.back();
      sn.history.pop_back();
      sn.paddles_at.pop_back();
      cv_.undo(last.before);
      sn.end = last.end;
      sn.theta = last.theta;
      --sn.paddles;
    }
  }

  // Does a marker disc at c on snake `id` keep clear of the other snakes?
  bool marker_fits(PfPoint c, int id) {
    cv_.rasterize({c, c, p_.marker_radius}, 0, 0, true, sub_, fin_);
    return cv_.fits(fin_, id, -1, false);
  }

  void marker(PfPoint c, int id) {
    cv_.rasterize({c, c, p_.marker_radius}, 0, 0, true, sub_, fin_);
    cv_.commit(sub_, fin_, id, kMarkerPiece, 1.0f);
  }

 private:
  const PathfinderParams& p_;
  Canvas& cv_;
  Rng& rng_;
  double margin_;
  double radius_, gap_;
  bool need_link_ = true;
  std::vector<int32_t> sub_, fin_;
};

double dist(PfPoint a, PfPoint b) {
  return std::hypot(a.x - b.x, a.y - b.y);
}

// The two marker pairs of one choice (Note [Pathfinder distance cue]): pair[1] (label 1) =
// origin and terminal tip of snake s; pair[0] (label 0) = origin tip of s and terminal tip of
// the other (variant 0) or origin tip of the other and terminal tip of s (variant 1).
struct MarkerChoice {
  std::array<int, 2> origin_snake, terminal_snake;  // per label
};

MarkerChoice marker_choice(int s, int variant) {
  return variant == 0 ? MarkerChoice{{s, s}, {1 - s, s}} : MarkerChoice{{1 - s, s}, {s, s}};
}

// May the markers go as `c`? Both pairs' distances within max_cue_gap of each other, and all
// discs inside the image and clear of the other snakes (checked for both labels' pairs, so
// that refusals do not depend on the label).
bool marker_choice_fits(const PathfinderParams& p, const Snake (&target)[2], MarkerChoice c,
                        Painter& paint) {
  double d[2];
  const double r = p.marker_radius, n = double(p.size);
  for (int l = 0; l < 2; ++l) {
    const PfPoint a = target[c.origin_snake[l]].origin, b = target[c.terminal_snake[l]].end;
    d[l] = dist(a, b);
    for (PfPoint q : {a, b})
      if (q.x < r || q.y < r || q.x > n - r || q.y > n - r) return false;
  }
  if (std::abs(d[0] - d[1]) > p.max_cue_gap) return false;
  for (int l = 0; l < 2; ++l)
    if (!paint.marker_fits(target[c.origin_snake[l]].origin, c.origin_snake[l]) ||
        !paint.marker_fits(target[c.terminal_snake[l]].end, c.terminal_snake[l]))
      return false;
  return true;
}

// A choice that fits, drawn uniformly among the four (without looking at the label); false
// when none fits.
bool choose_markers(const PathfinderParams& p, const Snake (&target)[2], Rng& rng, Painter& paint,
                    MarkerChoice& out) {
  const int first = int(rng.below(4));
  for (int k = 0; k < 4; ++k) {
    const int c = (first + k) % 4;
    out = marker_choice(c / 2, c % 2);
    if (marker_choice_fits(p, target, out, paint)) return true;
  }
  return false;
}

int64_t pixel_of(double v, int64_t n) {
  return std::clamp<int64_t>(int64_t(std::floor(v)), 0, n - 1);
}

// One layout attempt on an empty canvas (left as the attempt drew it); false when it does not
// fit (the caller empties the canvas and retries with a new stream).
bool attempt(const PathfinderParams& p, Canvas& cv, Rng& rng, int32_t label,
             PathfinderSample& out) {
  const double margin = p.margins[size_t(rng.below(p.margins.size()))];
  Painter paint(p, cv, rng, margin);
  const double n = double(p.size), sd = p.seed_distance;

  // Target seeds: the first origin at least 2*seed_distance from the borders (the centre when
  // the image is too small for that), the second seed_distance away in a random direction.
  double lo = 2 * sd, hi = n - 2 * sd;
  if (hi <= lo) lo = n / 2 - 1, hi = n / 2 + 1;
  const PfPoint t0{lo + (hi - lo) * rng.uniform(), lo + (hi - lo) * rng.uniform()};
  const double phi = 2 * kPi * rng.uniform();
  const PfPoint t1{t0.x + sd * std::cos(phi), t0.y + sd * std::sin(phi)};
  Snake target[2];
  target[0].id = 0;
  target[1].id = 1;
  if (!paint.try_paddle(target[0], t0, 2 * kPi * rng.uniform(), false)) return false;
  if (!paint.try_paddle(target[1], t1, 2 * kPi * rng.uniform(), false)) return false;
  // One snake after the other, so that backtracking only takes back the growing snake's
  // paddles (the canvas journal is a stack).
  // Markers as Note [Pathfinder distance cue]; when no choice fits, the last kCueTail
  // paddles of target 1 are regrown (cheaper than a new layout), at most kCueRegrows times.
  if (!paint.grow(target[0], p.contour_length, kBacktracks)) return false;
  const int tail = std::min(kCueTail, p.contour_length - 1);
  MarkerChoice choice;
  for (int regrow = 0;; ++regrow) {
    if (!paint.grow(target[1], p.contour_length, kBacktracks)) return false;
    if (choose_markers(p, target, rng, paint, choice)) break;
    if (regrow == kCueRegrows) return false;
    paint.take_back(target[1], tail);
  }
  const int o = choice.origin_snake[size_t(label)], t = choice.terminal_snake[size_t(label)];
  const PfPoint m0 = target[o].origin, m1 = target[t].end;
  paint.marker(m0, o);
  paint.marker(m1, t);

  // Distractors: shorter snakes wherever they fit; a stuck one stays short.
  int distractors = 0, distractor_paddles = 0;
  for (int d = 0; d < p.num_distractors; ++d) {
    Snake sn;
    sn.id = 2 + d;
    for (int tries = 0; tries < kDistractorSeeds && sn.paddles == 0; ++tries) {
      const PfPoint s{p.padding + (n - 2 * p.padding) * rng.uniform(),
                      p.padding + (n - 2 * p.padding) * rng.uniform()};
      paint.try_paddle(sn, s, 2 * kPi * rng.uniform(), false);
    }
    if (sn.paddles == 0) continue;
    while (sn.paddles < p.distractor_length && paint.extend(sn)) {
    }
    ++distractors;
    distractor_paddles += sn.paddles;
  }

  // Connected style: verify Note [Pathfinder connectivity] on the 8-bit pixels.
  GrayImage img = cv.image();
  const int64_t ax = pixel_of(m0.x, p.size), ay = pixel_of(m0.y, p.size);
  const int64_t bx = pixel_of(m1.x, p.size), by = pixel_of(m1.y, p.size);
  if (img.at(ax, ay) == 0 || img.at(bx, by) == 0) return false;
  if (p.style == PathfinderStyle::Connected &&
      pathfinder_connected(img, ax, ay, bx, by, p.link) != (label == 1))
    return false;

  out.image = std::move(img);
  out.label = label;
  out.margin = margin;
  out.origin = o;
  for (int s = 0; s < 2; ++s) {
    out.tips[size_t(s)] = {target[s].origin, target[s].end};
    out.target_paddles[size_t(s)] = target[s].paddles;
    out.paddles[size_t(s)] = target[s].paddles_at;
  }
  out.markers = {m0, m1};
  for (int l = 0; l < 2; ++l)
    out.pair_distance[size_t(l)] = dist(target[choice.origin_snake[size_t(l)]].origin,
                                        target[choice.terminal_snake[size_t(l)]].end);
  out.distractors = distractors;
  out.distractor_paddles = distractor_paddles;
  return true;
}

}  // namespace

PathfinderStyle pathfinder_style(const std::string& name) {
  if (name == "release") return PathfinderStyle::Release;
  if (name == "connected") return PathfinderStyle::Connected;
  throw ConfigError(detail::concat("pathfinder style '", name,
                                   "'; expected release (dashed, as the LRA release) or "
                                   "connected (touching dashes, an easier setting)"));
}

const char* pathfinder_style_name(PathfinderStyle s) {
  return s == PathfinderStyle::Release ? "release" : "connected";
}

PathfinderParams pathfinder_params(int64_t size, int contour_length, PathfinderStyle style) {
  LRA_CHECK(contour_length >= kMinContour && contour_length <= kMaxContour, ConfigError,
            "pathfinder contour length ", contour_length, "; expected ", kMinContour, "-",
            kMaxContour,
            ": 14 (curv_contour_length_14, LRA's), 9 and 6 (curv_baseline) as in the "
            "release, other lengths as easier or in-between settings");
  PathfinderParams p;
  p.style = style;
  p.size = size;
  // The builder lists antialias 2 at 32 (2 or 4 at 64 and 128) with a Lanczos resize; our box
  // filter needs 4 for graded edges (at 2 a 0.5-pixel paddle gives 5 grey levels).
  p.scale = style == PathfinderStyle::Release ? 4 : 2;
  p.contour_length = contour_length;
  p.distractor_length = contour_length / 3;  // Python 2 division in the upstream wrapper
  p.padding = 1;
  if (size == 32) {
    p.paddle_length = 2;
    p.paddle_thickness = 0.5;
    p.margins = {1};
    p.marker_radius = 1.5;
    p.seed_distance = 7;
    p.continuity = 1.0;
    p.num_distractors = 20 / p.distractor_length;  // 5 at contour length 14
    p.contrast = 1.0;                              // paddle 0.75 x snake 2, saturated
    p.link = 1;
    p.max_cue_gap = 0.5;
    p.source = "LRA data/pathfinder.py Pathfinder32 docstring";
  } else if (size == 64) {
    p.paddle_length = 5;  // not customised by LRA: snakes2_wrapper default
    p.paddle_thickness = 1;
    p.margins = {1};
    p.marker_radius = 2.5;
    p.seed_distance = 12;
    p.continuity = 1.8;
    p.num_distractors = 22 / p.distractor_length;  // 5 at contour length 14
    p.contrast = 0.8;
    p.link = 1;
    p.max_cue_gap = 2;
    p.source = "LRA data/pathfinder.py Pathfinder64 docstring; paddle_length 5 = upstream default";
  } else if (size == 128) {
    p.paddle_length = 5;  // not customised by LRA: snakes2_wrapper default
    p.paddle_thickness = 1.5;
    p.margins = {2, 3};
    p.marker_radius = 3;
    p.seed_distance = 20;
    p.continuity = 1.8;
    p.num_distractors = 35 / p.distractor_length;  // 8 at contour length 14
    p.contrast = 0.9;
    p.link = 2;
    p.max_cue_gap = 3;
    p.source = "LRA data/pathfinder.py Pathfinder128 docstring; paddle_length 5 = upstream default";
  } else {
    throw ConfigError(detail::concat("pathfinder image size ", size,
                                     "; expected 32, 64 or 128 (the LRA parameter sets)"));
  }
  p.clearance = std::max(1, int(std::ceil(p.margins.back())));
  return p;
}

std::string pathfinder_params_json(const PathfinderParams& p) {
  nlohmann::ordered_json j;
  j["style"] = pathfinder_style_name(p.style);
  j["size"] = p.size;
  j["antialias_scale"] = p.scale;
  j["paddle_length"] = p.paddle_length;
  j["paddle_thickness"] = p.paddle_thickness;
  j["paddle_margins"] = p.margins;
  j["marker_radius"] = p.marker_radius;
  j["seed_distance"] = p.seed_distance;
  j["continuity"] = p.continuity;
  j["contour_length"] = p.contour_length;
  j["distractor_length"] = p.distractor_length;
  j["num_distractors"] = p.num_distractors;
  j["contrast"] = p.contrast;
  j["padding"] = p.padding;
  j["link"] = p.link;
  j["clearance"] = p.clearance;
  j["max_cue_gap"] = p.max_cue_gap;
  j["source"] = p.source;
  return j.dump(2);
}

uint64_t pathfinder_image_key(uint64_t seed, int64_t size, int64_t index) {
  return rng_key(seed, {rng_tag("pathfinder"), uint64_t(size), uint64_t(index)});
}

PathfinderSample render_pathfinder(const PathfinderParams& p, uint64_t key) {
  // The label comes from its own stream so that it does not depend on how many layouts fail.
  const int32_t label = int32_t(random_below(rng_key(key, {rng_tag("label")}), 0, 2));
  PathfinderSample out;
  Canvas cv(p);
  for (int a = 0; a < kMaxAttempts; ++a) {
    Rng rng{rng_key(key, {rng_tag("layout"), uint64_t(a)}), 0};
    cv.undo({});
    if (attempt(p, cv, rng, label, out)) {
      out.attempts = a + 1;
      return out;
    }
  }
  throw Error(detail::concat("pathfinder generator: no layout fitted in ", kMaxAttempts,
                             " attempts for a ", p.size, "x", p.size,
                             " image; the parameters are too crowded"));
}

bool pathfinder_connected(const GrayImage& img, int64_t ax, int64_t ay, int64_t bx, int64_t by,
                          int link) {
  const int64_t w = img.width, h = img.height;
  auto lit = [&](int64_t x, int64_t y) { return img.pixels[size_t(y * w + x)] > 0; };
  if (!lit(ax, ay) || !lit(bx, by)) return false;
  std::vector<uint8_t> seen(size_t(w * h), 0);
  std::vector<int64_t> stack{ay * w + ax};
  seen[size_t(ay * w + ax)] = 1;
  while (!stack.empty()) {
    const int64_t q = stack.back();
    stack.pop_back();
    const int64_t qx = q % w, qy = q / w;
    if (qx == bx && qy == by) return true;
    for (int64_t y = std::max<int64_t>(0, qy - link); y <= std::min(h - 1, qy + link); ++y)
      for (int64_t x = std::max<int64_t>(0, qx - link); x <= std::min(w - 1, qx + link); ++x)
        if (!seen[size_t(y * w + x)] && lit(x, y)) {
          seen[size_t(y * w + x)] = 1;
          stack.push_back(y * w + x);
        }
  }
  return false;
}

void write_pathfinder_dataset(const std::string& dir, const PathfinderGenConfig& cfg,
                              const std::function<void(size_t, size_t)>& progress) {
  PathfinderParams p = pathfinder_params(cfg.size, cfg.contour_length, cfg.style);
  LRA_CHECK(cfg.distractors >= -1 && cfg.distractors <= 50, ConfigError, "pathfinder distractors ",
            cfg.distractors, "; expected 0 to 50 (or -1: LRA's count)");
  if (cfg.distractors >= 0) p.num_distractors = cfg.distractors;
  LRA_CHECK(cfg.count > 0, ConfigError, "pathfinder image count ", cfg.count,
            "; expected at least 1");
  LRA_CHECK(cfg.per_batch > 0, ConfigError, "pathfinder images per batch ", cfg.per_batch,
            "; expected at least 1");
  namespace fs = std::filesystem;
  const fs::path root = fs::path(dir) / pathfinder_difficulty_folder(cfg.contour_length);
  make_dirs((root / "metadata").string());
  nlohmann::ordered_json info;
  info["style"] = pathfinder_style_name(cfg.style);
  info["contour_length"] = cfg.contour_length;
  info["size"] = cfg.size;
  info["seed"] = cfg.seed;
  info["count"] = cfg.count;
  info["per_batch"] = cfg.per_batch;
  info["params"] = nlohmann::ordered_json::parse(pathfinder_params_json(p));
  write_file_atomic((root / "generator.json").string(), info.dump(2) + "\n");
  for (int64_t first = 0, b = 0; first < cfg.count; first += cfg.per_batch, ++b) {
    const int64_t m = std::min(cfg.per_batch, cfg.count - first);
    const std::string subdir = "imgs/" + std::to_string(b);
    make_dirs((root / subdir).string());
    std::vector<std::string> lines(static_cast<size_t>(m));
    parallel_for(m, 8, [&](int64_t begin, int64_t end) {
      char buf[256];
      for (int64_t i = begin; i < end; ++i) {
        const PathfinderSample s =
            render_pathfinder(p, pathfinder_image_key(cfg.seed, cfg.size, first + i));
        const std::string name = "sample_" + std::to_string(i) + ".png";
        write_png_gray((root / subdir / name).string(), s.image);
        // The upstream metadata row: subdir filename index label continuity contour_length
        // distractor_length paddle_length paddle_thickness margin #contrasts
        std::snprintf(buf, sizeof buf, "%s %s %lld %d %g %d %d %g %g %g 1\n", subdir.c_str(),
                      name.c_str(), (long long)i, int(s.label), p.continuity, p.contour_length,
                      p.distractor_length, p.paddle_length, p.paddle_thickness, s.margin);
        lines[size_t(i)] = buf;
      }
    });
    std::string meta;
    for (const std::string& l : lines) meta += l;
    write_file_atomic((root / "metadata" / (std::to_string(b) + ".npy")).string(), meta);
    if (progress) progress(size_t(first + m), size_t(cfg.count));
  }
}

}  // namespace lra::data
