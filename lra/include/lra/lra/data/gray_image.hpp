// An 8-bit grayscale image: what the image tasks read (PNG decoding is private to the data
// room, lra/src/data/png.hpp) and what the Pathfinder generator draws.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lra::data {

struct GrayImage {
  int64_t width = 0;
  int64_t height = 0;
  std::vector<uint8_t> pixels;  // row-major, width * height values

  uint8_t at(int64_t x, int64_t y) const { return pixels[size_t(y * width + x)]; }
};

}  // namespace lra::data
