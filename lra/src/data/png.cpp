// PNG decode/encode through libspng, and TF's uint8 luminance (see png.hpp).
#include "data/png.hpp"

#include <spng.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "lra/core/error.hpp"
#include "lra/core/io.hpp"

namespace lra::data {
namespace {

constexpr uint32_t kMaxSide = 16384;

struct CtxFree {
  void operator()(spng_ctx* c) const { spng_ctx_free(c); }
};
using Ctx = std::unique_ptr<spng_ctx, CtxFree>;

[[noreturn]] void png_fail(const std::string& name, const char* step, int code) {
  throw DataError(detail::concat(name, ": ", step, " failed (libspng: ", spng_strerror(code),
                                 "); expected a valid PNG image"));
}

// Encodes `pixels` (the format set by the context's header) and returns the PNG bytes.
std::vector<uint8_t> encode_pixels(spng_ctx* ctx, const std::vector<uint8_t>& pixels) {
  int rc = spng_encode_image(ctx, pixels.data(), pixels.size(), SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
  LRA_CHECK(rc == 0, Error, "libspng: encoding failed (", spng_strerror(rc), ")");
  size_t len = 0;
  int err = 0;
  void* out = spng_get_png_buffer(ctx, &len, &err);
  LRA_CHECK(out && err == 0, Error, "libspng: no encoded buffer (", spng_strerror(err), ")");
  std::vector<uint8_t> bytes(static_cast<uint8_t*>(out), static_cast<uint8_t*>(out) + len);
  std::free(out);  // spng_get_png_buffer hands over a malloc'd buffer
  return bytes;
}

// Walks the chunks after the signature up to IEND and checks each one's length and CRC, so a
// corrupt file is refused whichever chunks libspng would skip or stop before.
void check_chunks(std::span<const uint8_t> png, const std::string& name) {
  auto be32 = [&](size_t at) {
    return uint32_t(png[at]) << 24 | uint32_t(png[at + 1]) << 16 | uint32_t(png[at + 2]) << 8 |
           uint32_t(png[at + 3]);
  };
  size_t at = 8;  // the signature is libspng's to check
  while (at + 12 <= png.size()) {
    const uint32_t length = be32(at);
    std::string type(reinterpret_cast<const char*>(png.data() + at + 4), 4);
    for (char& ch : type)
      if (!std::isalpha(static_cast<unsigned char>(ch))) ch = '?';  // printable in messages
    LRA_CHECK(length <= png.size() - at - 12, DataError, name, ": chunk '", type, "' at byte ", at,
              " claims ", length, " bytes but only ", png.size() - at - 12,
              " follow (the file is truncated); expected a valid PNG image");
    const uint32_t crc = png_crc32(png.subspan(at + 4, size_t(length) + 4));
    LRA_CHECK(crc == be32(at + 8 + length), DataError, name, ": chunk '", type, "' at byte ", at,
              " fails its CRC check (the file is corrupt); expected a valid PNG image");
    if (type == "IEND") return;
    at += size_t(length) + 12;
  }
  throw DataError(detail::concat(name, ": no IEND chunk (the file is truncated at byte ",
                                 png.size(), "); expected a valid PNG image"));
}

const char* color_name(uint8_t color_type) {
  switch (color_type) {
    case SPNG_COLOR_TYPE_GRAYSCALE:
      return "gray";
    case SPNG_COLOR_TYPE_TRUECOLOR:
      return "RGB";
    case SPNG_COLOR_TYPE_INDEXED:
      return "palette";
    case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA:
      return "gray+alpha";
    case SPNG_COLOR_TYPE_TRUECOLOR_ALPHA:
      return "RGBA";
    default:
      return "unknown colour type";
  }
}

}  // namespace

uint32_t png_crc32(std::span<const uint8_t> bytes) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (uint8_t b : bytes) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint8_t luminance(uint8_t r, uint8_t g, uint8_t b) {
  // tf.image.convert_image_dtype(uint8 -> float32) multiplies by 1/255; the weighted sum is
  // tf.tensordot; the way back multiplies by 255.5 and truncates.
  const float scale = 1.0f / 255.0f;
  const float y =
      float(r) * scale * 0.2989f + float(g) * scale * 0.5870f + float(b) * scale * 0.1140f;
  const float v = y * 255.5f;
  return v >= 255.0f ? uint8_t{255} : uint8_t(v);
}

GrayImage decode_png_gray(std::span<const uint8_t> png, const std::string& name,
                          const PngExpect& expect) {
  LRA_CHECK(!png.empty(), DataError, name, ": empty file (0 bytes); expected a PNG image");
  Ctx ctx(spng_ctx_new(0));
  LRA_CHECK(ctx, Error, "libspng: cannot create a decoder context (out of memory)");
  spng_set_image_limits(ctx.get(), kMaxSide, kMaxSide);
  spng_set_crc_action(ctx.get(), SPNG_CRC_ERROR, SPNG_CRC_ERROR);
  int rc = spng_set_png_buffer(ctx.get(), png.data(), png.size());
  if (rc) png_fail(name, "reading the PNG buffer", rc);
  spng_ihdr ihdr{};
  rc = spng_get_ihdr(ctx.get(), &ihdr);
  if (rc) png_fail(name, "reading the PNG header", rc);
  const bool size_ok = (expect.width == 0 || ihdr.width == expect.width) &&
                       (expect.height == 0 || ihdr.height == expect.height);
  LRA_CHECK(size_ok, DataError, name, ": image is ", ihdr.width, "x", ihdr.height, "; expected ",
            expect.width, "x", expect.height, expect.hint.empty() ? "" : " ", expect.hint);
  LRA_CHECK(ihdr.bit_depth <= expect.max_bit_depth, DataError, name, ": image has ",
            int(ihdr.bit_depth), "-bit ", color_name(ihdr.color_type),
            " samples; expected at most ", expect.max_bit_depth,
            " bits per sample (save it as 8-bit gray)");
  check_chunks(png, name);

  GrayImage img;
  img.width = ihdr.width;
  img.height = ihdr.height;
  const size_t n = size_t(img.width) * size_t(img.height);
  const bool gray8 = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE && ihdr.bit_depth <= 8;
  const int fmt = gray8 ? SPNG_FMT_G8 : SPNG_FMT_RGBA8;
  size_t len = 0;
  rc = spng_decoded_image_size(ctx.get(), fmt, &len);
  if (rc) png_fail(name, "sizing the image", rc);
  std::vector<uint8_t> buf(len);
  rc = spng_decode_image(ctx.get(), buf.data(), buf.size(), fmt, 0);
  if (rc) png_fail(name, "decoding the image", rc);
  if (gray8) {
    LRA_ASSERT(buf.size() == n);
    img.pixels = std::move(buf);
  } else {
    LRA_ASSERT(buf.size() == 4 * n);
    img.pixels.resize(n);
    for (size_t i = 0; i < n; ++i)
      img.pixels[i] = luminance(buf[4 * i], buf[4 * i + 1], buf[4 * i + 2]);
  }
  return img;
}

GrayImage read_png_gray(const std::string& path, const PngExpect& expect) {
  const std::string bytes = read_file<DataError>(path, "a PNG image");
  return decode_png_gray({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, path,
                         expect);
}

namespace {

// An encoder context writing to memory, with the 8-bit header of a width x height image.
Ctx new_encoder(int64_t width, int64_t height, uint8_t color_type) {
  Ctx ctx(spng_ctx_new(SPNG_CTX_ENCODER));
  LRA_CHECK(ctx, Error, "libspng: cannot create an encoder context (out of memory)");
  spng_set_option(ctx.get(), SPNG_ENCODE_TO_BUFFER, 1);
  spng_ihdr ihdr{};
  ihdr.width = uint32_t(width);
  ihdr.height = uint32_t(height);
  ihdr.bit_depth = 8;
  ihdr.color_type = color_type;
  const int rc = spng_set_ihdr(ctx.get(), &ihdr);
  LRA_CHECK(rc == 0, Error, "libspng: setting the PNG header failed (", spng_strerror(rc), ")");
  return ctx;
}

}  // namespace

std::vector<uint8_t> encode_png_gray(const GrayImage& image) {
  LRA_CHECK(image.width > 0 && image.height > 0 && image.width <= kMaxSide &&
                image.height <= kMaxSide &&
                image.pixels.size() == size_t(image.width) * size_t(image.height),
            Error, "encode_png_gray: image ", image.width, "x", image.height, " with ",
            image.pixels.size(), " pixels; expected width*height pixels, sides 1..", kMaxSide);
  Ctx ctx = new_encoder(image.width, image.height, SPNG_COLOR_TYPE_GRAYSCALE);
  return encode_pixels(ctx.get(), image.pixels);
}

std::vector<uint8_t> encode_png_indexed(const IndexedImage& image,
                                        const std::vector<PngText>& text) {
  LRA_CHECK(image.width > 0 && image.height > 0 && image.width <= kMaxSide &&
                image.height <= kMaxSide &&
                image.pixels.size() == size_t(image.width) * size_t(image.height),
            Error, "encode_png_indexed: image ", image.width, "x", image.height, " with ",
            image.pixels.size(), " pixels; expected width*height pixels, sides 1..", kMaxSide);
  LRA_CHECK(!image.palette.empty() && image.palette.size() <= 256, Error,
            "encode_png_indexed: palette of ", image.palette.size(), " colours; expected 1..256");
  for (uint8_t p : image.pixels)
    LRA_CHECK(p < image.palette.size(), Error, "encode_png_indexed: pixel index ", int(p),
              " outside the palette of ", image.palette.size(), " colours");
  Ctx ctx = new_encoder(image.width, image.height, SPNG_COLOR_TYPE_INDEXED);
  spng_set_option(ctx.get(), SPNG_IMG_COMPRESSION_LEVEL, 9);  // pictures for docs: small
  spng_plte plte{};
  plte.n_entries = uint32_t(image.palette.size());
  for (size_t i = 0; i < image.palette.size(); ++i)
    plte.entries[i] = {image.palette[i][0], image.palette[i][1], image.palette[i][2], 255};
  int rc = spng_set_plte(ctx.get(), &plte);
  LRA_CHECK(rc == 0, Error, "libspng: setting the palette failed (", spng_strerror(rc), ")");
  std::vector<std::string> bodies;  // spng_text points at mutable text
  std::vector<spng_text> chunks(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    LRA_CHECK(!text[i].keyword.empty() && text[i].keyword.size() < sizeof chunks[i].keyword, Error,
              "encode_png_indexed: tEXt keyword '", text[i].keyword,
              "' must have 1..79 characters");
    std::memcpy(chunks[i].keyword, text[i].keyword.data(), text[i].keyword.size());
    bodies.push_back(text[i].text);
  }
  for (size_t i = 0; i < text.size(); ++i) {
    chunks[i].type = SPNG_TEXT;
    chunks[i].length = bodies[i].size();
    chunks[i].text = bodies[i].data();
  }
  if (!chunks.empty()) {
    rc = spng_set_text(ctx.get(), chunks.data(), uint32_t(chunks.size()));
    LRA_CHECK(rc == 0, Error, "libspng: setting the text chunks failed (", spng_strerror(rc), ")");
  }
  return encode_pixels(ctx.get(), image.pixels);
}

void write_png_gray(const std::string& path, const GrayImage& image) {
  const std::vector<uint8_t> bytes = encode_png_gray(image);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  LRA_CHECK(f, IoError, "cannot open ", path, " for writing (", std::strerror(errno),
            "); expected a writable directory");
  const size_t wrote = std::fwrite(bytes.data(), 1, bytes.size(), f);
  const bool closed = std::fclose(f) == 0;
  LRA_CHECK(wrote == bytes.size() && closed, IoError, "writing ", path, " failed (",
            std::strerror(errno), "); expected enough disk space");
}

}  // namespace lra::data
