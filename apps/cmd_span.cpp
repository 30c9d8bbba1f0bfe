// lra_cpu span: the required attention span (LRA Figure 2) of trained runs, from each
// mechanism's dense face (lra/include/lra/lra/measure/span.hpp).
#include <cstdio>

#include "commands.hpp"
#include "lra/core/io.hpp"
#include "lra/lra/measure/span.hpp"
#include "progress.hpp"

namespace lra::app {

void add_span_command(CLI::App& app, Action& action) {
  struct Flags {
    std::vector<std::string> runs;
    span::Options opt;
    std::string svg;
  };
  auto f = std::make_shared<Flags>();
  auto* cmd = app.add_subcommand(
      "span", "attention span (mean attention-weighted |query - key| distance) of trained runs");
  cmd->add_option("--run", f->runs,
                  "run folder of `lra_cpu train` (repeat for several tasks/models)")
      ->required();
  cmd->add_option("--samples", f->opt.samples, "validation examples to average over")
      ->capture_default_str();
  cmd->add_option("--split", f->opt.split, "val or test")->capture_default_str();
  cmd->add_option("--checkpoint", f->opt.checkpoint, "best or last")->capture_default_str();
  cmd->add_option("--data", f->opt.data, "data folder (default: the run's own)");
  cmd->add_option("--threads", f->opt.threads, "worker threads (0: all cores)")
      ->capture_default_str();
  cmd->add_option(
      "--svg", f->svg,
      "bar chart across tasks (default: <run>/span.svg for one run, span.svg otherwise)");
  cmd->callback([f, &action]() {
    action = [f]() {
      std::vector<span::Result> results;
      for (const std::string& dir : f->runs) {
        span::Options opt = f->opt;
        ProgressBar bar("span " + dir, size_t(opt.samples));
        opt.progress = [&](int64_t done, int64_t total) {
          bar.update(size_t(done * int64_t(opt.samples) / std::max<int64_t>(total, 1)));
        };
        span::Result r = span::measure_run(dir, opt);
        bar.finish();
        write_file_atomic(dir + "/span.json", span::json(r));
        std::printf("%s (%s, %s): span %.1f over %lld sequences -> %s/span.json\n", dir.c_str(),
                    r.task.c_str(), r.model.c_str(), r.span, (long long)r.samples, dir.c_str());
        results.push_back(r);
      }
      std::string svg = !f->svg.empty()       ? f->svg
                        : f->runs.size() == 1 ? f->runs[0] + "/span.svg"
                                              : "span.svg";
      write_file_atomic(svg, span::svg(results));
      std::printf("\n%s\nbar chart: %s\n", span::markdown(results).c_str(), svg.c_str());
      return 0;
    };
  });
}

}  // namespace lra::app
