// Data-parallel training under `mpirun -np 2` (this binary is started by mpirun: CTest entry
// mpi/test_mpi). Every rank runs the K = 1 reference on its own (serial communicator) and the
// K = 2 run on MPI_COMM_WORLD, then compares: the same global batch gives the same losses
// (1e-5 relative) and accuracies, --accumulate 2 on one rank matches K = 2, so does K = 2 x
// --accumulate 2, K = 2 repeats bit for bit, and a K = 2 run stopped midway resumes under
// K = 1. GradientSync's buckets start during the backward pass and give the blocking sums.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <string>
#include <vector>

#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "lra/lra/train/distributed.hpp"
#include "lra/lra/train/trainer.hpp"
#include "lra/task_helpers.hpp"
#include "test_util.hpp"

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
          bool resume = false, int64_t stop_at = 0,
          int64_t bucket_bytes = GradientSync::kBucketBytes) {
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
  opt.bucket_bytes = bucket_bytes;
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

  // one pass over the variants (a SUBCASE would rerun the two runs above for each)
  const Trace acc = run(serial_communicator(), 50, 2);  // --accumulate 2 on one rank
  check_close(two, acc);
  CHECK(acc.accuracies == two.accuracies);
  const Trace both = run(world(), 50, 2);  // two ranks x --accumulate 2: sums in the last one
  check_close(one, both);
  CHECK(both.accuracies == one.accuracies);
  const Trace again = run(world(), 50, 1);  // two ranks repeat bit for bit
  CHECK(again.losses == two.losses);
  CHECK(again.result.test_accuracy == two.result.test_accuracy);
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

TEST_CASE("mpi: gradient buckets start during the backward and sum to the blocking result") {
  REQUIRE(world().size() == 2);
  // Four layers h = tanh(h W_l + b_l) on rank-dependent inputs; `unused` is in no graph,
  // `only0` in rank 0's alone.
  using test::randu;
  std::vector<Var> params;
  for (uint64_t l = 0; l < 4; ++l) {
    params.push_back(Var::param(randu({16, 16}, 10 + l)));
    params.push_back(Var::param(randu({16}, 20 + l)));
  }
  Var unused = Var::param(randu({16}, 30)), only0 = Var::param(randu({16}, 31));
  params.push_back(unused);
  params.push_back(only0);
  const Var x(randu({8, 16}, 40 + uint64_t(world().rank())));
  auto loss = [&] {
    for (Var& p : params) p.zero_grad();
    Var h = x;
    for (size_t l = 0; l < 8; l += 2) h = tanh(add(matmul(h, params[l]), params[l + 1]));
    if (world().rank() == 0) h = add(h, only0);
    return sum_all(h);
  };
  loss().backward();  // reference: plain backward, then one blocking sum per gradient
  std::vector<std::vector<float>> expected;
  for (Var& p : params) {
    const Tensor g = p.grad().defined() ? p.grad().contiguous() : Tensor::zeros(p.shape());
    expected.emplace_back(g.data<float>(), g.data<float>() + g.numel());
    world().allreduce_sum(expected.back().data(), int64_t(expected.back().size()));
  }
  GradientSync sync(params, world(), 1024);  // a 16 x 16 weight fills a bucket
  REQUIRE(sync.buckets() == 4);              // last registered first: {only0, unused, b3, W3}, ...
  for (int round = 0; round < 2; ++round) {  // the second reuses the buffer
    Var l = loss();
    {
      const GradReadyScope overlap = sync.watch(l);
      l.backward();
    }
    CHECK(sync.started_in_backward() >= 3);  // the top layers' buckets overlap the backward
    sync.finish();
    for (size_t i = 0; i + 2 < params.size(); ++i) {
      const Tensor g = params[i].grad().contiguous();
      CHECK(std::vector<float>(g.data<float>(), g.data<float>() + g.numel()) == expected[i]);
    }
    CHECK(!unused.grad().defined());  // undefined on every rank: stays undefined
    REQUIRE(only0.grad().defined());  // rank 0's gradient, zeros from rank 1
    CHECK(std::vector<float>(only0.grad().data<float>(), only0.grad().data<float>() + 16) ==
          expected.back());
  }
}

TEST_CASE("mpi: small gradient buckets give the same steps bit for bit") {
  REQUIRE(world().size() == 2);
  const Trace whole = run(world(), 12, 1);
  const Trace small = run(world(), 12, 1, "", false, 0, 2048);  // dozens of buckets
  CHECK(small.losses == whole.losses);
  CHECK(small.result.test_accuracy == whole.result.test_accuracy);
}

int main(int argc, char** argv) {
  init_world(&argc, &argv);
  doctest::Context ctx(argc, argv);
  const int rc = ctx.run();
  finalize_world();
  return rc;
}
