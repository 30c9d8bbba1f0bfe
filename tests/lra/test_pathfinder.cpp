// Pathfinder / Path-X readers: release layout from PNGs encoded here, skips, errors, training.
#include <doctest/doctest.h>
#include <spng.h>

#include <cstdlib>

#include "data/png.hpp"
#include "lra/lra/data/pathfinder.hpp"
#include "lra/task_helpers.hpp"

using namespace lra_test;
using lra::data::GrayImage;

namespace {

// A size x size image: a diagonal stroke whose brightness depends on k (never all black).
GrayImage test_image(int64_t size, int k) {
  GrayImage img;
  img.width = img.height = size;
  img.pixels.assign(size_t(size * size), 0);
  for (int64_t i = 0; i < size; ++i) img.pixels[size_t(i * size + i)] = uint8_t(40 + 10 * (k % 20));
  img.pixels[size_t(k % (size * size))] = 255;
  return img;
}

std::string png_bytes(const GrayImage& img) {
  const std::vector<uint8_t> b = lra::data::encode_png_gray(img);
  return std::string(b.begin(), b.end());
}

// An 8-bit RGB PNG encoded with libspng directly (the reader converts it to gray).
std::string rgb_png(int64_t size, uint8_t r, uint8_t g, uint8_t b) {
  std::vector<uint8_t> px(size_t(size * size * 3));
  for (size_t i = 0; i < px.size(); i += 3) px[i] = r, px[i + 1] = g, px[i + 2] = b;
  spng_ctx* ctx = spng_ctx_new(SPNG_CTX_ENCODER);
  spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
  spng_ihdr ihdr{};
  ihdr.width = ihdr.height = uint32_t(size);
  ihdr.bit_depth = 8;
  ihdr.color_type = SPNG_COLOR_TYPE_TRUECOLOR;
  spng_set_ihdr(ctx, &ihdr);
  REQUIRE(spng_encode_image(ctx, px.data(), px.size(), SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE) == 0);
  size_t len = 0;
  int err = 0;
  void* buf = spng_get_png_buffer(ctx, &len, &err);
  std::string out(static_cast<char*>(buf), len);
  std::free(buf);
  spng_ctx_free(ctx);
  return out;
}

// <dir>/curv_contour_length_14 with two batches (metadata/0.npy, metadata/1.npy) of n/2
// images each; labels alternate 1, 0, ...
fs::path make_release(const std::string& name, int64_t size, int n) {
  const fs::path root = fresh_dir("pathfinder", name) / lra::data::kPathfinderDifficulty;
  for (int b = 0; b < 2; ++b) {
    std::string meta;
    for (int i = 0; i < n / 2; ++i) {
      const std::string file = "sample_" + std::to_string(i) + ".png";
      write_bytes(root / "imgs" / std::to_string(b) / file,
                  png_bytes(test_image(size, b * 100 + i)));
      meta += "imgs/" + std::to_string(b) + " " + file + " " + std::to_string(i) + " " +
              ((b * 100 + i) % 2 ? "0" : "1") + " 1.0 14 4 2 0.5 1 1\n";
    }
    write_bytes(root / "metadata" / (std::to_string(b) + ".npy"), meta);
  }
  return root.parent_path();
}

}  // namespace

TEST_CASE("pathfinder: release layout is read in metadata order, split 80/10/10, then 3 steps") {
  const fs::path dir = make_release("good", 32, 20);
  const lra::TaskInfo& task = lra::find_task("pathfinder");
  CHECK(task.seq_len == 1024);
  // a colour image, an empty PNG file and an all-black image in an extra batch
  const fs::path root = dir / lra::data::kPathfinderDifficulty;
  write_bytes(root / "imgs" / "10" / "sample_0.png", rgb_png(32, 0, 255, 0));
  write_bytes(root / "imgs" / "10" / "sample_1.png", "");
  GrayImage black = test_image(32, 0);
  std::fill(black.pixels.begin(), black.pixels.end(), uint8_t{0});
  write_bytes(root / "imgs" / "10" / "sample_2.png", png_bytes(black));
  write_bytes(root / "metadata" / "10.npy",
              "imgs/10 sample_0.png 0 1 1.0 14\nimgs/10 sample_1.png 1 1 1.0 14\n\n"
              "imgs/10 sample_2.png 2 0 1.0 14\n");

  const lra::TaskData d = task.load(dir.string(), 0);  // DIR = parent of the difficulty folder
  REQUIRE(d.train.examples.size() == 16);              // 21 kept images: 16 / 2 / 3
  REQUIRE(d.val.examples.size() == 2);
  REQUIRE(d.test.examples.size() == 3);
  const GrayImage first = test_image(32, 0);
  CHECK(d.train.examples[0].tokens ==
        std::vector<int32_t>(first.pixels.begin(), first.pixels.end()));
  CHECK(d.train.examples[0].label == 1);
  CHECK(d.train.examples[1].label == 0);
  CHECK(d.test.examples.back().tokens[0] == lra::data::luminance(0, 255, 0));  // 10.npy after 1.npy
  REQUIRE(d.notes.size() == 1);
  CHECK(d.notes[0].find("skipped 1 empty PNG file(s) and 1 all-black image(s) of 23") !=
        std::string::npos);

  const lra::DataCheck c = lra::check_data(task, (dir / lra::data::kPathfinderDifficulty).string());
  CHECK(c.ok);
  CHECK(c.report.find("disconnected 8, connected 8") != std::string::npos);
  train_few_steps(task, d, fresh_dir("pathfinder", "run"), 1024);
}

