// Replays inputs through a fuzz target without libFuzzer: the normal test build links every
// tests/fuzz/fuzz_*.cpp with this main and runs it on its seed corpus (CTest fuzz_replay_*), so
// the targets keep compiling and the seeds keep passing between fuzzing sessions.
//   fuzz_replay_<target> FILE_OR_FOLDER ...
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

static void replay(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
}

int main(int argc, char** argv) {
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    if (fs::is_directory(argv[i])) {
      for (const auto& e : fs::directory_iterator(argv[i]))
        if (e.is_regular_file()) files.push_back(e.path());
    } else {
      files.emplace_back(argv[i]);
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s FILE_OR_FOLDER ... (no input found)\n", argv[0]);
    return 2;
  }
  for (const auto& f : files) {
    try {
      replay(f);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "FINDING on %s: %s\n", f.c_str(), e.what());
      return 1;
    }
  }
  std::printf("%zu inputs replayed\n", files.size());
  return 0;
}
