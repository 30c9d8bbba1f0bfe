// ListOps TSV reader (lra/listops.hpp) on arbitrary bytes.
#include "fuzz_input.hpp"
#include "lra/lra/data/listops.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = lra_fuzz::write_input("basic_train.tsv", data, size);
  lra_fuzz::expect_ok_or_lra_error([&] { lra::data::read_listops_tsv(path, 64); });
  return 0;
}
