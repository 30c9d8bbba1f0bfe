// Pathfinder and Path-X: are the two circles joined by one dashed curve? (docs/lra.md sections 3.5,
// 6)
//
// Files: the LRA release layout, generated ones too (pathfinder_gen.hpp writes the same):
//   <root>/metadata/<batch>.npy          text lines, space separated, despite the .npy name:
//                                          subdir filename index label ...
//                                        e.g. "imgs/0 sample_17.png 17 1 1.0 14 4 2 0.5 1 1"
//   <root>/imgs/<batch>/sample_<i>.png   8-bit grayscale size x size image
// <root> is a difficulty folder: curv_contour_length_14 (LRA's "hard", used for Pathfinder and
// Path-X), curv_contour_length_9 or curv_baseline (contour length 6). DIR may be <root> itself,
// its parent (pathfinder32/), or the release folder holding pathfinder<size>/<difficulty>; when
// a folder holds several difficulties the hardest is read.
//
// Image path = <root>/<subdir>/<filename>; label = int(column 4) (index 3), 1 = connected.
// Metadata files are read in numeric order (0.npy, 1.npy, ..., 10.npy), lines in file order;
// the examples are then split in order 80% / 10% / 10% into train / val / test, like LRA's
// TFDS slices [:80%], [80%:90%], [90%:]. Empty PNG files are skipped (LRA filtered them) and so
// are all-black images; TaskData::notes counts both. Pixels are tokens 0..255 (vocabulary 256),
// row-major, size*size per image, no padding (token 0 is a black pixel, not padding).
// A generated folder's generator.json (style, contour length, size, seed) becomes a note, so a
// run's config.json names the setting it trained on.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "lra/lra/data/dataset.hpp"

namespace lra::data {

constexpr const char* kPathfinderDifficulty = "curv_contour_length_14";

// Contour lengths the generator draws (paddles per target curve): LRA's 14, the release's 9 and
// 6, and the rest as easier or in-between settings (3: distractors of one paddle).
constexpr int kMinContour = 3, kMaxContour = 14;

// The release's folder for a contour length: curv_baseline for 6, else curv_contour_length_<L>.
std::string pathfinder_difficulty_folder(int contour_length);

struct PathfinderEntry {
  std::string image;  // full path of the PNG
  int32_t label = 0;
  std::string where;  // "<metadata file>:<line>", for messages
};

// The folder holding metadata/ and imgs/ for DIR (see the banner). DataError listing the
// places looked at when there is none.
std::string find_pathfinder_root(const std::string& dir, int64_t size);

// Every metadata line under <root>/metadata, in order. DataError "<file>:<line>: <problem>;
// expected ..." for no metadata files, a binary NumPy file, a line with fewer than 4 columns
// or a label other than 0/1.
std::vector<PathfinderEntry> read_pathfinder_metadata(const std::string& root);

// The whole task: decodes every listed PNG (in parallel, same result for any thread count).
// DataError naming the PNG and its metadata line for a missing, corrupt or wrongly sized image.
TaskData read_pathfinder_folder(const std::string& dir, int64_t size);

}  // namespace lra::data
