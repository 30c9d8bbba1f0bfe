// Re-evaluating a run's saved checkpoint exactly as training did (`lra_cpu eval`).
#include "lra/lra/train/eval_run.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/core/threading.hpp"
#include "lra/lra/tasks/task.hpp"
#include "lra/lra/train/run.hpp"
#include "lra/lra/train/trainer.hpp"

namespace lra {

using json = nlohmann::json;

namespace {

std::string predictions_tsv(const std::vector<ExamplePrediction>& predictions,
                            const std::vector<std::string>& class_names) {
  std::string out = "index\tlabel\tpredicted\tcorrect\tloss";
  const size_t classes = predictions.empty() ? 0 : predictions.front().probs.size();
  for (size_t c = 0; c < classes; ++c)
    out += "\tp_" + (c < class_names.size() ? class_names[c] : std::to_string(c));
  out += "\n";
  char buf[64];
  for (const ExamplePrediction& p : predictions) {
    const double p_label = std::max(double(p.probs[size_t(p.label)]), 1e-30);
    std::snprintf(buf, sizeof buf, "%lld\t%d\t%d\t%d\t%.6g", (long long)p.index, p.label,
                  p.predicted, p.label == p.predicted ? 1 : 0, -std::log(p_label));
    out += buf;
    for (const float q : p.probs) {
      std::snprintf(buf, sizeof buf, "\t%.6g", double(q));
      out += buf;
    }
    out += "\n";
  }
  return out;
}

}  // namespace

RunEval evaluate_run(const std::string& dir, const RunEvalOptions& opt) {
  LRA_CHECK(opt.split == "test" || opt.split == "val", ConfigError, "--split ", opt.split,
            ": use test or val");
  LRA_CHECK(opt.checkpoint == "best" || opt.checkpoint == "last", ConfigError, "--checkpoint ",
            opt.checkpoint, ": use best or last");
  RunInfo run = read_run(dir);
  const Settings& s = run.settings;
  const TaskInfo& task = find_task(s.get("task"));
  set_num_threads(opt.threads >= 0 ? opt.threads : int(s.get_int("threads")));
  ModelConfig mc = model_config(s, task);
  LraModel model(mc);
  RunEval r;
  r.checkpoint_path = dir + "/" + (opt.checkpoint == "best" ? run_files::best : run_files::last);
  auto meta = load_weights(model, r.checkpoint_path, task.name);
  r.checkpoint_step = meta.count("step") ? std::stoll(meta.at("step")) : 0;

  const std::string data_dir = opt.data_dir.empty() ? run.data_dir : opt.data_dir;
  LRA_CHECK(!data_dir.empty(), ConfigError, dir,
            "/config.json records no data folder; pass --data DIR");
  TaskData data = task.load(data_dir, mc.max_len);
  const data::Split& split = opt.split == "test" ? data.test : data.val;
  // Training evaluated val on its first eval_batches batches and test on the whole split.
  const int64_t max_batches = opt.split == "val" ? s.get_int("eval_batches") : 0;
  if (max_batches > 0)
    r.note = "val is evaluated on its first " + std::to_string(max_batches) + " batches of " +
             s.get("batch") + ", as training did (eval_batches)";
  std::vector<ExamplePrediction> predictions;
  EvalResult ev = evaluate(model, split, s.get_int("batch"), mc.max_len, max_batches, opt.progress,
                           opt.predictions.empty() ? nullptr : &predictions);
  if (!opt.predictions.empty())
    write_file_atomic(opt.predictions, predictions_tsv(predictions, task.class_names));
  r.accuracy = ev.accuracy;
  r.majority = data::majority_rate(split);
  std::map<int32_t, int64_t> per_class;
  for (const data::Example& e : split.examples) ++per_class[e.label];
  int64_t most = -1;
  for (const auto& [label, count] : per_class)  // the first of equally frequent classes
    if (count > most) {
      most = count;
      r.majority_class = size_t(label) < task.class_names.size() ? task.class_names[size_t(label)]
                                                                 : std::to_string(label);
    }
  r.loss = ev.loss;
  r.examples = ev.examples;

  // What training recorded for this checkpoint and split.
  if (opt.checkpoint == "best" && opt.split == "test" && run.has_results &&
      run.status == "complete") {
    r.has_recorded = true;
    r.recorded = run.test_accuracy;
    r.recorded_from = "results.json test_accuracy";
  } else {
    for (const std::string& line : read_metrics_lines(dir)) {
      json m = json::parse(line);
      if (m.value("split", std::string()) == opt.split &&
          m.value("step", int64_t(-1)) == r.checkpoint_step && m["accuracy"].is_number() &&
          !(opt.split == "test" && opt.checkpoint != "best")) {
        r.has_recorded = true;
        r.recorded = m["accuracy"].get<double>();
        r.recorded_from =
            "metrics.jsonl " + opt.split + " at step " + std::to_string(r.checkpoint_step);
      }
    }
  }
  return r;
}

}  // namespace lra
