// `lra_cpu eval`: a run's saved checkpoint evaluated again, beside what training recorded.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace lra {

struct RunEvalOptions {
  std::string split = "test";       // test or val
  std::string checkpoint = "best";  // best or last
  std::string data_dir;             // "" : the run's recorded data folder
  int threads = -1;                 // < 0: the run's setting
  std::string predictions;          // "" or a file for one line per example (TSV, see below)
  std::function<void(size_t done, size_t total)> progress;
};
struct RunEval {
  double accuracy = 0.0, loss = 0.0;
  double majority = 0.0;       // the split's majority-class rate (data::majority_rate)
  std::string majority_class;  // that class's name (TaskInfo::class_names)
  int64_t examples = 0;
  int64_t checkpoint_step = 0;
  std::string checkpoint_path;
  bool has_recorded = false;  // a value recorded by training for this split and checkpoint
  double recorded = 0.0;
  std::string recorded_from;  // "results.json test_accuracy", "metrics.jsonl val at step 400"
  std::string note;           // e.g. "val is evaluated on its first 25 batches, as in training"
};
// Re-evaluates a saved checkpoint of a run exactly as training did (same batches, lengths and
// threads) and finds the value training recorded for it. With opt.predictions, also writes
// (atomically) a TSV with a header and one line per evaluated example, in split order:
//   index  label  predicted  correct  loss  p_<class>...
// index is the example's place in the split (for Pathfinder: metadata order, the split's
// first image is 0), loss its cross-entropy -ln p_<label>.
RunEval evaluate_run(const std::string& dir, const RunEvalOptions& opt);

}  // namespace lra
