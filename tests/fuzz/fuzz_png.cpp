// PNG decoding as the Pathfinder reader does it (lra/src/data/png.hpp): the first byte picks the
// task's size (32, 64 or 128), the rest is the file.
#include "data/png.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int64_t side = int64_t(32) << (data[0] % 3);
  const std::span<const uint8_t> png(data + 1, size - 1);
  lra_fuzz::expect_ok_or_lra_error([&] {
    const lra::data::GrayImage img =
        lra::data::decode_png_gray(png, "fuzz.png", {side, side, 8, "(fuzz)"});
    if (img.width != side || img.height != side || img.pixels.size() != size_t(side * side))
      __builtin_trap();
  });
  return 0;
}
