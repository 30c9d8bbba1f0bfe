// lra_cpu subcommands: each file registers one family of subcommands on the CLI11 app.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>

#include "lra/lra/tasks/settings.hpp"
#include "lra/lra/tasks/task.hpp"

namespace lra::app {

// A subcommand's action, run after parsing; returns the process exit code.
using Action = std::function<int()>;

// The generator options a run's settings ask for (gen_train/val/test, gen_min/max_len, seed).
GenerateOptions generate_options(const Settings& s);

void add_train_command(CLI::App& app, Action& action);
void add_data_command(CLI::App& app, Action& action);
void add_catalog_commands(CLI::App& app, Action& action);  // models, tasks
void add_eval_command(CLI::App& app, Action& action);      // cmd_eval.cpp
void add_report_command(CLI::App& app, Action& action);    // cmd_report.cpp
void add_info_command(CLI::App& app, Action& action);
void add_bench_command(CLI::App& app, Action& action);            // cmd_bench.cpp
void add_span_command(CLI::App& app, Action& action);             // cmd_span.cpp
void add_attention_command(CLI::App& app, Action& action);        // cmd_attention.cpp
void add_bench_attention_command(CLI::App& app, Action& action);  // cmd_bench_attention.cpp
void add_suite_command(CLI::App& app, Action& action);            // cmd_suite.cpp
void add_completion_command(CLI::App& app, Action& action);       // cmd_completion.cpp
void add_man_command(CLI::App& app, Action& action);              // cmd_man.cpp (hidden)
void add_plot_command(CLI::App& app, Action& action);             // cmd_plot.cpp

}  // namespace lra::app
