// Checkpoint loader (lra/lra/train/run.hpp load_checked: safetensors parse, format tag, checksums)
// on arbitrary bytes.
#include <map>

#include "fuzz_input.hpp"
#include "lra/lra/train/run.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = lra_fuzz::write_input("last.safetensors", data, size);
  lra_fuzz::expect_ok_or_lra_error([&] {
    std::map<std::string, std::string> meta;
    lra::load_checked(path, &meta);
  });
  return 0;
}
