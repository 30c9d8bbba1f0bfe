// lra_cpu: train, evaluate and measure Long-Range-Arena xformers on the CPU.
#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "lra/core/error.hpp"
#include "lra/lra/distributed.hpp"

#ifndef LRA_VERSION
#define LRA_VERSION "0.0.0"
#endif

namespace {

int run(int argc, char** argv) {
  CLI::App app{"lra_cpu: Long-Range-Arena efficient Transformers on multicore CPUs"};
  app.set_version_flag("--version", std::string("lra_cpu ") + LRA_VERSION);
  app.require_subcommand(1);
  lra::app::Action action;
  lra::app::add_train_command(app, action);
  lra::app::add_data_command(app, action);
  lra::app::add_catalog_commands(app, action);
  lra::app::add_eval_command(app, action);
  lra::app::add_report_command(app, action);
  lra::app::add_info_command(app, action);
  lra::app::add_bench_command(app, action);
  lra::app::add_span_command(app, action);
  lra::app::add_attention_command(app, action);
  lra::app::add_bench_attention_command(app, action);
  lra::app::add_suite_command(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return action ? action() : 0;
  } catch (const lra::ConfigError& e) {
    std::fprintf(stderr, "lra_cpu: configuration error: %s\n", e.what());
    return 2;
  } catch (const lra::DataError& e) {
    std::fprintf(stderr, "lra_cpu: data error: %s\n", e.what());
    return 3;
  } catch (const lra::CheckpointError& e) {
    std::fprintf(stderr, "lra_cpu: checkpoint error: %s\n", e.what());
    return 4;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lra_cpu: error: %s\n", e.what());
    return 1;
  }
}

}  // namespace

// Under mpirun every rank runs the command; a rank that fails ends the whole job.
int main(int argc, char** argv) {
  lra::init_world(&argc, &argv);
  if (!lra::world().is_root()) std::freopen("/dev/null", "w", stdout);  // rank 0 alone prints
  const int rc = run(argc, argv);
  if (rc != 0 && rc != 130 && lra::world().size() > 1) lra::world().abort(rc);
  lra::finalize_world();
  return rc;
}