TEST_CASE("pathx: 128x128 release layout is read and trains (on the first 512 pixels)") {
  const fs::path dir = make_release("pathx", 128, 10);
  const lra::TaskInfo& task = lra::find_task("pathx");
  CHECK(task.seq_len == 128 * 128);
  const lra::TaskData d = task.load(dir.string(), 0);
  REQUIRE(d.train.examples.size() == 8);
  REQUIRE(d.val.examples.size() == 1);
  CHECK(d.train.examples[0].tokens.size() == 128 * 128);
  train_few_steps(task, d, fresh_dir("pathfinder", "pathx-run"), 512);
  // the 32x32 task refuses these images
  const std::string e = data_error([&] { lra::find_task("pathfinder").load(dir.string(), 0); });
  CHECK(e.find("image is 128x128; expected 32x32") != std::string::npos);
}

TEST_CASE("pathfinder: missing or corrupt PNGs and bad metadata name the file and line") {
  const fs::path dir = make_release("bad", 32, 10);
  const fs::path root = dir / lra::data::kPathfinderDifficulty;
  auto error = [&] {
    return data_error([&] { lra::data::read_pathfinder_folder(dir.string(), 32); });
  };

  fs::remove(root / "imgs" / "1" / "sample_3.png");
  std::string e = error();
  CHECK(e.find("imgs/1/sample_3.png: cannot open file") != std::string::npos);
  CHECK(e.find("(listed at ") != std::string::npos);
  CHECK(e.find("metadata/1.npy:4)") != std::string::npos);
  fs::create_directories(root / "imgs" / "1" / "sample_3.png");
  e = error();
  CHECK(e.find("imgs/1/sample_3.png: is a directory, expected a file") != std::string::npos);
  CHECK(e.find("metadata/1.npy:4)") != std::string::npos);
  fs::remove(root / "imgs" / "1" / "sample_3.png");

  const std::string good = png_bytes(test_image(32, 3));
  write_bytes(root / "imgs" / "1" / "sample_3.png", good.substr(0, good.size() / 2));
  e = error();
  CHECK(e.find("imgs/1/sample_3.png: ") != std::string::npos);
  CHECK(e.find("expected a valid PNG image") != std::string::npos);

  write_bytes(root / "imgs" / "1" / "sample_3.png", "GIF89a this is not a PNG at all");
  CHECK(error().find("imgs/1/sample_3.png: ") != std::string::npos);
  write_bytes(root / "imgs" / "1" / "sample_3.png", good);
  CHECK(error().empty());

  const fs::path meta = root / "metadata" / "0.npy";
  write_bytes(meta, "imgs/0 sample_0.png 0 1\nimgs/0 sample_1.png 1\n");
  e = error();
  CHECK(e.find("metadata/0.npy:2: 3 column(s); expected at least 4 space-separated columns") !=
        std::string::npos);
  write_bytes(meta, "imgs/0 sample_0.png 0 7 1.0\n");
  CHECK(error().find("metadata/0.npy:1: label '7' in column 4; expected 0 or 1") !=
        std::string::npos);
  write_bytes(meta, std::string("\x93NUMPY\x01\x00", 8) + "{'descr': '<U21'}\n");
  CHECK(error().find("metadata/0.npy:1: a binary NumPy array") != std::string::npos);

  const lra::DataCheck c = lra::check_data(lra::find_task("pathfinder"), dir.string());
  CHECK_FALSE(c.ok);
  CHECK(c.report.find("FAILED: ") != std::string::npos);
  CHECK(c.report.find("binary NumPy") != std::string::npos);

  fs::remove_all(root / "metadata");
  CHECK(error().find("no metadata/ folder") != std::string::npos);
}

