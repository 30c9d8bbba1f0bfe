// Pathfinder / Path-X reader: metadata lines + PNG images (see pathfinder.hpp).
#include "lra/lra/data/pathfinder.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "data/png.hpp"
#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/core/threading.hpp"

namespace fs = std::filesystem;

namespace lra::data {
namespace {

bool has_metadata(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p / "metadata", ec);
}

// "12.npy" -> 12; names without a number sort after numbered ones, by name.
bool metadata_before(const fs::path& a, const fs::path& b) {
  auto num = [](const fs::path& p) -> int64_t {
    const std::string s = p.stem().string();
    if (s.empty() || s.size() > 15 ||
        !std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
      return -1;
    return std::stoll(s);
  };
  const int64_t na = num(a), nb = num(b);
  if ((na < 0) != (nb < 0)) return na >= 0;
  if (na != nb) return na < nb;
  return a.filename() < b.filename();
}

// True when `rel` names something inside the folder it is joined to: relative, no '..'.
bool inside(const fs::path& rel) {
  if (rel.has_root_path()) return false;
  return std::none_of(rel.begin(), rel.end(), [](const fs::path& part) { return part == ".."; });
}

// Decoded result of one metadata entry.
struct Decoded {
  enum Kind { Ok, EmptyFile, Black, Failed } kind = Ok;
  std::vector<int32_t> tokens;
  std::string error;
};

// "generated: style S, contour length L, size N, seed K" from <root>/generator.json (written by
// write_pathfinder_dataset), so that a run records which setting it trained on; empty when
// there is none (the release), a note saying what is wrong when it does not parse.
std::string generator_note(const fs::path& root) {
  const fs::path file = root / "generator.json";
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return {};
  try {
    const nlohmann::json j = nlohmann::json::parse(read_file(file.string()));
    return detail::concat("generated: style ", j.at("style").get<std::string>(),
                          ", contour length ", j.at("contour_length").get<int>(), ", size ",
                          j.at("size").get<int64_t>(), ", seed ", j.at("seed").get<uint64_t>(),
                          " (", file.string(), ")");
  } catch (const std::exception& e) {
    return detail::concat(file.string(), " is unreadable (", e.what(),
                          "); the images are read, but their generator settings are unknown");
  }
}

}  // namespace

std::string pathfinder_difficulty_folder(int contour_length) {
  return contour_length == 6 ? std::string("curv_baseline")
                             : "curv_contour_length_" + std::to_string(contour_length);
}

std::string find_pathfinder_root(const std::string& dir, int64_t size) {
  const fs::path d(dir);
  std::vector<fs::path> candidates{d};
  for (const fs::path& parent : {d, d / ("pathfinder" + std::to_string(size))})
    for (int length = kMaxContour; length >= kMinContour; --length)  // 14 (LRA's) first
      candidates.push_back(parent / pathfinder_difficulty_folder(length));
  for (const fs::path& c : candidates)
    if (has_metadata(c)) return c.string();
  throw DataError(detail::concat(
      dir, ": no metadata/ folder in it, in <difficulty>/ or in pathfinder", size,
      "/<difficulty>/ (difficulty: curv_contour_length_14, curv_contour_length_9 or "
      "curv_baseline, or curv_contour_length_<L> of a generated set); expected the LRA Pathfinder "
      "layout: metadata/<batch>.npy "
      "(text lines 'subdir filename index label ...') and imgs/<batch>/sample_<i>.png (write one "
      "with: lra_cpu data generate pathfinder --size ",
      size, " --n 2000 --out DIR)"));
}

std::vector<PathfinderEntry> read_pathfinder_metadata(const std::string& root) {
  const fs::path meta_dir = fs::path(root) / "metadata";
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(meta_dir, ec)) {
    std::error_code type_ec;
    if (e.path().extension() == ".npy" && e.is_regular_file(type_ec)) files.push_back(e.path());
  }
  LRA_CHECK(!ec, DataError, meta_dir.string(), ": cannot list folder (", ec.message(),
            "); expected a readable metadata folder");
  LRA_CHECK(!files.empty(), DataError, meta_dir.string(),
            ": no .npy files; expected metadata/<batch>.npy text files listing the images");
  std::sort(files.begin(), files.end(), metadata_before);

