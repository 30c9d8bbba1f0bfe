// lra_cpu plot RUN [RUN...]: several runs' curves on one SVG (lra/measure/run_plots.hpp), e.g.
// `lra_cpu plot runs/* --metric val_accuracy --out val.svg`; and `lra_cpu plot --bench
// DIR/bench.json` redraws a sweep's charts (steps_per_s.svg, memory.svg) beside it.
#include <cstdio>
#include <filesystem>

#include "commands.hpp"
#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/lra/measure/bench.hpp"
#include "lra/lra/measure/run_plots.hpp"

namespace lra::app {

void add_plot_command(CLI::App& app, Action& action) {
  struct Flags {
    std::vector<std::string> runs;
    std::string metric = "val_accuracy", out, bench;
  };
  auto f = std::make_shared<Flags>();
  auto* cmd = app.add_subcommand(
      "plot", "several runs' loss or accuracy curves on one SVG, or a bench.json's charts");
  cmd->add_option("runs", f->runs,
                  "run folders, or folders holding run folders (runs/* works: others are skipped)");
  cmd->add_option("--metric", f->metric, "val_accuracy, val_loss, train_accuracy or train_loss")
      ->capture_default_str();
  cmd->add_option("--out", f->out,
                  "SVG to write (default: <metric>.svg here); with --bench: the folder (default: "
                  "the bench.json's)");
  cmd->add_option("--bench", f->bench, "a bench.json (lra_cpu bench): redraw its charts");
  cmd->callback([f, &action]() {
    action = [f]() {
      if (!f->bench.empty()) {
        LRA_CHECK(f->runs.empty(), ConfigError, "plot: give run folders or --bench, not both");
        const bench::Sweep s = bench::sweep_from_json(read_file(f->bench));
        const std::string dir =
            f->out.empty() ? std::filesystem::path(f->bench).parent_path().string() : f->out;
        bench::write_charts(s, dir.empty() ? "." : dir);
        std::fprintf(stderr, "charts of %s -> %s\n", f->bench.c_str(), dir.c_str());
        return 0;
      }
      const RunsPlot p = plot_runs(f->runs, f->metric);
      for (const std::string& s : p.skipped) std::fprintf(stderr, "skipped %s\n", s.c_str());
      const std::string out = f->out.empty() ? f->metric + ".svg" : f->out;
      write_file_atomic(out, p.svg);
      std::fprintf(stderr, "%s of %zu runs -> %s\n", f->metric.c_str(), p.runs.size(), out.c_str());
      return 0;
    };
  });
}

}  // namespace lra::app
