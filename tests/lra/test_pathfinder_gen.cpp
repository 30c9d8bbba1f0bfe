// Pathfinder generator: labels, markers at contour ends, connectivity of the rendered pixels
// (own flood fill), determinism across thread counts, release layout round trip, training.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <queue>

#include "lra/core/threading.hpp"
#include "lra/lra/pathfinder.hpp"
#include "lra/lra/pathfinder_gen.hpp"
#include "lra/task_helpers.hpp"

using namespace lra_test;
using namespace lra::data;

namespace {

// Breadth-first flood fill over pixels > 0, steps of Chebyshev distance <= link; written
// independently of pathfinder_connected. Returns the set of reached pixels.
std::vector<uint8_t> flood(const GrayImage& img, int64_t x0, int64_t y0, int link) {
  const int64_t w = img.width, h = img.height;
  std::vector<uint8_t> reached(size_t(w * h), 0);
  if (img.at(x0, y0) == 0) return reached;
  std::queue<std::pair<int64_t, int64_t>> q;
  q.push({x0, y0});
  reached[size_t(y0 * w + x0)] = 1;
  while (!q.empty()) {
    const auto [x, y] = q.front();
    q.pop();
    for (int64_t dy = -link; dy <= link; ++dy)
      for (int64_t dx = -link; dx <= link; ++dx) {
        const int64_t nx = x + dx, ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
        if (reached[size_t(ny * w + nx)] || img.at(nx, ny) == 0) continue;
        reached[size_t(ny * w + nx)] = 1;
        q.push({nx, ny});
      }
  }
  return reached;
}

int64_t px(double v) {
  return int64_t(std::floor(v));
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Every file under dir, relative path -> bytes.
std::map<std::string, std::string> tree(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = slurp(e.path());
  return out;
}

// The properties of one sample that the task promises.
void check_sample(const PathfinderParams& p, const PathfinderSample& s) {
  const GrayImage& img = s.image;
  REQUIRE(img.width == p.size);
  REQUIRE(img.height == p.size);
  CHECK(s.target_paddles[0] == p.contour_length);
  CHECK(s.target_paddles[1] == p.contour_length);
  // markers: at the origin tip of snake `origin` and at the terminal tip of the same snake
  // (label 1) or of the other (label 0)
  const int other = s.label ? s.origin : 1 - s.origin;
  CHECK(s.markers[0].x == s.tips[size_t(s.origin)][0].x);
  CHECK(s.markers[0].y == s.tips[size_t(s.origin)][0].y);
  CHECK(s.markers[1].x == s.tips[size_t(other)][1].x);
  CHECK(s.markers[1].y == s.tips[size_t(other)][1].y);
  // both markers are drawn: the pixel under each centre is fully covered at intensity 1.0
  CHECK(img.at(px(s.markers[0].x), px(s.markers[0].y)) == 255);
  CHECK(img.at(px(s.markers[1].x), px(s.markers[1].y)) == 255);
  // the marked tips are far apart along a contour of 14 paddles, never the same point
  CHECK(std::hypot(s.markers[0].x - s.markers[1].x, s.markers[0].y - s.markers[1].y) > 0.5);
  // connectivity on the rendered pixels
  const auto reached = flood(img, px(s.markers[0].x), px(s.markers[0].y), p.link);
  const bool connected = reached[size_t(px(s.markers[1].y) * p.size + px(s.markers[1].x))] != 0;
  CHECK(connected == (s.label == 1));
  CHECK(pathfinder_connected(img, px(s.markers[0].x), px(s.markers[0].y), px(s.markers[1].x),
                             px(s.markers[1].y), p.link) == connected);
  // both ends of both targets are lit
  for (const auto& tips : s.tips)
    for (const PfPoint& t : tips) CHECK(img.at(px(t.x), px(t.y)) > 0);
}

}  // namespace

TEST_CASE("pathfinder generator: parameter sets of LRA's builder") {
  const PathfinderParams p32 = pathfinder_params(32);
  CHECK(p32.paddle_length == 2);
  CHECK(p32.marker_radius == 1.5);
  CHECK(p32.seed_distance == 7);
  CHECK(p32.contour_length == 14);
  CHECK(p32.distractor_length == 4);
  CHECK(p32.num_distractors == 5);
  CHECK(pathfinder_params(64).continuity == 1.8);
  CHECK(pathfinder_params(128).margins == std::vector<double>{2, 3});
  CHECK(pathfinder_params(128).num_distractors == 8);
  CHECK_THROWS_AS(pathfinder_params(48), lra::ConfigError);
}

TEST_CASE("pathfinder generator 32x32: balanced labels, markers at contour ends, flood fill") {
  const PathfinderParams p = pathfinder_params(32);
  int positives = 0, with_distractors = 0;
  const int n = 200;
  for (int i = 0; i < n; ++i) {
    const PathfinderSample s = render_pathfinder(p, pathfinder_image_key(7, 32, i));
    check_sample(p, s);
    positives += s.label;
    with_distractors += s.distractors > 0;
  }
  CHECK(positives > n * 35 / 100);  // Bernoulli(0.5): 100 +- 7 (1 sd)
  CHECK(positives < n * 65 / 100);
  CHECK(with_distractors > n * 9 / 10);
}

TEST_CASE("pathfinder generator 64x64 and 128x128: the same properties") {
  for (int64_t size : {64, 128}) {
    const PathfinderParams p = pathfinder_params(size);
    for (int i = 0; i < 20; ++i) {
      CAPTURE(size);
      CAPTURE(i);
      check_sample(p, render_pathfinder(p, pathfinder_image_key(3, size, i)));
    }
  }
}

TEST_CASE(
    "pathfinder generator: a connected pair stays connected through a distractor-free "
    "path only (labels 0 are really cut)") {
  // For label 0 the fill from marker 0 must not reach any pixel of the other target's tips.
  const PathfinderParams p = pathfinder_params(32);
  int negatives = 0;
  for (int i = 0; negatives < 30; ++i) {
    const PathfinderSample s = render_pathfinder(p, pathfinder_image_key(11, 32, i));
    if (s.label) continue;
    ++negatives;
    const auto reached = flood(s.image, px(s.markers[0].x), px(s.markers[0].y), p.link);
    const auto& far = s.tips[size_t(1 - s.origin)];
    for (const PfPoint& t : far) CHECK(reached[size_t(px(t.y) * 32 + px(t.x))] == 0);
    // and the fill does reach the other end of its own snake
    const PfPoint own_end = s.tips[size_t(s.origin)][1];
    CHECK(reached[size_t(px(own_end.y) * 32 + px(own_end.x))] == 1);
  }
}

TEST_CASE("pathfinder generator: files are deterministic for a seed, whatever the threads") {
  PathfinderGenConfig cfg;
  cfg.size = 32;
  cfg.count = 60;
  cfg.seed = 5;
  cfg.per_batch = 25;  // 3 batches: 25, 25, 10
  const int before = lra::num_threads();
  lra::set_num_threads(1);
  const fs::path a = fresh_dir("pathfinder_gen", "one-thread");
  write_pathfinder_dataset(a.string(), cfg);
  lra::set_num_threads(2);
  const fs::path b = fresh_dir("pathfinder_gen", "two-threads");
  size_t last_done = 0;
  write_pathfinder_dataset(b.string(), cfg, [&](size_t done, size_t total) {
    CHECK(total == 60);
    CHECK(done > last_done);
    last_done = done;
  });
  lra::set_num_threads(before);
  CHECK(last_done == 60);
  const auto ta = tree(a), tb = tree(b);
  CHECK(ta.size() == 60 + 3);
  CHECK(ta == tb);
  CHECK(ta.count("curv_contour_length_14/imgs/2/sample_9.png") == 1);
  CHECK(ta.count("curv_contour_length_14/metadata/2.npy") == 1);

  // image i is the same whatever the batch size
  cfg.per_batch = 1000;
  const fs::path c = fresh_dir("pathfinder_gen", "one-batch");
  write_pathfinder_dataset(c.string(), cfg);
  CHECK(slurp(c / "curv_contour_length_14/imgs/0/sample_57.png") ==
        ta.at("curv_contour_length_14/imgs/2/sample_7.png"));

  // another seed gives other images
  cfg.seed = 6;
  const fs::path d = fresh_dir("pathfinder_gen", "other-seed");
  write_pathfinder_dataset(d.string(), cfg);
  CHECK(slurp(d / "curv_contour_length_14/imgs/0/sample_0.png") !=
        slurp(c / "curv_contour_length_14/imgs/0/sample_0.png"));
}

TEST_CASE("pathfinder generator: the reader reads what it writes; labels and pixels survive") {
  PathfinderGenConfig cfg;
  cfg.size = 32;
  cfg.count = 50;
  cfg.seed = 9;
  const fs::path dir = fresh_dir("pathfinder_gen", "round-trip");
  write_pathfinder_dataset(dir.string(), cfg);
  const std::string meta = slurp(dir / "curv_contour_length_14/metadata/0.npy");
  CHECK(meta.rfind("imgs/0 sample_0.png 0 ", 0) == 0);

  const lra::TaskInfo& task = lra::find_task("pathfinder");
  const lra::TaskData d = task.load(dir.string(), 0);
  REQUIRE(d.train.examples.size() == 40);
  REQUIRE(d.val.examples.size() == 5);
  REQUIRE(d.test.examples.size() == 5);
  const PathfinderParams p = pathfinder_params(32);
  for (int i : {0, 17, 39}) {
    const PathfinderSample s = render_pathfinder(p, pathfinder_image_key(9, 32, i));
    CHECK(d.train.examples[size_t(i)].label == s.label);
    CHECK(d.train.examples[size_t(i)].tokens ==
          std::vector<int32_t>(s.image.pixels.begin(), s.image.pixels.end()));
    // the decoded file keeps the connectivity property
    const GrayImage back = read_png_gray(
        (dir / "curv_contour_length_14/imgs/0" / ("sample_" + std::to_string(i) + ".png"))
            .string());
    const auto reached = flood(back, px(s.markers[0].x), px(s.markers[0].y), p.link);
    CHECK((reached[size_t(px(s.markers[1].y) * 32 + px(s.markers[1].x))] == 1) == (s.label == 1));
  }
}

TEST_CASE("pathfinder tasks: train --task pathfinder generates its own data (3 steps)") {
  const lra::TaskInfo& task = lra::find_task("pathfinder");
  REQUIRE(task.generate);
  lra::GenerateOptions g;
  g.train = 80;
  g.val = 10;
  g.test = 10;
  g.seed = 2;
  const fs::path dir = fresh_dir("pathfinder_gen", "task-generate");
  task.generate(dir.string(), g);
  const lra::DataCheck c = lra::check_data(task, dir.string());
  CHECK(c.ok);
  CHECK(c.report.find("train: 80 examples") != std::string::npos);
  train_few_steps(task, c.data, fresh_dir("pathfinder_gen", "task-run"), 1024);

  // the fixed-size tasks refuse another size; `pathfinder` writes any of the three
  g.image_size = 64;
  CHECK_THROWS_AS(lra::find_task("pathx").generate(dir.string(), g), lra::ConfigError);
  g.train = 8;
  g.val = g.test = 1;
  const fs::path d64 = fresh_dir("pathfinder_gen", "task-generate-64");
  task.generate(d64.string(), g);
  CHECK(lra::check_data(lra::find_task("pathfinder64"), d64.string()).ok);
}
