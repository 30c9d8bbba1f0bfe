// The attention-core benchmark (fast path vs dense face): rows, table and the memory it
// reports (never a timing).
#include <doctest/doctest.h>

#include "lra/lra/measure/bench_attention.hpp"

TEST_CASE("bench attention core: one row per mechanism and length, dense faces are N x N") {
  lra::bench::CoreOptions opt;
  opt.models = {"transformer", "local", "linear"};
  opt.lengths = {128, 256};
  opt.reps = 1;
  opt.params["local"] = {{"block", "32"}};
  const std::vector<lra::bench::CoreRow> rows = lra::bench::bench_attention_core(opt);
  REQUIRE(rows.size() == 6);
  for (const lra::bench::CoreRow& r : rows) {
    INFO(r.model << " N=" << r.n);
    CHECK(r.fast_ms > 0.0);
    CHECK(r.dense_fwd_peak >= size_t(r.n * r.n) * sizeof(float));  // the N x N weights
    CHECK((r.dense_train_ms >= 0.0) == (r.model != "linear"));     // masked softmax family only
  }
  // Rows come model by model, lengths in order: (model, 128) then (model, 256). Doubling N
  // about doubles the fast path's bytes for the sub-quadratic mechanisms.
  for (size_t i : {size_t(2), size_t(4)}) {
    INFO(rows[i].model);
    CHECK(double(rows[i + 1].fast_peak) < 2.5 * double(rows[i].fast_peak));
  }
  const std::string md = lra::bench::core_markdown(rows);
  CHECK(md.find("| local | 256 |") != std::string::npos);
  CHECK(md.find("| linear | 128 |") != std::string::npos);
}
