// The umbrella header <lra/lra.hpp> includes every public header of every layer (what the
// install check asserts on the installed tree, caught here before any install).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

TEST_CASE("umbrella: lra/lra.hpp includes every public header") {
  const fs::path root = LRA_SOURCE_DIR;
  std::ifstream f(root / "lra/include/lra/lra.hpp");
  REQUIRE(f.is_open());
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string umbrella = ss.str();
  int headers = 0;
  for (const char* layer : {"core", "autograd", "nn", "attention", "lra"}) {
    const fs::path dir = root / layer / "include";
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.path().extension() != ".hpp") continue;
      const std::string rel = fs::relative(e.path(), dir).generic_string();
      if (rel == "lra/lra.hpp") continue;
      ++headers;
      INFO(rel);
      CHECK(umbrella.find("#include \"" + rel + "\"") != std::string::npos);
    }
  }
  CHECK(headers > 40);
}
