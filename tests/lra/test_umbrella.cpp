// The umbrella headers <lra/lra.hpp> and <lra/measure.hpp> include every public header of
// every layer (what the install check asserts on the installed tree, caught here before any
// install), and the rooms of lra/ include downwards only.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {
std::string file_text(const fs::path& p) {
  std::ifstream f(p);
  REQUIRE(f.is_open());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

TEST_CASE("umbrella: lra/lra.hpp and lra/measure.hpp include every public header") {
  const fs::path root = LRA_SOURCE_DIR;
  const std::string umbrella = file_text(root / "lra/include/lra/lra.hpp");
  const std::string measure = file_text(root / "lra/include/lra/measure.hpp");
  int headers = 0;
  for (const char* layer : {"core", "autograd", "nn", "attention", "lra"}) {
    const fs::path dir = root / layer / "include";
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.path().extension() != ".hpp") continue;
      const std::string rel = fs::relative(e.path(), dir).generic_string();
      if (rel == "lra/lra.hpp" || rel == "lra/measure.hpp") continue;
      ++headers;
      INFO(rel);
      // lra::measure's headers are in <lra/measure.hpp>, the rest in <lra/lra.hpp>
      const bool in_measure = rel.rfind("lra/lra/measure/", 0) == 0;
      const std::string line = "#include \"" + rel + "\"";
      CHECK((in_measure ? measure : umbrella).find(line) != std::string::npos);
      CHECK((in_measure ? umbrella : measure).find(line) == std::string::npos);
    }
  }
  CHECK(headers > 40);
}

TEST_CASE("umbrella: lra/ rooms include only rooms below them") {
  // data < tasks < train < measure: a header or source of a room includes no higher room
  const fs::path root = LRA_SOURCE_DIR;
  const std::vector<std::string> rooms = {"data", "tasks", "train", "measure"};
  int files = 0;
  for (size_t r = 0; r < rooms.size(); ++r) {
    for (const fs::path dir :
         {root / "lra/include/lra/lra" / rooms[r], root / "lra/src" / rooms[r]}) {
      for (const auto& e : fs::directory_iterator(dir)) {
        ++files;
        const std::string text = file_text(e.path());
        for (size_t above = r + 1; above < rooms.size(); ++above) {
          INFO(e.path().string() << " includes from " << rooms[above]);
          CHECK(text.find("#include \"lra/lra/" + rooms[above] + "/") == std::string::npos);
          CHECK(text.find("#include \"" + rooms[above] + "/") == std::string::npos);
        }
      }
    }
  }
  CHECK(files > 40);
}
