// Attention pattern pictures (lra/measure/pattern.hpp): the PNG shows exactly the dense face's
// zeros, the SVG is well-formed, every mechanism renders, Reformer in bucket order, token labels, a
// run folder's trained model, and bad requests are ConfigErrors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "data/png.hpp"
#include "lra/attention/registry.hpp"
#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/lra/data/listops.hpp"
#include "lra/lra/measure/pattern.hpp"
#include "lra/lra/tasks/task.hpp"
#include "lra/lra/train/run.hpp"
#include "lra/lra/train/trainer.hpp"
#include "task_helpers.hpp"

using namespace lra;

namespace {

pattern::Pattern local_pattern(int64_t n, int64_t block, const std::string& text = "") {
  pattern::Options o;
  o.model = "local";
  o.len = n;
  o.seed = 3;
  o.text = text;
  o.params = {{"block", std::to_string(block)}};
  return pattern::compute(o);
}

std::string config_error(const pattern::Options& o) {
  try {
    pattern::compute(o);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("pattern: the local picture is white exactly where the dense face is zero") {
  const int64_t n = 24, block = 8;
  const pattern::Pattern p = local_pattern(n, block);
  REQUIRE(p.n == n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)  // local's dense face: its own block only
      CHECK_MESSAGE((p.at(i, j) > 0.0f) == (i / block == j / block), "i=" << i << " j=" << j);

  const int scale = 3;
  const data::GrayImage img = data::decode_png_gray(pattern::png(p, scale), "pattern.png");
  REQUIRE(img.width == n * scale);
  REQUIRE(img.height == n * scale);
  int mismatches = 0;
  for (int64_t y = 0; y < img.height; ++y)
    for (int64_t x = 0; x < img.width; ++x) {
      const bool white = img.at(x, y) == 255;
      mismatches += white != (p.at(y / scale, x / scale) == 0.0f);
    }
  CHECK(mismatches == 0);
}

TEST_CASE("pattern: padding from --text is white, the text block keeps its weights") {
  const pattern::Pattern p = local_pattern(16, 16, "hello");  // one block, 5 valid positions
  for (int64_t j = 0; j < 16; ++j) {
    CHECK((p.at(2, j) > 0.0f) == (j < 5));  // a valid query sees only valid keys
  }
  const pattern::Pattern q = local_pattern(16, 16, "world");
  CHECK(p.weights != q.weights);  // the input matters
}

TEST_CASE("pattern: colour indices and the palette") {
  const auto& pal = pattern::palette();
  REQUIRE(pal.size() == size_t(2 * pattern::kLevels + 1));
  CHECK(pattern::colour_index(0.0f, 1.0f) == 0);
  CHECK(pattern::colour_index(1.0f, 1.0f) == pattern::kLevels);       // darkest blue
  CHECK(pattern::colour_index(1e-9f, 1.0f) == 1);                     // tiny: lightest, not white
  CHECK(pattern::colour_index(-1.0f, 1.0f) == 2 * pattern::kLevels);  // darkest red
  for (size_t i = 1; i < pal.size(); ++i)  // nothing but index 0 decodes as white
    CHECK(data::luminance(pal[i][0], pal[i][1], pal[i][2]) < 250);
}

TEST_CASE("pattern: the SVG is one well-formed picture with its title and caption") {
  const pattern::Pattern p = local_pattern(32, 8);
  const std::string s = pattern::svg(p);
  CHECK(s.rfind("<svg", 0) == 0);
  CHECK(s.substr(s.size() - 7) == "</svg>\n");
  CHECK(s.find(p.title) != std::string::npos);
  CHECK(p.title.find("local (block=8): N=32, head 0") == 0);
  CHECK(s.find("white = exactly 0") != std::string::npos);
  // white cells are background, so at most the 32 x 8 in-block cells + ramp + frame are rects
  size_t rects = 0;
  for (size_t at = s.find("<rect"); at != std::string::npos; at = s.find("<rect", at + 1)) ++rects;
  CHECK(rects <= size_t(32 * 8 + pattern::kLevels + 2));
}

TEST_CASE("pattern: a dense face's SVG embeds the PNG instead of one rect per cell") {
  pattern::Options o;
  o.model = "transformer";
  o.len = 128;
  const pattern::Pattern p = pattern::compute(o);
  const std::string s = pattern::svg(p);
  CHECK(s.find("href=\"data:image/png;base64,iVBORw0KGgo") != std::string::npos);  // PNG magic
  size_t rects = 0;  // background, frame and colour ramp only
  for (size_t at = s.find("<rect"); at != std::string::npos; at = s.find("<rect", at + 1)) ++rects;
  CHECK(rects <= size_t(2 + 2 * pattern::kLevels));
  CHECK(s.size() < 4 * pattern::png(p, 1).size() + 20000);
  CHECK(pattern::svg(local_pattern(32, 8)).find("<image") == std::string::npos);  // sparse: rects
}

TEST_CASE("pattern: every mechanism renders; the sparse ones show zeros") {
  for (const attn::MechanismInfo& m : attn::mechanisms()) {
    pattern::Options o;
    o.model = m.name;
    o.len = 64;
    const pattern::Pattern p = pattern::compute(o);
    int64_t zeros = 0, finite = 0;
    for (float w : p.weights) {
      zeros += w == 0.0f;
      finite += std::isfinite(w);
    }
    CHECK_MESSAGE(finite == 64 * 64, m.name);
    // sinkhorn's soft sort mixes every block into the sorted keys: its face is dense
    const bool sparse = m.name == "local" || m.name == "sparse" || m.name == "longformer" ||
                        m.name == "bigbird" || m.name == "reformer";
    if (sparse) CHECK_MESSAGE(zeros > 64 * 64 / 4, m.name << ": " << zeros << " zeros");
    CHECK_MESSAGE(!pattern::png(p).empty(), m.name);
  }
}

TEST_CASE("pattern: bad requests are configuration errors that name the problem") {
  pattern::Options o;
  o.model = "nosuch";
  std::string e = config_error(o);
  CHECK(e.find("unknown attention mechanism 'nosuch'") != std::string::npos);
  CHECK(e.find("longformer") != std::string::npos);  // lists the valid names
  o.model = "local";
  o.len = 0;
  CHECK(config_error(o).find("--len 0") != std::string::npos);
  o.len = pattern::kMaxLen + 1;
  CHECK(config_error(o).find("--len") != std::string::npos);
  o.len = 4;
  o.text = "too long";
  CHECK(config_error(o).find("--text") != std::string::npos);
  o.text.clear();
  o.head = 2;
  CHECK(config_error(o).find("--head 2") != std::string::npos);
  o.head = 0;
  o.params = {{"blok", "4"}};
  CHECK(config_error(o).find("unknown parameter 'blok'") != std::string::npos);
  CHECK_THROWS_AS(pattern::check_output("a.jpg"), ConfigError);
  CHECK_NOTHROW(pattern::check_output("a.png"));
  CHECK_NOTHROW(pattern::check_output("a.svg"));
}

TEST_CASE("pattern: reformer in bucket order is the same face permuted, its chunks contiguous") {
  pattern::Options o;
  o.model = "reformer";
  o.len = 40;  // 10 buckets: chunks of c = 4 sorted slots
  o.seed = 5;
  const pattern::Pattern by_position = pattern::compute(o);
  o.order = "buckets";
  const pattern::Pattern by_bucket = pattern::compute(o);
  const int64_t n = o.len, c = 4;
  REQUIRE(by_bucket.n == n);
  std::vector<int32_t> sorted = by_bucket.order;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < n; ++i) REQUIRE(sorted[size_t(i)] == i);  // a permutation
  bool moved = false;
  for (int64_t s = 0; s < n; ++s) moved = moved || by_bucket.order[size_t(s)] != s;
  CHECK(moved);  // random bytes do not hash in position order
  for (int64_t s = 0; s < n; ++s)
    for (int64_t t = 0; t < n; ++t) {
      const float w = by_bucket.at(s, t);
      CHECK(w == by_position.at(by_bucket.order[size_t(s)], by_bucket.order[size_t(t)]));
      // a query sees its own chunk and the one before (chunk 0 wraps to the last)
      const int64_t cs = s / c, ct = t / c, before = cs == 0 ? n / c - 1 : cs - 1;
      if (w > 0.0f) CHECK_MESSAGE((ct == cs || ct == before), "s=" << s << " t=" << t);
    }
  CHECK(by_bucket.title.find("bucket order") != std::string::npos);

  o.model = "transformer";  // no bucket order
  CHECK(config_error(o).find("--order buckets: transformer has no bucket order") !=
        std::string::npos);
  o.order = "sorted";
  CHECK(config_error(o).find("--order sorted is not one of") != std::string::npos);
}

TEST_CASE("pattern: text input labels each position and the SVG draws the labels") {
  pattern::Options o;
  o.model = "local";
  o.len = 6;
  o.text = "ab c<";
  const pattern::Pattern p = pattern::compute(o);
  CHECK(p.labels == std::vector<std::string>{"a", "b", "\u2423", "c", "<", ""});
  const std::string svg = pattern::svg(p);
  CHECK(svg.find(">a</text>") != std::string::npos);
  CHECK(svg.find(">&lt;</text>") != std::string::npos);  // escaped
  o.text.clear();
  CHECK(pattern::compute(o).labels.empty());  // random bytes: no labels
  CHECK(pattern::svg(pattern::compute(o)).find("monospace") == std::string::npos);
}

TEST_CASE("pattern: a run folder's trained model on one of its examples, with token labels") {
  auto dir = lra_test::fresh_dir("pattern", "run");
  const TaskInfo& task = find_task("listops");
  GenerateOptions g;
  g.train = 4, g.val = 3, g.test = 2, g.min_len = 10, g.max_len = 30, g.seed = 2;
  const std::string data_dir = (dir / "data").string();
  task.generate(data_dir, g);
  const TaskData data = task.load(data_dir, 30);
  const std::string run = (dir / "run").string();
  make_dirs(run);
  Settings s;
  const std::pair<const char*, const char*> settings[] = {
      {"task", "listops"}, {"model", "transformer"}, {"max_len", "30"}, {"layers", "2"},
      {"dim", "16"},       {"heads", "2"},           {"qkv_dim", "16"}, {"mlp_dim", "16"},
      {"pooling", "cls"}};
  nlohmann::json cfg = {{"data_dir", data_dir}};
  for (const auto& [k, v] : settings) {
    s.set(k, v, "test");
    cfg["settings"][k] = {{"value", v}, {"source", "test"}};
  }
  write_file_atomic(run + "/config.json", cfg.dump());
  LraModel model(model_config(s, task));
  save_checked(run + "/best.safetensors", nn::module_state(model),
               {{"task", "listops"}, {"model", "transformer"}});

  pattern::Options o;
  o.run = run;
  o.sample = 1;
  o.layer = 1;
  const pattern::Pattern p = pattern::compute(o);
  const std::vector<int32_t>& ids = data.val.examples[1].tokens;
  REQUIRE(p.n == int64_t(ids.size()) + 1);  // CLS first
  REQUIRE(p.labels.size() == size_t(p.n));
  CHECK(p.labels[0] == "<cls>");
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string name = data::listops_token_name(ids[i]);
    CHECK(p.labels[i + 1] == (name == "X" ? "]" : name));
  }
  for (int64_t i = 0; i < p.n; ++i) {  // softmax rows over the unpadded example
    double sum = 0;
    for (int64_t j = 0; j < p.n; ++j) sum += p.at(i, j);
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-4));
  }
  CHECK(p.title.find("listops val example 1") != std::string::npos);
  CHECK(p.title.find("layer 1") != std::string::npos);

  o.sample = 3;  // the val split has 3 examples
  CHECK(config_error(o).find("--sample 3 is outside 0..2") != std::string::npos);
  o.sample = 0;
  o.layer = 2;
  CHECK(config_error(o).find("--layer 2 is outside 0..1") != std::string::npos);
  o.layer = 0;
  o.checkpoint = "last";
  CHECK_THROWS_AS(pattern::compute(o), CheckpointError);
}
