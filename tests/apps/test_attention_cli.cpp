// lra_cpu attention end to end (the built binary): PNG and SVG pictures are written and
// readable; an unknown model, a bad --len or --out extension exit with code 2 and say why.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "apps/cli_run.hpp"
#include "data/png.hpp"
#include "lra/core/io.hpp"

namespace fs = std::filesystem;

namespace {

fs::path scratch_dir() {
  return lra_test::fresh_scratch("attention_cli", "");
}

using lra_test::Outcome;

// Runs `lra_cpu attention <args>` in `dir`.
Outcome attention(const fs::path& dir, const std::string& args) {
  return lra_test::run_cli(dir, "attention " + args);
}

}  // namespace

TEST_CASE("cli attention: writes a PNG of N*scale pixels and an SVG with its title") {
  const fs::path dir = scratch_dir();
  Outcome r = attention(dir, "--model local --len 32 --attn block=8 --scale 2 --out local.png");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("local (block=8): N=32") != std::string::npos);
  const lra::data::GrayImage img = lra::data::read_png_gray((dir / "local.png").string());
  CHECK(img.width == 64);
  CHECK(img.height == 64);
  CHECK(img.at(0, 0) < 255);    // query 0 sees key 0 (same block)
  CHECK(img.at(63, 0) == 255);  // query 0 does not see key 31 (another block)

  r = attention(dir, "--model bigbird --len 64 --out bigbird.svg");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const std::string svg = lra::read_file((dir / "bigbird.svg").string());
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
  CHECK(svg.find("bigbird (block=4): N=64, head 0") != std::string::npos);
  CHECK(fs::directory_iterator(dir) != fs::directory_iterator());
  for (const auto& e : fs::directory_iterator(dir))  // atomic writes leave no temp files
    CHECK_MESSAGE(e.path().filename().string().find(".tmp") == std::string::npos, e.path());
}

TEST_CASE("cli attention: bad requests exit with code 2 and name the problem") {
  const fs::path dir = scratch_dir();
  Outcome r = attention(dir, "--model nosuch --len 16 --out x.png");
  CHECK(r.code == 2);
  CHECK(r.err.find("unknown attention mechanism 'nosuch'") != std::string::npos);
  CHECK(r.err.find("performer") != std::string::npos);  // the valid names are listed

  r = attention(dir, "--model local --len 0 --out x.png");
  CHECK(r.code == 2);
  CHECK(r.err.find("--len 0 is outside") != std::string::npos);

  r = attention(dir, "--model local --len 100000 --out x.png");
  CHECK(r.code == 2);
  CHECK(r.err.find("--len 100000") != std::string::npos);

  r = attention(dir, "--model local --len 16 --out x.jpg");
  CHECK(r.code == 2);
  CHECK(r.err.find("unknown extension") != std::string::npos);

  r = attention(dir, "--model local --len 16 --attn block --out x.png");
  CHECK(r.code == 2);
  CHECK(r.err.find("'block' is not of the form name=value") != std::string::npos);

  r = attention(dir, "--len 16 --out x.png");  // neither a mechanism nor a run
  CHECK(r.code == 2);
  CHECK(r.err.find("--model is required (or --run DIR") != std::string::npos);

  r = attention(dir, "--model local --run somewhere --out x.png");
  CHECK(r.code == 2);
  CHECK(r.err.find("--model comes from the run folder") != std::string::npos);

  r = attention(dir, "--run " + dir.string() + " --out x.png");  // no config.json there
  CHECK(r.code == 2);
  CHECK(r.err.find("is not a run folder (no config.json)") != std::string::npos);

  r = attention(dir, "--model transformer --len 16 --order buckets --out x.png");
  CHECK(r.code == 2);
  CHECK(r.err.find("transformer has no bucket order") != std::string::npos);
  CHECK(!fs::exists(dir / "x.png"));
}
