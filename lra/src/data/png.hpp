// 8-bit grayscale images and PNG files (decoded and encoded with libspng, never by hand), and
// an indexed-colour encoder for pictures (attention patterns: lra/measure/pattern.hpp).
//
// The image tasks see pixels as tokens 0..255. Every PNG is decoded to one 8-bit gray plane:
//   grayscale, 1/2/4/8 bit      -> values scaled to 0..255 by libspng (SPNG_FMT_G8)
//   anything else (16-bit gray, RGB, palette, with alpha)
//                               -> RGBA8 from libspng, then luminance() of R,G,B; alpha is
//                                  ignored (Pathfinder images are opaque gray).
// luminance() is TensorFlow's tf.image.rgb_to_grayscale on uint8, which LRA used for CIFAR-10:
//   y = 0.2989 r + 0.5870 g + 0.1140 b  computed on r/255, g/255, b/255 in float32, then
//   converted back to uint8 as trunc(y * 255.5)  (tf.image.convert_image_dtype, no saturate).
// So gray (v, v, v) -> v for every v, and (255, 0, 0) -> 76, (0, 255, 0) -> 149,
// (0, 0, 255) -> 29.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "lra/lra/data/gray_image.hpp"

namespace lra::data {

// TF's rgb_to_grayscale for one uint8 pixel (see the banner).
uint8_t luminance(uint8_t r, uint8_t g, uint8_t b);

// What a reader expects of an image, checked on the PNG header before any pixel is decoded
// (so a 68-byte file claiming 16384x16384 RGBA16 fails at once, with no large allocation).
struct PngExpect {
  int64_t width = 0, height = 0;  // 0: any size up to 16384
  int max_bit_depth = 16;         // bits per sample (8: refuse 16-bit images)
  std::string hint;               // appended to a size error, e.g. which task wants which size
};

// Decodes PNG bytes. `name` (usually the file path) prefixes every error message.
// Throws lra::DataError "<name>: <problem>; expected a PNG image" for bytes that are not a
// PNG, are truncated, have a chunk whose CRC does not match, are wider/taller than 16384
// pixels, or whose header differs from `expect`.
GrayImage decode_png_gray(std::span<const uint8_t> png, const std::string& name,
                          const PngExpect& expect = {});

// Reads and decodes one file; DataError naming the path when it is missing or unreadable.
GrayImage read_png_gray(const std::string& path, const PngExpect& expect = {});

// The CRC-32 of PNG chunks (ISO 3309, the same as zlib's crc32) over `bytes`.
uint32_t png_crc32(std::span<const uint8_t> bytes);

// Encodes an 8-bit grayscale PNG. Throws lra::Error on an inconsistent image.
std::vector<uint8_t> encode_png_gray(const GrayImage& image);

// An 8-bit indexed-colour picture: each pixel is an index into a palette of 1..256 RGB colours.
struct IndexedImage {
  int64_t width = 0;
  int64_t height = 0;
  std::vector<uint8_t> pixels;  // row-major palette indices, width * height values
  std::vector<std::array<uint8_t, 3>> palette;
};

// A tEXt chunk: keyword of 1..79 Latin-1 characters (e.g. "Title", "Description") and text.
struct PngText {
  std::string keyword, text;
};

// Encodes an indexed-colour PNG with optional tEXt chunks. Throws lra::Error on an inconsistent
// image (sizes, palette size, an index outside the palette, a bad keyword).
std::vector<uint8_t> encode_png_indexed(const IndexedImage& image,
                                        const std::vector<PngText>& text = {});

// Writes encode_png_gray(image) to `path` (not atomic, not synced: for bulk data whose
// completeness is marked by a later file). Throws lra::IoError naming the path.
void write_png_gray(const std::string& path, const GrayImage& image);

}  // namespace lra::data
