// The pictures of a run folder (lra/lra/train/run.hpp): loss.svg and accuracy.svg, curves
// of train and val against steps. `lra_cpu train` redraws them after every evaluation
// (TrainHooks::on_metrics), so an embedding program's trainer writes no SVG.
#pragma once
#include <string>

namespace lra {

// Rewrites <dir>/loss.svg and <dir>/accuracy.svg from <dir>/metrics.jsonl.
void write_run_plots(const std::string& dir);

}  // namespace lra
