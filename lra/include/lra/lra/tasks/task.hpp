// Tasks: what each LRA task reads, how long its sequences are, and its presets.
// A preset is a list of settings with the source it came from (paper config, later
// reproductions, or sized for a 2-core laptop).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "lra/lra/data/dataset.hpp"
#include "lra/lra/tasks/settings.hpp"

namespace lra {

struct Preset {
  std::string name;
  std::string source;  // where the numbers come from
  std::vector<std::pair<std::string, std::string>> settings;
};

struct GenerateOptions {
  // Examples per split. Pathfinder files carry no split: it writes train + val + test images,
  // which its reader splits 80/10/10 in order.
  int64_t train = 2000, val = 200, test = 200;
  int64_t min_len = 0, max_len = 0;          // 0: the task's default
  int64_t image_size = 0;                    // Pathfinder side 32/64/128 (0: the task's own size)
  std::string pathfinder_style = "release";  // release or connected (pathfinder_gen.hpp)
  int pathfinder_contour_length = 14;        // 3-14 (the release: 6, 9, 14)
  int pathfinder_distractors = -1;           // distractor snakes (-1: LRA's count for the size)
  uint64_t seed = 1;
  std::function<void(size_t done, size_t total)> progress;
};

struct TaskInfo {
  std::string name;
  std::string title;
  int64_t seq_len = 0;  // tokens per sequence (per document for dual tasks)
  int64_t vocab = 0;    // token ids [0, vocab), 0 = padding
  int64_t classes = 0;
  bool dual = false;
  std::string layout;                    // the data folder this task expects
  std::string data_source;               // where to download it and what to pass as --data
  std::vector<std::string> class_names;  // index = label (for data check and reports)
  std::vector<Preset> presets;
  std::function<TaskData(const std::string& dir, int64_t max_len)> load;
  // Writes a synthetic data folder in the task's own format; empty for real-data tasks.
  std::function<void(const std::string& dir, const GenerateOptions&)> generate;

  const Preset& preset(const std::string& name) const;  // ConfigError when unknown
};

// `lra_cpu data check`: reads DIR as training would (task.load) and reports examples per split
// and class, longest sequence, truncation and the reader's notes; or, when the reader throws
// DataError or the train/val split is empty, ok = false and the report says exactly what is
// wrong. max_len <= 0: the task's length.
struct DataCheck {
  bool ok = false;
  std::string report;  // multi-line, ends with "ok: ..." or "FAILED: ..."
  TaskData data;       // what was read (empty when the reader failed)
};
DataCheck check_data(const TaskInfo& task, const std::string& dir, int64_t max_len = 0);

const std::vector<TaskInfo>& tasks();
const TaskInfo& find_task(const std::string& name);  // ConfigError listing known tasks

}  // namespace lra
