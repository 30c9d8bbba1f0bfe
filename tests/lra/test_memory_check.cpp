// The early memory check: the estimate's parts, the error naming the flags to lower against a
// fake limit, the impossible configurations refused, and the machine's figure read.
#include <doctest/doctest.h>

#include <string>

#include "lra/lra/tasks/settings.hpp"
#include "lra/lra/tasks/task.hpp"
#include "lra/lra/train/memory_check.hpp"
#include "lra/lra/train/trainer.hpp"

using namespace lra;

namespace {

// ListOps' cpu preset (the default) with some flags changed.
ModelConfig listops_cpu(std::initializer_list<std::pair<const char*, const char*>> flags) {
  Settings s;
  const TaskInfo& task = find_task("listops");
  for (const auto& [k, v] : task.preset("cpu").settings) s.set(k, v, "preset");
  for (const auto& [k, v] : flags) s.set(k, v, "flag");
  return model_config(s, task);
}

constexpr size_t kGiB = size_t(1) << 30;

}  // namespace

TEST_CASE("memory check: the estimate's parts grow with what they depend on") {
  const ModelConfig c = listops_cpu({});
  const MemoryEstimate e = estimate_training_memory(c, 32);
  CHECK(e.parameters > 0);
  CHECK(e.optimiser == 3 * e.parameters);
  CHECK(e.attention == 0);  // the flash kernel keeps no N x N weights
  const MemoryEstimate e2 = estimate_training_memory(c, 64);
  CHECK(e2.activations == doctest::Approx(2 * e.activations));
  CHECK(e2.parameters == e.parameters);
  const ModelConfig plain = listops_cpu({{"attn", "kernel=plain"}});
  const ModelConfig linformer = listops_cpu({{"model", "linformer"}, {"attn", "kernel=plain"}});
  // plain softmax keeps (B, H, N, N) weights; Linformer's plain kernel (B, H, N, k) ones
  CHECK(estimate_training_memory(plain, 32).attention >
        10 * estimate_training_memory(linformer, 32).attention);
  CHECK(estimate_training_memory(linformer, 32).attention > 0);
  CHECK(estimate_training_memory(listops_cpu({{"model", "linformer"}}), 32).attention == 0);
}

TEST_CASE("memory check: over a (fake) limit the error names the sizes and the flags") {
  const ModelConfig c = listops_cpu({});
  CHECK_NOTHROW(check_memory(c, 32, kGiB, "a fake limit"));
  CHECK_NOTHROW(check_memory(c, 32, 0, "unknown"));  // nothing known: no check
  try {
    check_memory(c, 32, size_t(1) << 20, "a fake limit");
    FAIL("a configuration over the limit passed");
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("a fake limit is 1 MiB") != std::string::npos);
    for (const char* flag : {"--layers (2)", "--dim (64)", "--max-len (500)", "--batch (32)"})
      CHECK_MESSAGE(msg.find(flag) != std::string::npos, msg);
  }
  // the configurations need more than a machine with 64 GiB has
  CHECK_THROWS_WITH_AS(
      check_memory(listops_cpu({{"layers", "600"}, {"dim", "512"}}), 32, 64 * kGiB, "a fake limit"),
      doctest::Contains("600 layers"), ConfigError);
  CHECK_THROWS_WITH_AS(
      check_memory(listops_cpu({{"max_len", "1000000000"}}), 32, 64 * kGiB, "a fake limit"),
      doctest::Contains("max_len 1000000000"), ConfigError);
  CHECK_THROWS_WITH_AS(check_memory(c, 100000, 64 * kGiB, "a fake limit"),
                       doctest::Contains("batch 100000"), ConfigError);
}

TEST_CASE("memory check: a rank sizes for its micro-batch, batch / (ranks x accumulate)") {
  const ModelConfig c = listops_cpu({});
  CHECK(rows_held(32, 2, 2) == 8);
  CHECK(rows_held(32, 1, 1) == 32);
  CHECK(rows_held(30, 4, 1) == 8);  // rounded up
  const double half = estimate_training_memory(c, 16).total();
  const double share = estimate_training_memory(c, 8).total();
  REQUIRE(share < half);
  const size_t between = size_t((half + share) / 2);  // fits 8 rows, not 16 or 32
  CHECK_THROWS_WITH_AS(check_memory(c, 32, between, "a fake limit"),
                       doctest::Contains("raise --accumulate (1"), ConfigError);
  CHECK_NOTHROW(check_memory(c, 32, between, "a fake limit", 2, 2));        // 2 ranks x 2 micro
  CHECK_NOTHROW(check_memory(c, 32, between, "a fake limit", 4, 1));        // 4 ranks
  CHECK_THROWS_WITH_AS(check_memory(c, 32, between, "a fake limit", 2, 1),  // 16 rows
                       doctest::Contains("16 rows at a time: 2 ranks x 1 micro-batch)"),
                       ConfigError);
}

TEST_CASE("memory check: this machine's available memory is read") {
  std::string source;
  CHECK(available_memory_bytes(&source) > 0);
  CHECK(!source.empty());
}
