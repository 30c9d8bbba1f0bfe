// AAN document-pair reader (lra/retrieval.hpp) on arbitrary bytes.
#include "fuzz_input.hpp"
#include "lra/lra/data/retrieval.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = lra_fuzz::write_input("new_aan_pairs.train.tsv", data, size);
  int64_t empty = 0;
  lra_fuzz::expect_ok_or_lra_error([&] { lra::data::read_aan_tsv(path, 64, &empty); });
  return 0;
}
