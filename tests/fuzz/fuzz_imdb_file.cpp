// aclImdb review files (lra/text.hpp): the input is one review in pos/ and in neg/.
#include "fuzz_input.hpp"
#include "lra/lra/data/text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string pos = lra_fuzz::write_input("train/pos/0_9.txt", data, size);
  const lra_fuzz::fs::path split = lra_fuzz::fs::path(pos).parent_path().parent_path();
  lra_fuzz::fs::create_directories(split / "neg");
  lra_fuzz::fs::copy_file(pos, split / "neg" / "0_1.txt",
                          lra_fuzz::fs::copy_options::overwrite_existing);
  int64_t empty = 0;
  lra_fuzz::expect_ok_or_lra_error([&] { lra::data::read_imdb_split(split.string(), 64, &empty); });
  return 0;
}
