// Every mechanism trains on every task: the model x task matrix of `lra_cpu train --task T
// --model M`, run on small in-memory splits shaped like each task (its vocabulary, classes, a
// second document for Retrieval, ragged lengths so padding is exercised), 2 steps each.
#include <doctest/doctest.h>

#include <string>

#include "lra/attention/registry.hpp"
#include "lra/core/rng.hpp"
#include "task_helpers.hpp"

using namespace lra_test;

namespace {

// n examples of random tokens in [1, vocab) with lengths in [len/2, len] and random labels.
lra::data::Split random_split(const lra::TaskInfo& task, int n, int64_t len, uint64_t seed) {
  lra::data::Split s;
  s.source = "random " + task.name;
  const uint64_t key = lra::rng_key(seed, {lra::rng_tag("matrix")});
  uint64_t draw = 0;
  auto below = [&](int64_t m) { return int64_t(lra::random_below(key, draw++, uint64_t(m))); };
  auto document = [&] {
    std::vector<int32_t> t(size_t(len / 2 + below(len / 2 + 1)));
    for (int32_t& id : t) id = int32_t(1 + below(task.vocab - 1));
    return t;
  };
  for (int i = 0; i < n; ++i) {
    lra::data::Example e;
    e.tokens = document();
    if (task.dual) e.tokens2 = document();
    e.label = int32_t(below(task.classes));
    s.examples.push_back(std::move(e));
  }
  return s;
}

}  // namespace

TEST_CASE("every model trains 2 steps on every task") {
  const int64_t len = 64;
  for (const lra::TaskInfo& task : lra::tasks()) {
    lra::TaskData data;
    data.train = random_split(task, 8, len, 1);
    data.val = random_split(task, 4, len, 2);
    data.test = random_split(task, 4, len, 3);
    for (const lra::attn::MechanismInfo& m : lra::attn::mechanisms()) {
      const std::string& model = m.name;
      INFO(task.name << " x " << model);
      train_few_steps(task, data, fresh_dir("matrix", task.name + "-" + model), len, 2, model);
    }
  }
}