  std::vector<PathfinderEntry> out;
  for (const fs::path& file : files) {
    std::ifstream f = open_file<DataError>(file.string(), "a metadata file");
    std::string line;
    int64_t line_no = 0;
    while (std::getline(f, line)) {
      ++line_no;
      LRA_CHECK(!(line_no == 1 && line.rfind("\x93NUMPY", 0) == 0), DataError, file.string(),
                ":1: a binary NumPy array; expected the release's text lines "
                "'subdir filename index label ...' (convert with numpy: np.savetxt(path, "
                "np.load(path), fmt='%s'))");
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line_no == 1) drop_utf8_bom(line);
      std::istringstream cols(line);
      std::vector<std::string> c;
      for (std::string w; cols >> w;) c.push_back(w);
      if (c.empty()) continue;
      const std::string where = file.string() + ":" + std::to_string(line_no);
      LRA_CHECK(c.size() >= 4, DataError, where, ": ", c.size(),
                " column(s); expected at least 4 space-separated columns "
                "(subdir filename index label ...)");
      LRA_CHECK(c[3] == "0" || c[3] == "1", DataError, where, ": label '", c[3].substr(0, 20),
                "' in column 4; expected 0 or 1");
      const fs::path rel = fs::path(c[0]) / c[1];
      LRA_CHECK(inside(rel), DataError, where, ": image path '", rel.string().substr(0, 200),
                "' leaves the data folder (absolute paths and '..' are refused); expected a path "
                "inside ",
                root, " such as 'imgs/0 sample_0.png'");
      PathfinderEntry e;
      e.image = (fs::path(root) / rel).string();
      e.label = c[3] == "1" ? 1 : 0;
      e.where = where;
      out.push_back(std::move(e));
    }
    LRA_CHECK(!f.bad(), DataError, file.string(), ":", line_no,
              ": read error; expected a "
              "readable metadata file");
  }
  LRA_CHECK(!out.empty(), DataError, meta_dir.string(),
            ": the metadata files list no images; expected lines 'subdir filename index label'");
  return out;
}

TaskData read_pathfinder_folder(const std::string& dir, int64_t size) {
  const std::string root = find_pathfinder_root(dir, size);
  const std::vector<PathfinderEntry> entries = read_pathfinder_metadata(root);
  const int64_t n = int64_t(entries.size());
  std::vector<Decoded> dec(entries.size());
  parallel_for(n, 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const PathfinderEntry& e = entries[size_t(i)];
      Decoded& d = dec[size_t(i)];
      try {
        std::error_code ec;
        const auto bytes = fs::file_size(e.image, ec);
        if (!ec && bytes == 0) {
          d.kind = Decoded::EmptyFile;
          continue;
        }
        const GrayImage img = read_png_gray(
            e.image,
            {size, size, 8, "(tasks: pathfinder 32x32, pathfinder64 64x64, pathx 128x128)"});
        if (std::all_of(img.pixels.begin(), img.pixels.end(), [](uint8_t v) { return v == 0; })) {
          d.kind = Decoded::Black;
          continue;
        }
        d.tokens.assign(img.pixels.begin(), img.pixels.end());
      } catch (const DataError& err) {
        d.kind = Decoded::Failed;
        d.error = std::string(err.what()) + " (listed at " + e.where + ")";
      }
    }
  });

  // Errors are reported for the first failing entry in metadata order, whatever the threads.
  int64_t empty_files = 0, black = 0;
  std::vector<Example> all;
  all.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    Decoded& d = dec[i];
    if (d.kind == Decoded::Failed) throw DataError(d.error);
    if (d.kind == Decoded::EmptyFile) ++empty_files;
    if (d.kind == Decoded::Black) ++black;
    if (d.kind != Decoded::Ok) continue;
    Example ex;
    ex.tokens = std::move(d.tokens);
    ex.label = entries[i].label;
    all.push_back(std::move(ex));
  }
  LRA_CHECK(!all.empty(), DataError, root, ": all ", n,
            " listed images are empty or black; expected Pathfinder images");

  TaskData out;
  const size_t m = all.size(), n_train = m * 8 / 10, n_val = m * 9 / 10 - n_train;
  for (size_t i = 0; i < m; ++i) {
    Split& s = i < n_train ? out.train : i < n_train + n_val ? out.val : out.test;
    s.examples.push_back(std::move(all[i]));
  }
  out.train.source = root + " (first 80%)";
  out.val.source = root + " (next 10%)";
  out.test.source = root + " (last 10%)";
  for (Split* s : {&out.train, &out.val, &out.test}) s->longest = size * size;
  if (const std::string g = generator_note(root); !g.empty()) out.notes.push_back(g);
  if (empty_files > 0 || black > 0)
    out.notes.push_back(detail::concat("skipped ", empty_files, " empty PNG file(s) and ", black,
                                       " all-black image(s) of ", n,
                                       " listed (LRA filtered "
                                       "empty images too)"));
  return out;
}

}  // namespace lra::data
