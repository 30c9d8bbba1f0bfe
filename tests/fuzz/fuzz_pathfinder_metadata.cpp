// Pathfinder metadata reader (lra/pathfinder.hpp): the input is metadata/0.npy of a root.
#include "fuzz_input.hpp"
#include "lra/lra/data/pathfinder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string meta = lra_fuzz::write_input("root/metadata/0.npy", data, size);
  const std::string root = lra_fuzz::fs::path(meta).parent_path().parent_path().string();
  lra_fuzz::expect_ok_or_lra_error([&] {
    for (const auto& e : lra::data::read_pathfinder_metadata(root)) {
      const auto rel = lra_fuzz::fs::path(e.image).lexically_normal().lexically_relative(root);
      if (rel.empty() || *rel.begin() == "..") __builtin_trap();  // a path left the folder
    }
  });
  return 0;
}
