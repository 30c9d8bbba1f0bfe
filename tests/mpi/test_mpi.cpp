// Data-parallel training under `mpirun -np 2` (this binary is started by mpirun: CTest entry
// mpi/test_mpi). Every rank runs the K = 1 reference on its own (serial communicator) and the
// K = 2 run on MPI_COMM_WORLD, then compares: the same global batch gives the same losses
// (1e-5 relative) and accuracies, --accumulate 2 on one rank matches K = 2, K = 2 repeats bit
// for bit, and a K = 2 run stopped midway resumes under K = 1.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <string>
#include <vector>

#include "lra/lra/train/distributed.hpp"
#include "lra/lra/train/trainer.hpp"
#include "lra/task_helpers.hpp"

using namespace lra;

namespace {

// The folder lra_test::fresh_dir("mpi", name) makes (on rank 0), as every rank sees it.
std::string shared_dir(const char* name) {
  const char* env = std::getenv("LRA_TEST_TMP");
  return (std::filesystem::path(env && *env ? env : std::filesystem::temp_directory_path()) /
          "mpi" / name)
      .string();
}

const TaskData& data() {
  static TaskData d = [] {
    if (world().is_root()) lra_test::generated_listops("mpi", 200, 32, 32, 8, 32, 32);
    world().barrier();  // rank 0 has written it
    return find_task("listops").load(shared_dir("data"), 32);
  }();
  return d;
}

Settings settings(int64_t steps, int64_t accumulate) {
  return lra_test::micro_listops({{"steps", std::to_string(steps)},
                                  {"batch", "8"},
                                  {"accumulate", std::to_string(accumulate)},
                                  {"attn_dropout", "0.1"},
                                  {"warmup", "5"},
                                  {"eval_every", "10"},
                                  {"log_every", "10"},
                                  {"max_len", "32"},
                                  {"seed", "5"}});
}

struct Trace {
  std::vector<float> losses;
  std::vector<double> accuracies;
  TrainResult result;
};

Trace run(Communicator& comm, int64_t steps, int64_t accumulate, const std::string& out = "",
          bool resume = false, int64_t stop_at = 0) {
  Trace t;
  std::atomic<bool> stop{false};
  TrainHooks hooks;
  hooks.on_step = [&](const StepInfo& si) {
    t.losses.push_back(si.loss);
    t.accuracies.push_back(si.interval_accuracy);
    if (si.step == stop_at) stop = true;
  };
  TrainOptions opt;
  opt.out_dir = out;
  opt.resume = resume;
  opt.comm = &comm;
  opt.stop = &stop;
  t.result = train(settings(steps, accumulate), find_task("listops"), data(), opt, hooks);
  return t;
}

// b's losses against a's from step from + 1 on.
void check_close(const Trace& a, const Trace& b, size_t from = 0) {
  REQUIRE(a.losses.size() >= b.losses.size() + from);
  for (size_t i = 0; i < b.losses.size(); ++i) {
    INFO("step " << from + i + 1 << ": " << a.losses[from + i] << " vs " << b.losses[i]);
    CHECK(std::abs(a.losses[from + i] - b.losses[i]) <= 1e-5 * std::abs(a.losses[from + i]));
  }
}

}  // namespace

TEST_CASE("mpi: two ranks, each with half of every global batch, take the one-rank steps") {
  REQUIRE(world().size() == 2);
  const Trace one = run(serial_communicator(), 50, 1);
  const Trace two = run(world(), 50, 1);
  check_close(one, two);
  CHECK(one.accuracies == two.accuracies);
  CHECK(one.result.best_val_accuracy == two.result.best_val_accuracy);
  CHECK(one.result.test_accuracy == two.result.test_accuracy);
  CHECK(one.losses.front() != one.losses.back());  // it trained

  SUBCASE("--accumulate 2 on one rank matches two ranks") {
    const Trace acc = run(serial_communicator(), 50, 2);
    check_close(two, acc);
    CHECK(acc.accuracies == two.accuracies);
  }
  SUBCASE("two ranks repeat bit for bit") {
    const Trace again = run(world(), 50, 1);
    CHECK(again.losses == two.losses);
    CHECK(again.result.test_accuracy == two.result.test_accuracy);
  }
}

TEST_CASE("mpi: a two-rank run stopped at step 10 resumes under one rank") {
  REQUIRE(world().size() == 2);
  if (world().is_root()) lra_test::fresh_dir("mpi", "run");
  world().barrier();
  const std::string shared = shared_dir("run");
  const Trace first = run(world(), 20, 1, shared, false, 10);
  CHECK(first.result.interrupted);
  CHECK(first.losses.size() == 10);
  world().barrier();
  if (world().is_root()) {  // rank 0 alone continues, K = 1
    const Trace rest = run(serial_communicator(), 20, 1, shared, true);
    CHECK(rest.result.resumed_from == 10);
    const Trace straight = run(serial_communicator(), 20, 1);
    check_close(straight, first);     // steps 1-10
    check_close(straight, rest, 10);  // steps 11-20
    CHECK(rest.result.test_accuracy == straight.result.test_accuracy);
  }
  world().barrier();
}

int main(int argc, char** argv) {
  init_world(&argc, &argv);
  doctest::Context ctx(argc, argv);
  const int rc = ctx.run();
  finalize_world();
  return rc;
}
