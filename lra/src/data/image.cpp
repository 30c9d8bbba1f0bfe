// CIFAR-10 binary reader, grayscale pixel tokens (see image.hpp).
#include "lra/lra/data/image.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "data/png.hpp"
#include "lra/core/error.hpp"
#include "lra/core/io.hpp"

namespace fs = std::filesystem;

namespace lra::data {
namespace {

constexpr const char* kLayout =
    "the CIFAR-10 binary version: data_batch_1.bin .. data_batch_5.bin and test_batch.bin, "
    "records of 1 label byte + 3072 pixel bytes";

}  // namespace

const std::vector<std::string>& cifar10_classes() {
  static const std::vector<std::string> names = {
      "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  return names;
}

std::vector<Example> read_cifar_batch(const std::string& path) {
  const std::string bytes = read_file<DataError>(path, kLayout);
  const int64_t size = int64_t(bytes.size());
  LRA_CHECK(size > 0, DataError, path, ": empty file; expected records of ", kCifarRecord,
            " bytes (1 label byte + 3072 pixel bytes)");
  LRA_CHECK(size % kCifarRecord == 0, DataError, path, ": record ", size / kCifarRecord,
            " (at byte ", (size / kCifarRecord) * kCifarRecord,
            ") is truncated: ", size % kCifarRecord, " of ", kCifarRecord,
            " bytes; expected a file of whole ", kCifarRecord,
            "-byte records (1 label byte + 3072 pixel bytes)");
  const int64_t n = size / kCifarRecord;
  std::vector<Example> out(static_cast<size_t>(n));
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  for (int64_t r = 0; r < n; ++r) {
    const uint8_t* rec = data + r * kCifarRecord;
    LRA_CHECK(rec[0] <= 9, DataError, path, ": record ", r, " (at byte ", r * kCifarRecord,
              "): label byte ", int(rec[0]), "; expected a class 0..9");
    Example& ex = out[size_t(r)];
    ex.label = rec[0];
    ex.tokens.resize(size_t(kCifarPixels));
    const uint8_t* red = rec + 1;
    const uint8_t* green = red + kCifarPixels;
    const uint8_t* blue = green + kCifarPixels;
    for (int64_t i = 0; i < kCifarPixels; ++i)
      ex.tokens[size_t(i)] = luminance(red[i], green[i], blue[i]);
  }
  return out;
}

TaskData read_cifar10_folder(const std::string& dir) {
  fs::path d(dir);
  std::error_code ec;
  if (!fs::exists(d / "data_batch_1.bin", ec) &&
      fs::exists(d / "cifar-10-batches-bin" / "data_batch_1.bin", ec))
    d /= "cifar-10-batches-bin";
  LRA_CHECK(fs::exists(d / "data_batch_1.bin", ec), DataError, dir,
            ": no data_batch_1.bin (nor cifar-10-batches-bin/data_batch_1.bin); expected ",
            kLayout);
  std::vector<Example> all;
  for (int b = 1; b <= 5; ++b) {
    std::vector<Example> part =
        read_cifar_batch((d / ("data_batch_" + std::to_string(b) + ".bin")).string());
    for (Example& e : part) all.push_back(std::move(e));
  }
  TaskData out;
  // train[:90%] / train[90%:] as TFDS percent slicing (45,000 / 5,000 for 50,000 records).
  const size_t n_train = all.size() * 9 / 10;
  out.train.source = (d / "data_batch_{1..5}.bin").string() + " (first 90%)";
  out.val.source = (d / "data_batch_{1..5}.bin").string() + " (last 10%)";
  for (size_t i = 0; i < all.size(); ++i)
    (i < n_train ? out.train : out.val).examples.push_back(std::move(all[i]));
  out.test.source = (d / "test_batch.bin").string();
  out.test.examples = read_cifar_batch(out.test.source);
  for (data::Split* s : {&out.train, &out.val, &out.test}) s->longest = kCifarPixels;
  return out;
}

}  // namespace lra::data