namespace {

// A PNG made of `chunks` (type, data), each with its length and CRC; `crc_delta` is added to
// the CRC of the chunk of type `bad_crc`.
std::string raw_png(const std::vector<std::pair<std::string, std::string>>& chunks,
                    const std::string& bad_crc = "") {
  auto be32 = [](uint32_t v) {
    return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  };
  std::string out = "\x89PNG\r\n\x1a\n";
  for (const auto& [type, data] : chunks) {
    const std::string body = type + data;
    uint32_t crc =
        lra::data::png_crc32({reinterpret_cast<const uint8_t*>(body.data()), body.size()});
    if (type == bad_crc) crc += 1;
    out += be32(uint32_t(data.size())) + body + be32(crc);
  }
  return out;
}

std::string ihdr(uint32_t side, char bit_depth, char color_type) {
  auto be32 = [](uint32_t v) {
    return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  };
  return be32(side) + be32(side) + std::string{bit_depth, color_type, 0, 0, 0};
}

}  // namespace

TEST_CASE("pathfinder: a PNG header is checked against the task before decoding; CRCs count") {
  using lra::data::decode_png_gray;
  const lra::data::PngExpect pf{32, 32, 8, "(pathfinder)"};
  auto decode_error = [&](const std::string& png, const lra::data::PngExpect& expect) {
    return data_error([&] {
      decode_png_gray({reinterpret_cast<const uint8_t*>(png.data()), png.size()}, "x.png", expect);
    });
  };
  // 68 bytes claiming 16384x16384 RGBA16 (1 GiB decoded): refused on the header.
  const std::string huge =
      raw_png({{"IHDR", ihdr(16384, 16, 6)}, {"IDAT", std::string(11, '\x78')}, {"IEND", ""}});
  CHECK(huge.size() == 68);
  CHECK(decode_error(huge, pf).find("x.png: image is 16384x16384; expected 32x32 (pathfinder)") !=
        std::string::npos);
  CHECK(decode_error(huge, {0, 0, 8, ""})
            .find("x.png: image has 16-bit RGBA samples; expected "
                  "at most 8 bits per sample") != std::string::npos);

  // A good 32x32 gray PNG, then the same with a bad IDAT CRC and with a changed IDAT byte.
  const std::vector<uint8_t> good_v = lra::data::encode_png_gray(test_image(32, 1));
  const std::string good(good_v.begin(), good_v.end());
  CHECK(decode_error(good, pf).empty());
  const size_t idat = good.find("IDAT");
  REQUIRE(idat != std::string::npos);
  const size_t idat_len = size_t(uint8_t(good[idat - 2])) << 8 | uint8_t(good[idat - 1]);
  std::string bad_crc = good;
  bad_crc[idat + 4 + idat_len] ^= 1;
  CHECK(decode_error(bad_crc, pf).find("x.png: chunk 'IDAT' at byte ") != std::string::npos);
  CHECK(decode_error(bad_crc, pf).find("fails its CRC check") != std::string::npos);
  std::string bad_data = good;
  bad_data[idat + 4 + idat_len / 2] ^= 0x10;
  CHECK(decode_error(bad_data, pf).find("fails its CRC check") != std::string::npos);
  // an ancillary chunk with a bad CRC is refused too
  std::string text = raw_png({{"IHDR", ihdr(32, 8, 0)}, {"tEXt", std::string("a\0b", 3)}}, "tEXt");
  text += good.substr(good.find("IDAT") - 4);
  CHECK(decode_error(text, pf).find("chunk 'tEXt'") != std::string::npos);
}

TEST_CASE("pathfinder: metadata paths stay inside the data folder") {
  const fs::path dir = make_release("escape", 32, 4);
  const fs::path meta = dir / lra::data::kPathfinderDifficulty / "metadata" / "0.npy";
  auto error = [&] {
    return data_error([&] { lra::data::read_pathfinder_folder(dir.string(), 32); });
  };
  write_bytes(meta, "imgs/0 sample_0.png 0 1\n../../../.. etc/passwd 1 0\n");
  std::string e = error();
  CHECK(e.find("metadata/0.npy:2: image path '../../../../etc/passwd' leaves the data folder") !=
        std::string::npos);
  write_bytes(meta, "/etc passwd 0 1\n");
  CHECK(error().find("metadata/0.npy:1: image path '/etc/passwd' leaves the data folder") !=
        std::string::npos);
  write_bytes(meta, "imgs/0/../0 sample_0.png 0 1\n");
  CHECK(error().find("leaves the data folder") != std::string::npos);
  write_bytes(meta, "./imgs/0 sample_0.png 0 1\nimgs/0 sample_1.png 1 0\n");
  CHECK(error().empty());
}
