// lra_cpu train: resolve settings (defaults < preset < flags), find or generate data, train,
// report test accuracy of the best-validation parameters.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "commands.hpp"
#include "lra/core/error.hpp"
#include "lra/lra/trainer.hpp"
#include "progress.hpp"
#include "settings_flags.hpp"

namespace lra::app {
namespace {

std::string timestamp() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::localtime(&t));
  return buf;
}

GenerateOptions generate_options(const Settings& s) {
  GenerateOptions g;
  g.train = s.get_int("gen_train");
  g.val = s.get_int("gen_val");
  g.test = s.get_int("gen_test");
  g.seed = uint64_t(s.get_int("seed"));
  if (!s.get("gen_min_len").empty()) g.min_len = s.get_int("gen_min_len");
  if (!s.get("gen_max_len").empty()) g.max_len = s.get_int("gen_max_len");
  return g;
}

// The data folder for a run: --data, or a generated set cached under data/ by its settings.
std::string data_folder(const Settings& s, const TaskInfo& task) {
  if (!s.get("data").empty()) return s.get("data");
  LRA_CHECK(task.generate, ConfigError, "task ", task.name,
            " has no generator: pass --data DIR with the task's files (", task.layout, ")");
  GenerateOptions g = generate_options(s);
  std::string dir = "data/" + task.name + "-generated-s" + std::to_string(g.seed) + "-n" +
                    std::to_string(g.train) + "-" + std::to_string(g.val) + "-" +
                    std::to_string(g.test) + "-len" + std::to_string(g.min_len) + "-" +
                    std::to_string(g.max_len);
  if (std::filesystem::exists(dir + "/.complete")) {
    std::printf("using generated data in %s\n", dir.c_str());
    return dir;
  }
  std::printf("no --data given: generating a small %s set in %s\n", task.name.c_str(), dir.c_str());
  ProgressBar bar("generate", size_t(g.train + g.val + g.test));
  g.progress = [&](size_t done, size_t) { bar.update(done); };
  task.generate(dir, g);
  bar.finish();
  std::FILE* f = std::fopen((dir + "/.complete").c_str(), "w");
  if (f) std::fclose(f);
  return dir;
}

}  // namespace

void add_train_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("train", "train a model on an LRA task");
  auto flags = std::make_shared<SettingFlags>();
  flags->add_to(*cmd);
  cmd->callback([flags, &action]() {
    action = [flags]() {
      Settings s = flags->resolve();
      const TaskInfo& task = find_task(s.get("task"));
      std::string out = s.get("out").empty()
                            ? "runs/" + task.name + "-" + s.get("model") + "-" + timestamp()
                            : s.get("out");
      std::printf("settings (value <- source):\n");
      for (const auto& [k, e] : s.entries())
        if (e.source != "default" || k == "seed")
          std::printf("  %-13s %-12s <- %s\n", k.c_str(), e.value.c_str(), e.source.c_str());
      std::string dir = data_folder(s, task);
      ModelConfig mc = model_config(s, task);
      TaskData data = task.load(dir, mc.max_len);
      std::printf("data %s: %zu train, %zu val, %zu test examples\n", dir.c_str(),
                  data.train.examples.size(), data.val.examples.size(),
                  data.test.examples.size());
      for (const std::string& n : data.notes) std::printf("note: %s\n", n.c_str());
      TrainHooks hooks;
      hooks.log = [](const std::string& line) {
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
      };
      TrainResult r = train(s, task, data, out, hooks);
      std::printf("results written to %s/results.json\n", out.c_str());
      (void)r;
      return 0;
    };
  });
}

}  // namespace lra::app
