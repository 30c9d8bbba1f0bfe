// Pathfinder generator: snakes, markers, 2x supersampled rendering, release layout writer
// (see pathfinder_gen.hpp and Note [Pathfinder connectivity] there).
#include "lra/lra/pathfinder_gen.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/core/rng.hpp"
#include "lra/core/threading.hpp"
#include "lra/lra/pathfinder.hpp"

namespace lra::data {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kCandidates = 24;          // turn angles tried per paddle
constexpr int kMaxAttempts = 1000;       // layouts per image before giving up
constexpr int kDistractorSeeds = 20;     // places tried for a distractor's first paddle
constexpr int kBacktracks = 40;          // paddles taken back per target snake and attempt
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

double dist_to_segment(double px, double py, const Stroke& s) {
  const double dx = s.b.x - s.a.x, dy = s.b.y - s.a.y;
  const double len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((px - s.a.x) * dx + (py - s.a.y) * dy) / len2 : 0.0;
  t = std::clamp(t, 0.0, 1.0);
  const double ex = s.a.x + t * dx - px, ey = s.a.y + t * dy - py;
  return std::sqrt(ex * ex + ey * ey);
}

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
    // The render pixels holding the two end points are always lit, so a thin paddle's tips
    // (where markers go) are never lost between pixel centres.
    const int ua = int(std::floor(st.a.x * s_)), va = int(std::floor(st.a.y * s_));
    const int ub = int(std::floor(st.b.x * s_)), vb = int(std::floor(st.b.y * s_));
    for (int v = v0; v <= v1; ++v)
      for (int u = u0; u <= u1; ++u) {
        const bool end_point = (u == ua && v == va) || (u == ub && v == vb);
        if (!end_point && dist_to_segment((u + 0.5) / s_, (v + 0.5) / s_, st) > st.r) continue;
        sub.push_back(v * side + u);
        const int32_t f = (v / s_) * n_ + (u / s_);
        if (stamp_[size_t(f)] != generation_) {
          stamp_[size_t(f)] = generation_;
          fin.push_back(f);
        }
      }
    return !fin.empty();
  }

  // Note [Pathfinder connectivity]: no pixel of another snake within `link` of fin; for a
  // paddle (piece >= 0) no pixel of an older paddle of the same snake touching fin, and, when
  // need_link, some pixel of the previous paddle within `link`.
  bool fits(const std::vector<int32_t>& fin, int id, int piece, bool need_link) const {
    const int L = p_.link;
    bool linked = !need_link;
    for (int32_t f : fin) {
      const int fx = f % n_, fy = f / n_;
      for (int y = std::max(0, fy - L); y <= std::min(n_ - 1, fy + L); ++y)
        for (int x = std::max(0, fx - L); x <= std::min(n_ - 1, fx + L); ++x) {
          const size_t q = size_t(y) * size_t(n_) + size_t(x);
          const int o = owner_[q];
          if (o < 0) continue;
          if (o != id) return false;
          if (piece < 0) continue;
          const int pc = piece_[q];
          if (pc == piece - 1)
            linked = true;
          else if (pc < piece - 1 && std::abs(x - fx) <= 1 && std::abs(y - fy) <= 1)
            return false;
        }
    }
    return linked;
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
  std::vector<Step> history;  // one entry per paddle
};

class Painter {
 public:
  Painter(const PathfinderParams& p, Canvas& cv, Rng& rng, double margin)
      : p_(p), cv_(cv), rng_(rng), margin_(margin) {
    radius_ = std::max(p.paddle_thickness / 2, 0.5 / p.scale);
  }

  // Adds the next paddle of `sn`, from `from` along `theta`, if it fits.
  bool try_paddle(Snake& sn, PfPoint from, double theta, bool need_link) {
    const PfPoint b{from.x + p_.paddle_length * std::cos(theta),
                    from.y + p_.paddle_length * std::sin(theta)};
    const double lo = p_.padding, hi = double(p_.size - p_.padding);
    if (!cv_.rasterize({from, b, radius_}, lo, hi, false, sub_, fin_)) return false;
    if (!cv_.fits(fin_, sn.id, sn.paddles, need_link)) return false;
    sn.history.push_back({cv_.mark(), sn.end, sn.theta});
    cv_.commit(sub_, fin_, sn.id, sn.paddles, float(p_.contrast));
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
      const PfPoint from{sn.end.x + margin_ * std::cos(theta),
                         sn.end.y + margin_ * std::sin(theta)};
      if (try_paddle(sn, from, theta, true)) return true;
      w[j] = 0;
    }
  }

  // Grows `sn` to `length` paddles. When it gets stuck, its last paddle is taken back and
  // regrown with new draws, at most `backtracks` times (the first paddle is never taken back).
  bool grow(Snake& sn, int length, int backtracks) {
    while (sn.paddles < length) {
      if (extend(sn)) continue;
      if (backtracks-- <= 0 || sn.paddles <= 1) return false;
      const Snake::Step last = sn.history.back();
      sn.history.pop_back();
      cv_.undo(last.before);
      sn.end = last.end;
      sn.theta = last.theta;
      --sn.paddles;
    }
    return true;
  }

  bool marker(PfPoint c, int id) {
    cv_.rasterize({c, c, p_.marker_radius}, 0, 0, true, sub_, fin_);
    if (!cv_.fits(fin_, id, -1, false)) return false;
    cv_.commit(sub_, fin_, id, kMarkerPiece, 1.0f);
    return true;
  }

 private:
  const PathfinderParams& p_;
  Canvas& cv_;
  Rng& rng_;
  double margin_;
  double radius_;
  std::vector<int32_t> sub_, fin_;
};

