// loss.svg and accuracy.svg of a run folder, drawn from metrics.jsonl.
#include "lra/lra/measure/run_plots.hpp"

#include <nlohmann/json.hpp>
#include <string>

#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/lra/train/run.hpp"
#include "measure/svg.hpp"

namespace lra {

using json = nlohmann::json;

void write_run_plots(const std::string& dir) {
  svg::Series train_loss, val_loss, train_acc, val_acc;
  train_loss.label = train_acc.label = "train";
  val_loss.label = val_acc.label = "val";
  val_loss.markers = val_acc.markers = true;
  for (const std::string& line : read_metrics_lines(dir)) {
    json r = json::parse(line);
    if (!r.contains("step") || !r["loss"].is_number() || !r["accuracy"].is_number()) continue;
    const double step = r["step"].get<double>();
    const std::string split = r.value("split", std::string());
    if (split == "train") {
      train_loss.x.push_back(step), train_loss.y.push_back(r["loss"].get<double>());
      train_acc.x.push_back(step), train_acc.y.push_back(r["accuracy"].get<double>());
    } else if (split == "val") {
      val_loss.x.push_back(step), val_loss.y.push_back(r["loss"].get<double>());
      val_acc.x.push_back(step), val_acc.y.push_back(r["accuracy"].get<double>());
    }
  }
  std::string name = dir;
  try {
    RunInfo info = read_run(dir);
    name = info.settings.get("model") + " on " + info.settings.get("task");
  } catch (const Error&) {
  }
  svg::Plot loss{name + ": loss", "step", "cross-entropy", {train_loss, val_loss}};
  svg::Plot acc{name + ": accuracy", "step", "accuracy", {train_acc, val_acc}};
  write_file_atomic(dir + "/loss.svg", svg::render(loss));
  write_file_atomic(dir + "/accuracy.svg", svg::render(acc));
}

}  // namespace lra
