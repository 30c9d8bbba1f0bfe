// lra_cpu bench-attention: the attention core alone, fast path vs dense face, per mechanism
// and length (lra/include/lra/lra/measure/bench_attention.hpp).
#include <cstdio>

#include "commands.hpp"
#include "lra/attention/options.hpp"
#include "lra/attention/registry.hpp"
#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/core/threading.hpp"
#include "lra/lra/measure/bench_attention.hpp"

namespace lra::app {

void add_bench_attention_command(CLI::App& app, Action& action) {
  struct Flags {
    std::vector<std::string> models, attn;
    bench::CoreOptions opt;
    int threads = 1;
    std::string out;
  };
  auto f = std::make_shared<Flags>();
  auto* cmd = app.add_subcommand(
      "bench-attention",
      "the attention core alone (batch 1, one head): fast path forward+backward vs the dense "
      "N x N face, time and allocator peak bytes");
  cmd->add_option("--models", f->models, "mechanisms, comma-separated (default: all)")
      ->delimiter(',');
  cmd->add_option("--lengths", f->opt.lengths, "sequence lengths, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--head-dim", f->opt.head_dim, "d, the head width")->capture_default_str();
  cmd->add_option("--reps", f->opt.reps, "timed runs per figure (median)")->capture_default_str();
  cmd->add_option("--threads", f->threads, "worker threads (0: all cores)")->capture_default_str();
  cmd->add_option("--attn", f->attn, "mechanism parameters MODEL:name=value[,name=value]");
  cmd->add_option("--out", f->out, "also write the Markdown table to this file");
  cmd->callback([f, &action]() {
    action = [f]() {
      bench::CoreOptions opt = f->opt;
      LRA_CHECK(opt.reps >= 1, ConfigError, "--reps ", opt.reps, ": must be at least 1");
      for (int64_t n : opt.lengths)
        LRA_CHECK(n >= 1 && n <= 16384, ConfigError, "--lengths: ", n,
                  " is out of range; the dense face needs N x N floats, use 1..16384");
      if (f->models.empty())
        for (const attn::MechanismInfo& m : attn::mechanisms()) opt.models.push_back(m.name);
      for (const std::string& m : f->models) opt.models.push_back(attn::find_mechanism(m).name);
      for (const std::string& a : f->attn) {
        const size_t colon = a.find(':');
        LRA_CHECK(colon != std::string::npos, ConfigError, "--attn ", a,
                  ": expected MODEL:name=value[,name=value], e.g. local:block=64");
        const std::string model = attn::find_mechanism(a.substr(0, colon)).name;
        for (const auto& [k, v] : attn::parse_param_list(a.substr(colon + 1)))
          opt.params[model][k] = v;
      }
      set_num_threads(f->threads);
      std::printf("attention core, batch 1, 1 head, d %lld, %d thread(s), median of %d\n",
                  (long long)opt.head_dim, num_threads(), opt.reps);
      std::vector<bench::CoreRow> rows;
      for (const std::string& m : opt.models) {
        bench::CoreOptions one = opt;
        one.models = {m};
        for (const bench::CoreRow& r : bench::bench_attention_core(one)) {
          std::printf(
              "  %-12s N %6lld: fast %9.1f ms %8.1f MiB | dense face fwd %9.1f ms %8.1f MiB\n",
              r.model.c_str(), (long long)r.n, r.fast_ms, double(r.fast_peak) / 1048576.0,
              r.dense_fwd_ms, double(r.dense_fwd_peak) / 1048576.0);
          std::fflush(stdout);
          rows.push_back(r);
        }
      }
      const std::string md = bench::core_markdown(rows);
      std::printf("\n%s", md.c_str());
      if (!f->out.empty()) write_file_atomic(f->out, md);
      return 0;
    };
  });
}

}  // namespace lra::app
