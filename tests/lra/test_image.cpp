// Image task: CIFAR-10 binary batches, TF grayscale, 90/10 split, errors, training.
#include <doctest/doctest.h>

#include "data/png.hpp"
#include "lra/lra/data/image.hpp"
#include "lra/task_helpers.hpp"

using namespace lra_test;
using lra::data::kCifarPixels;
using lra::data::kCifarRecord;
using lra::data::luminance;

namespace {

// One CIFAR record: label byte, then red, green and blue planes. Pixel i has
// r = (i + seed) % 256, g = 3i % 256, b = 255 - r.
std::string record(int label, int seed) {
  std::string r(size_t(kCifarRecord), '\0');
  r[0] = char(label);
  for (int64_t i = 0; i < kCifarPixels; ++i) {
    const int red = int((i + seed) % 256);
    r[size_t(1 + i)] = char(red);
    r[size_t(1 + kCifarPixels + i)] = char((3 * i) % 256);
    r[size_t(1 + 2 * kCifarPixels + i)] = char(255 - red);
  }
  return r;
}

// 5 data batches of 4 records (labels 0..9 cycling) and a test batch of 5.
fs::path make_cifar(const std::string& name) {
  const fs::path dir = fresh_dir("image", name) / "cifar-10-batches-bin";
  int k = 0;
  for (int b = 1; b <= 5; ++b) {
    std::string bytes;
    for (int i = 0; i < 4; ++i, ++k) bytes += record(k % 10, k);
    write_bytes(dir / ("data_batch_" + std::to_string(b) + ".bin"), bytes);
  }
  std::string test;
  for (int i = 0; i < 5; ++i) test += record(9 - i, 100 + i);
  write_bytes(dir / "test_batch.bin", test);
  return dir.parent_path();
}

}  // namespace

TEST_CASE("image: TF rgb_to_grayscale rounding") {
  CHECK(luminance(255, 0, 0) == 76);   // 0.2989 * 255.5 = 76.37
  CHECK(luminance(0, 255, 0) == 149);  // 0.5870 * 255.5 = 149.98, truncated
  CHECK(luminance(0, 0, 255) == 29);
  for (int v = 0; v < 256; ++v) CHECK(luminance(uint8_t(v), uint8_t(v), uint8_t(v)) == v);
}

TEST_CASE("image: CIFAR-10 batches become 1024 gray tokens, split 90/10 + test, then 3 steps") {
  const fs::path dir = make_cifar("good");
  const lra::TaskInfo& task = lra::find_task("image");
  CHECK(task.vocab == 256);
  const lra::TaskData d = task.load(dir.string(), 1024);
  REQUIRE(d.train.examples.size() == 18);  // first 90% of 20
  REQUIRE(d.val.examples.size() == 2);
  REQUIRE(d.test.examples.size() == 5);
  const lra::data::Example& e = d.train.examples[3];
  CHECK(e.label == 3);
  REQUIRE(e.tokens.size() == size_t(kCifarPixels));
  for (int64_t i : {0, 1, 500, 1023}) {
    const int red = int((i + 3) % 256);
    CHECK(e.tokens[size_t(i)] ==
          luminance(uint8_t(red), uint8_t((3 * i) % 256), uint8_t(255 - red)));
  }
  CHECK(d.val.examples[1].label == 19 % 10);  // the last record of data_batch_5
  CHECK(d.test.examples[0].label == 9);

  const lra::DataCheck c = lra::check_data(task, dir.string());
  CHECK(c.ok);
  CHECK(c.report.find("train: 18 examples, longest 1,024 tokens") != std::string::npos);
  CHECK(c.report.find("airplane 2, automobile 2") != std::string::npos);

  train_few_steps(task, d, fresh_dir("image", "run"), 1024);
}

TEST_CASE("image: truncated records, bad labels and missing batches name file and record") {
  const fs::path dir = make_cifar("bad");
  const fs::path batches = dir / "cifar-10-batches-bin";
  auto error = [&] { return data_error([&] { lra::data::read_cifar10_folder(dir.string()); }); };

  write_bytes(batches / "data_batch_3.bin", record(1, 0) + record(2, 0).substr(0, 1000));
  std::string e = error();
  CHECK(e.find("data_batch_3.bin: record 1 (at byte 3073) is truncated: 1000 of 3073 bytes") !=
        std::string::npos);

  write_bytes(batches / "data_batch_3.bin", record(1, 0) + record(12, 0));
  e = error();
  CHECK(e.find("data_batch_3.bin: record 1 (at byte 3073): label byte 12; expected a class 0..9") !=
        std::string::npos);

  write_bytes(batches / "data_batch_3.bin", record(1, 0));
  fs::remove(batches / "test_batch.bin");
  e = error();
  CHECK(e.find("test_batch.bin: cannot open file") != std::string::npos);
  fs::create_directories(batches / "test_batch.bin");
  CHECK(error().find("test_batch.bin: is a directory, expected a file") != std::string::npos);
  fs::remove(batches / "test_batch.bin");
  const lra::DataCheck c = lra::check_data(lra::find_task("image"), dir.string());
  CHECK_FALSE(c.ok);
  CHECK(c.report.find("FAILED: ") != std::string::npos);
  CHECK(c.report.find("test_batch.bin") != std::string::npos);

  fs::remove_all(batches);
  CHECK(error().find("no data_batch_1.bin") != std::string::npos);
}
