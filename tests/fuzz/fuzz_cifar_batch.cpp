// CIFAR-10 binary batch reader (lra/image.hpp) on arbitrary bytes.
#include "fuzz_input.hpp"
#include "lra/lra/data/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = lra_fuzz::write_input("data_batch_1.bin", data, size);
  lra_fuzz::expect_ok_or_lra_error([&] { lra::data::read_cifar_batch(path); });
  return 0;
}
