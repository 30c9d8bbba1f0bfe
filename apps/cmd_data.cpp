// lra_cpu data generate <task> --out DIR: write a synthetic data folder in the task's format.
// lra_cpu data check --task T --data DIR: read a data folder as training would, then print
// examples per split and class, or exactly what is wrong (exit code 3).
#include <cstdio>

#include "commands.hpp"
#include "lra/core/error.hpp"
#include "lra/core/threading.hpp"
#include "lra/lra/tasks/task.hpp"
#include "progress.hpp"

namespace lra::app {
void add_data_command(CLI::App& app, Action& action) {
  auto* data = app.add_subcommand("data", "generate or check LRA data folders");
  data->require_subcommand(1);

  // ---- generate ----------------------------------------------------------------------------
  auto* gen = data->add_subcommand(
      "generate", "write a synthetic data set (listops; pathfinder, pathfinder64, pathx)");
  struct Args {
    std::string task, out;
    GenerateOptions g;
    int64_t n = 0;
    std::string style;
    int contour_length = 0;
    int distractors = -1;
    int threads = 0;
  };
  auto a = std::make_shared<Args>();
  a->g.train = 96000;
  a->g.val = 2000;
  a->g.test = 2000;
  gen->add_option("task", a->task, "task to generate")->required();
  gen->add_option("--out", a->out, "output folder")->required();
  gen->add_option("--train", a->g.train, "training examples")->capture_default_str();
  gen->add_option("--val", a->g.val, "validation examples")->capture_default_str();
  gen->add_option("--test", a->g.test, "test examples")->capture_default_str();
  gen->add_option("--seed", a->g.seed, "random seed")->capture_default_str();
  gen->add_option("--threads", a->threads,
                  "worker threads (0: all cores; the data does not depend on it)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  gen->add_option("--min-len", a->g.min_len, "length lower bound (exclusive; 0: task default)");
  gen->add_option("--max-len", a->g.max_len, "length upper bound (exclusive; 0: task default)");
  gen->add_option("--size", a->g.image_size,
                  "pathfinder image side: 32, 64 or 128 (0: the task's own size)");
  gen->add_option("--n", a->n,
                  "pathfinder: images in total (its files carry no split; the reader splits "
                  "them 80/10/10); default --train + --val + --test");
  gen->add_option("--style", a->style,
                  "pathfinder drawing: release (dashed paddles with black gaps, antialiased, as "
                  "the LRA release; default) or connected (touching dashes, an easier setting)");
  gen->add_option("--contour-length", a->contour_length,
                  "pathfinder paddles per target curve, 3-14: 14 (curv_contour_length_14, "
                  "LRA's; default), 9 and 6 (curv_baseline) as in the release; shorter is easier")
      ->check(CLI::Range(3, 14));
  gen->add_option("--distractors", a->distractors,
                  "pathfinder distractor snakes per image, 0-50 (default: LRA's, 5 at 32x32); "
                  "fewer is an easier setting")
      ->check(CLI::Range(0, 50));
  gen->callback([a, &action]() {
    action = [a]() {
      const TaskInfo& task = find_task(a->task);
      LRA_CHECK(task.generate, ConfigError, "task ", task.name,
                " has no generator: it reads real data, from ", task.data_source,
                ". The folder holds ", task.layout);
      const bool images = task.name.rfind("pathfinder", 0) == 0 || task.name == "pathx";
      LRA_CHECK(images || (a->n == 0 && a->g.image_size == 0 && a->style.empty() &&
                           a->contour_length == 0 && a->distractors < 0),
                ConfigError,
                "--n, --size, --style, --contour-length and --distractors are for the pathfinder "
                "tasks; ",
                task.name, " takes --train/--val/--test");
      set_num_threads(a->threads);
      if (!a->style.empty()) a->g.pathfinder_style = a->style;
      if (a->contour_length != 0) a->g.pathfinder_contour_length = a->contour_length;
      if (a->distractors >= 0) a->g.pathfinder_distractors = a->distractors;
      if (a->n > 0) {
        a->g.train = a->n;
        a->g.val = a->g.test = 0;
      }
      LRA_CHECK(a->g.train >= 0 && a->g.val >= 0 && a->g.test >= 0, ConfigError,
                "example counts must not be negative");
      const int64_t total = a->g.train + a->g.val + a->g.test;
      ProgressBar bar("generate " + task.name, size_t(total));
      a->g.progress = [&](size_t done, size_t) { bar.update(done); };
      task.generate(a->out, a->g);
      bar.finish();
      if (images)
        std::printf("wrote %lld %s images to %s (split 80/10/10 when read)\n", (long long)total,
                    task.name.c_str(), a->out.c_str());
      else
        std::printf("wrote %lld/%lld/%lld %s examples to %s\n", (long long)a->g.train,
                    (long long)a->g.val, (long long)a->g.test, task.name.c_str(), a->out.c_str());
      return 0;
    };
  });

  // ---- check -------------------------------------------------------------------------------
  auto* check = data->add_subcommand(
      "check",
      "read a data folder as training would; print examples per split and class, or "
      "what is wrong");
  struct CheckArgs {
    std::string task, dir;
    int64_t max_len = 0;
  };
  auto c = std::make_shared<CheckArgs>();
  check->add_option("--task", c->task, "task (see `lra_cpu tasks`)")->required();
  check->add_option("--data", c->dir, "data folder")->required();
  check->add_option("--max-len", c->max_len, "tokens per sequence (0: the task's length)");
  check->callback([c, &action]() {
    action = [c]() {
      const DataCheck r = check_data(find_task(c->task), c->dir, c->max_len);
      std::fputs(r.report.c_str(), stdout);
      return r.ok ? 0 : 3;
    };
  });
}

}  // namespace lra::app
