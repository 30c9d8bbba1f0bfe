// lra_cpu report RUNS...: run folders in the layout of the LRA paper's Table 1, with the
// paper's number next to each cell; Markdown on stdout (or --md FILE) and JSON (--json FILE).
// --tradeoff FILE.svg: the paper's Figure 3 — accuracy (run folders) against training steps/s,
// marker area = peak memory (both from a bench.json, --bench, at --length), one point per model.
#include <cstdio>

#include "commands.hpp"
#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/lra/measure/bench.hpp"
#include "lra/lra/measure/report.hpp"

namespace lra::app {

void add_report_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("report",
                                 "gather run folders into the paper's Table 1 (Markdown and JSON)");
  struct Args {
    std::vector<std::string> runs;
    std::string md, json, tradeoff, bench;
    int64_t length = 0;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("runs", a->runs,
                  "run folders, or folders holding run folders (e.g. a --seeds folder, runs/)")
      ->required();
  cmd->add_option("--md", a->md, "also write the Markdown table to this file");
  cmd->add_option("--json", a->json, "write the table as JSON to this file");
  cmd->add_option("--tradeoff", a->tradeoff,
                  "also draw Figure 3 (accuracy against steps/s, marker = memory) to this SVG");
  cmd->add_option("--bench", a->bench,
                  "bench.json giving speed and memory for --tradeoff (default: the newest "
                  "runs/bench-*/bench.json)");
  cmd->add_option("--length", a->length,
                  "sequence length of the bench figures for --tradeoff (default: the longest)");
  cmd->callback([a, &action]() {
    action = [a]() {
      Report r = make_report(a->runs);
      const std::string md = r.markdown();
      std::fputs(md.c_str(), stdout);
      if (!a->md.empty()) write_file_atomic(a->md, md);
      if (!a->json.empty()) write_file_atomic(a->json, r.json());
      if (!a->tradeoff.empty()) bench::write_tradeoff(a->runs, a->bench, a->length, a->tradeoff);
      return 0;
    };
  });
}

}  // namespace lra::app
