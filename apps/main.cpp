// lra_cpu: train, evaluate and measure Long-Range-Arena xformers on the CPU.
// Every command exits with a code of exit_codes.hpp: errors are typed exceptions mapped here.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "lra/core/error.hpp"
#include "lra/lra/train/distributed.hpp"
#include "lra/lra/train/trainer.hpp"

#ifndef LRA_VERSION
#define LRA_VERSION "0.0.0"
#endif

namespace {

// The first word that is not a command where one is expected ("lra_cpu trian", "lra_cpu data
// chek"), with the nearest command names; "" when every command word is known.
std::string unknown_command(const CLI::App& app, int argc, char** argv) {
  const CLI::App* at = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.empty() || word[0] == '-') return "";  // options: CLI11 checks them
    std::vector<std::string> names;
    for (const CLI::App* sub : at->get_subcommands([](const CLI::App*) { return true; }))
      names.push_back(sub->get_name());
    if (names.empty()) return "";  // a command's own arguments from here on
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : at->get_subcommands([](const CLI::App*) { return true; }))
      if (sub->check_name(word)) next = sub;
    if (!next) {
      std::string where = at == &app ? "" : " of '" + at->get_name() + "'";
      return "unknown command '" + lra::cut_for_message(word) + "'" + where + " (did you mean " +
             lra::nearest_name(word, names) + "?); see lra_cpu " +
             (at == &app ? "" : at->get_name() + " ") + "--help";
    }
    at = next;
  }
  return "";
}

int run(int argc, char** argv) {
  namespace code = lra::app::exit_code;
  CLI::App app{"lra_cpu: Long-Range-Arena efficient Transformers on multicore CPUs"};
  app.set_version_flag("--version", std::string("lra_cpu ") + LRA_VERSION);
  app.require_subcommand(1);
  app.footer(code::table);
  lra::app::Action action;
  lra::app::add_train_command(app, action);
  lra::app::add_data_command(app, action);
  lra::app::add_catalog_commands(app, action);
  lra::app::add_eval_command(app, action);
  lra::app::add_report_command(app, action);
  lra::app::add_info_command(app, action);
  lra::app::add_bench_command(app, action);
  lra::app::add_span_command(app, action);
  lra::app::add_plot_command(app, action);
  lra::app::add_attention_command(app, action);
  lra::app::add_bench_attention_command(app, action);
  lra::app::add_suite_command(app, action);
  lra::app::add_completion_command(app, action);
  lra::app::add_man_command(app, action);
  if (const std::string bad = unknown_command(app, argc, argv); !bad.empty()) {
    std::fprintf(stderr, "lra_cpu: %s\n", bad.c_str());
    return code::usage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int cli = app.exit(e);  // prints help/version (0) or the error and a hint
    return cli == 0 ? code::ok : code::usage;
  }
  try {
    return action ? action() : code::ok;
  } catch (const lra::ConfigError& e) {
    std::fprintf(stderr, "lra_cpu: configuration error: %s\n", e.what());
    return code::usage;
  } catch (const lra::DataError& e) {
    std::fprintf(stderr, "lra_cpu: data error: %s\n", e.what());
    return code::data;
  } catch (const lra::CheckpointError& e) {
    std::fprintf(stderr, "lra_cpu: checkpoint error: %s\n", e.what());
    return code::checkpoint;
  } catch (const lra::DivergedError& e) {
    std::fprintf(stderr, "lra_cpu: %s\n", e.what());
    return code::diverged;
  } catch (const lra::IoError& e) {
    std::fprintf(stderr, "lra_cpu: file error: %s\n", e.what());
    return code::io;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lra_cpu: internal error: %s\n", e.what());
    return code::internal;
  }
}

}  // namespace

// Under mpirun every rank runs the command; a rank that fails ends the whole job.
int main(int argc, char** argv) {
  lra::init_world(&argc, &argv);
  if (!lra::world().is_root()) std::freopen("/dev/null", "w", stdout);  // rank 0 alone prints
  const int rc = run(argc, argv);
  if (rc != 0 && rc != 130 && rc != 143 && lra::world().size() > 1) lra::world().abort(rc);
  lra::finalize_world();
  return rc;
}
