// IMDb label<TAB>text reader (lra/text.hpp) on arbitrary bytes.
#include "fuzz_input.hpp"
#include "lra/lra/data/text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = lra_fuzz::write_input("train.tsv", data, size);
  int64_t empty = 0;
  lra_fuzz::expect_ok_or_lra_error([&] { lra::data::read_text_tsv(path, 64, &empty); });
  return 0;
}
