// lra_cpu models / tasks: what the engine offers, with parameters, defaults and presets.
#include <cstdio>

#include "commands.hpp"
#include "lra/attention/registry.hpp"
#include "lra/lra/tasks/task.hpp"

namespace lra::app {

void add_catalog_commands(CLI::App& app, Action& action) {
  app.add_subcommand("models", "list the attention mechanisms and their parameters")
      ->callback([&action]() {
        action = []() {
          for (const attn::MechanismInfo& m : attn::mechanisms()) {
            std::printf("%-12s %s\n             %s\n", m.name.c_str(), m.title.c_str(),
                        m.summary.c_str());
            for (const attn::ParamSpec& p : m.params)
              std::printf("             --attn %s=%s  %s\n", p.name.c_str(),
                          p.default_value.c_str(), p.help.c_str());
          }
          return 0;
        };
      });
  app.add_subcommand("tasks", "list the LRA tasks, their data layout and presets")
      ->callback([&action]() {
        action = []() {
          for (const TaskInfo& t : tasks()) {
            std::printf(
                "%-10s %s\n           length %lld, vocab %lld, %lld classes%s\n"
                "           data: %s\n           from: %s\n",
                t.name.c_str(), t.title.c_str(), (long long)t.seq_len, (long long)t.vocab,
                (long long)t.classes, t.dual ? ", two documents per example" : "", t.layout.c_str(),
                t.data_source.c_str());
            for (const Preset& p : t.presets) {
              std::printf("           preset %-6s %s\n                 ", p.name.c_str(),
                          p.source.c_str());
              for (const auto& [k, v] : p.settings) std::printf(" %s=%s", k.c_str(), v.c_str());
              std::printf("\n");
            }
          }
          return 0;
        };
      });
}

}  // namespace lra::app
