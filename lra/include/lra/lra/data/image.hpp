// Image: grayscale CIFAR-10 as sequences of 1024 pixel tokens (docs/lra.md section 3.4).
//
// Files: the CIFAR-10 binary version, DIR/data_batch_1.bin .. data_batch_5.bin and
// DIR/test_batch.bin (DIR may also be the parent of cifar-10-batches-bin/). Each file is a
// run of 3073-byte records:
//   byte 0          label 0..9 (airplane automobile bird cat deer dog frog horse ship truck)
//   bytes 1..1024   red plane, row-major 32x32
//   bytes 1025..    green plane, then blue plane
// Each pixel becomes luminance(r, g, b) (TF's rgb_to_grayscale, png.hpp), row-major, so a
// sequence is 1024 tokens 0..255 (vocabulary 256).
//
// No padding: every image is exactly 1024 tokens, so Batch::lengths marks all of them valid.
// Token 0 is a black pixel here, not padding. (LRA's model masks token 0 as padding, so it
// drops black pixels from attention: a quirk this project does not copy, docs/lra.md section 1,
// decision 5.)
//
// Splits as LRA: train = the first 90% of data_batch_1..5 in order (45,000), validation = the
// last 10% (5,000), test = test_batch.bin (10,000).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "lra/lra/data/dataset.hpp"

namespace lra::data {

constexpr int64_t kCifarSide = 32;
constexpr int64_t kCifarPixels = kCifarSide * kCifarSide;  // tokens per image
constexpr int64_t kCifarRecord = 1 + 3 * kCifarPixels;     // bytes per record
constexpr int64_t kPixelVocab = 256;

// Class names of CIFAR-10, index = label.
const std::vector<std::string>& cifar10_classes();

// All records of one CIFAR-10 binary file. DataError naming the file and the record for a
// missing file, a size that is not a multiple of 3073 bytes (a truncated last record), or a
// label byte above 9.
std::vector<Example> read_cifar_batch(const std::string& path);

// The whole task (45K/5K/10K for the full data set).
TaskData read_cifar10_folder(const std::string& dir);

}  // namespace lra::data
