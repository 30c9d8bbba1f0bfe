// lra_cpu eval --run DIR [--split test|val] [--checkpoint best|last] [--predictions FILE]:
// re-evaluate a saved checkpoint of a run exactly as training did, compare with what training
// recorded, and optionally write every example's answer.
#include <cstdio>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "lra/lra/train/eval_run.hpp"
#include "lra/lra/train/run.hpp"
#include "progress.hpp"

namespace lra::app {

void add_eval_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("eval", "re-evaluate a run's saved checkpoint on test or val");
  struct Args {
    std::string run;
    RunEvalOptions o;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--run", a->run, "run folder (the --out of lra_cpu train)")->required();
  cmd->add_option("--split", a->o.split, "test or val")
      ->check(CLI::IsMember({"test", "val"}))
      ->capture_default_str();
  cmd->add_option("--checkpoint", a->o.checkpoint, "best or last")
      ->check(CLI::IsMember({"best", "last"}))
      ->capture_default_str();
  cmd->add_option("--data", a->o.data_dir, "data folder (default: the one the run read)");
  cmd->add_option("--predictions", a->o.predictions,
                  "also write one line per example to this TSV file: index, label, predicted, "
                  "correct, loss and each class's probability");
  cmd->add_option("--threads", a->o.threads,
                  "worker threads (default: the run's; the same count reproduces exactly)");
  cmd->callback([a, &action]() {
    action = [a]() {
      ProgressBar* bar = nullptr;
      std::unique_ptr<ProgressBar> owned;
      a->o.progress = [&](size_t done, size_t total) {
        if (!bar) {
          owned = std::make_unique<ProgressBar>("eval " + a->o.split, total);
          bar = owned.get();
        }
        bar->update(done);
      };
      RunEval r = evaluate_run(a->run, a->o);
      if (bar) bar->finish();
      std::printf(
          "%s checkpoint (step %lld) on %s: accuracy %.4f (majority class '%s' %.4f), loss %.4f, "
          "%lld examples\n",
          a->o.checkpoint.c_str(), (long long)r.checkpoint_step, a->o.split.c_str(), r.accuracy,
          r.majority_class.c_str(), r.majority, r.loss, (long long)r.examples);
      if (!r.note.empty()) std::printf("note: %s\n", r.note.c_str());
      if (!a->o.predictions.empty())
        std::printf("wrote %lld predictions to %s\n", (long long)r.examples,
                    a->o.predictions.c_str());
      if (!r.has_recorded) {
        std::printf("training recorded no %s accuracy for this checkpoint\n", a->o.split.c_str());
        return 0;
      }
      const bool same = r.accuracy == r.recorded;
      std::printf("recorded %.4f (%s): %s\n", r.recorded, r.recorded_from.c_str(),
                  same ? "reproduced exactly" : "DIFFERENT");
      return same ? exit_code::ok : exit_code::not_reproduced;
    };
  });
}

}  // namespace lra::app
