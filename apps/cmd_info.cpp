// lra_cpu info: what this build is and what it runs on — version, build type and flags,
// compiler, SIMD level compiled for and detected, BLAS vendor/version/core, threads, and where
// presets, data and runs are looked up (from lra::api::engine_info(), which embedding programs
// can call too), and whether MPI is compiled in and the world size.
#include <cstdio>
#include <filesystem>
#include <string>

#include "commands.hpp"
#include "lra/core/threading.hpp"
#include "lra/lra/tasks/task.hpp"
#include "lra/lra/train/api.hpp"
#include "lra/lra/train/distributed.hpp"

namespace lra::app {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : " ") + x;
  return s.empty() ? "-" : s;
}

}  // namespace

void add_info_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("info",
                                 "print the version, build, SIMD, BLAS and threads, and "
                                 "where presets and data are looked up");
  auto threads = std::make_shared<int>(0);
  cmd->add_option("--threads", *threads, "worker threads to configure first (0: all cores)")
      ->capture_default_str();
  cmd->callback([threads, &action]() {
    action = [threads]() {
      set_num_threads(*threads);
      const api::EngineInfo e = api::engine_info();
      const std::filesystem::path cwd = std::filesystem::current_path();
      std::printf("lra_cpu %s\n", e.version.c_str());
      std::printf("build      %s, %s libraries\n", e.build_type.c_str(),
                  e.shared ? "shared" : "static");
      std::printf("flags      %s\n", e.cxx_flags.c_str());
      std::printf("compiler   %s\n", e.compiler.c_str());
      std::printf("cpu        %s\n", e.cpu.empty() ? "unknown" : e.cpu.c_str());
      std::printf("simd       compiled for %s (%s)\n", e.simd_compiled.c_str(),
                  join(e.simd_compiled_features).c_str());
      std::printf("           detected     %s (%s)%s\n", e.simd_detected.c_str(),
                  join(e.simd_detected_features).c_str(),
                  e.simd_compiled == e.simd_detected ? "" : "  <- differs from the build");
      std::printf("blas       %s %s, core %s, %d thread%s\n", e.blas_vendor.c_str(),
                  e.blas_version.c_str(), e.blas_core.c_str(), e.blas_threads,
                  e.blas_threads == 1 ? "" : "s");
      if (!e.blas_config.empty()) std::printf("           config  %s\n", e.blas_config.c_str());
      if (!e.blas_library.empty()) std::printf("           library %s\n", e.blas_library.c_str());
      std::printf(
          "threads    lra %d (TBB arena; BLAS runs single-threaded inside it), "
          "TBB default %d, hardware %d\n",
          e.lra_threads, e.tbb_threads, e.hardware_threads);
      if (mpi_library_version().empty())
        std::printf("mpi        not compiled in (install libopenmpi-dev and rebuild)\n");
      else
        std::printf("mpi        compiled in: %s; world size %d (this is rank %d)\n",
                    mpi_library_version().c_str(), world().size(), world().rank());
      std::printf("presets    built in (`lra_cpu tasks`):");
      for (const TaskInfo& t : tasks()) {
        std::printf(" %s[", t.name.c_str());
        for (size_t i = 0; i < t.presets.size(); ++i)
          std::printf("%s%s", i ? "," : "", t.presets[i].name.c_str());
        std::printf("]");
      }
      std::printf("\n");
      std::printf("data       --data DIR; without it, generated sets are cached in %s/\n",
                  (cwd / "data").c_str());
      std::printf("runs       --out DIR; without it, %s/<task>-<model>-<time>/\n",
                  (cwd / "runs").c_str());
      return 0;
    };
  });
}

}  // namespace lra::app