int64_t pixel_of(double v, int64_t n) {
  return std::clamp<int64_t>(int64_t(std::floor(v)), 0, n - 1);
}

// One layout attempt; false when it does not fit (the caller retries with a new stream).
bool attempt(const PathfinderParams& p, Rng& rng, int32_t label, PathfinderSample& out) {
  Canvas cv(p);
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
  for (Snake& sn : target)
    if (!paint.grow(sn, p.contour_length, kBacktracks)) return false;

  // Markers: origin tip of snake o, terminal tip of o (label 1) or of the other one (label 0).
  const int o = int(rng.below(2));
  const int t = label ? o : 1 - o;
  const PfPoint m0 = target[o].origin, m1 = target[t].end;
  if (!paint.marker(m0, o) || !paint.marker(m1, t)) return false;

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

  // Verify Note [Pathfinder connectivity] on the 8-bit pixels.
  GrayImage img = cv.image();
  const int64_t ax = pixel_of(m0.x, p.size), ay = pixel_of(m0.y, p.size);
  const int64_t bx = pixel_of(m1.x, p.size), by = pixel_of(m1.y, p.size);
  if (img.at(ax, ay) == 0 || img.at(bx, by) == 0) return false;
  if (pathfinder_connected(img, ax, ay, bx, by, p.link) != (label == 1)) return false;

  out.image = std::move(img);
  out.label = label;
  out.margin = margin;
  out.origin = o;
  for (int s = 0; s < 2; ++s) {
    out.tips[size_t(s)] = {target[s].origin, target[s].end};
    out.target_paddles[size_t(s)] = target[s].paddles;
  }
  out.markers = {m0, m1};
  out.distractors = distractors;
  out.distractor_paddles = distractor_paddles;
  return true;
}

}  // namespace

PathfinderParams pathfinder_params(int64_t size) {
  PathfinderParams p;
  p.size = size;
  p.scale = 2;
  p.contour_length = 14;
  p.distractor_length = 14 / 3;  // 4 (Python 2 division in the upstream wrapper)
  p.padding = 1;
  if (size == 32) {
    p.paddle_length = 2;
    p.paddle_thickness = 0.5;
    p.margins = {1};
    p.marker_radius = 1.5;
    p.seed_distance = 7;
    p.continuity = 1.0;
    p.num_distractors = 20 / p.distractor_length;  // 5
    p.contrast = 1.0;                              // paddle 0.75 x snake 2, saturated
    p.link = 1;
    p.source = "LRA data/pathfinder.py Pathfinder32 docstring";
  } else if (size == 64) {
    p.paddle_length = 5;  // not customised by LRA: snakes2_wrapper default
    p.paddle_thickness = 1;
    p.margins = {1};
    p.marker_radius = 2.5;
    p.seed_distance = 12;
    p.continuity = 1.8;
    p.num_distractors = 22 / p.distractor_length;  // 5
    p.contrast = 0.8;
    p.link = 1;
    p.source = "LRA data/pathfinder.py Pathfinder64 docstring; paddle_length 5 = upstream default";
  } else if (size == 128) {
    p.paddle_length = 5;  // not customised by LRA: snakes2_wrapper default
    p.paddle_thickness = 1.5;
    p.margins = {2, 3};
    p.marker_radius = 3;
    p.seed_distance = 20;
    p.continuity = 1.8;
    p.num_distractors = 35 / p.distractor_length;  // 8
    p.contrast = 0.9;
    p.link = 2;
    p.source = "LRA data/pathfinder.py Pathfinder128 docstring; paddle_length 5 = upstream default";
  } else {
    throw ConfigError(detail::concat("pathfinder image size ", size,
                                     "; expected 32, 64 or 128 (the LRA parameter sets)"));
  }
  return p;
}

uint64_t pathfinder_image_key(uint64_t seed, int64_t size, int64_t index) {
  return rng_key(seed, {rng_tag("pathfinder"), uint64_t(size), uint64_t(index)});
}

PathfinderSample render_pathfinder(const PathfinderParams& p, uint64_t key) {
  // The label comes from its own stream so that it does not depend on how many layouts fail.
  const int32_t label = int32_t(random_below(rng_key(key, {rng_tag("label")}), 0, 2));
  PathfinderSample out;
  for (int a = 0; a < kMaxAttempts; ++a) {
    Rng rng{rng_key(key, {rng_tag("layout"), uint64_t(a)}), 0};
    if (attempt(p, rng, label, out)) {
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
  const PathfinderParams p = pathfinder_params(cfg.size);
  LRA_CHECK(cfg.count > 0, ConfigError, "pathfinder image count ", cfg.count,
            "; expected at least 1");
  LRA_CHECK(cfg.per_batch > 0, ConfigError, "pathfinder images per batch ", cfg.per_batch,
            "; expected at least 1");
  namespace fs = std::filesystem;
  const fs::path root = fs::path(dir) / kPathfinderDifficulty;
  make_dirs((root / "metadata").string());
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
