// The per-mechanism facts table (lra/measure/mechanism_facts.hpp) against the registry.
#include <doctest/doctest.h>

#include <set>

#include "lra/attention/registry.hpp"
#include "lra/lra/measure/bench.hpp"
#include "lra/lra/measure/mechanism_facts.hpp"
#include "lra/lra/measure/pattern.hpp"
#include "lra/lra/measure/report.hpp"

using namespace lra;

namespace {

bool is_param(const attn::MechanismInfo& m, const std::string& name) {
  for (const attn::ParamSpec& p : m.params)
    if (p.name == name) return true;
  return false;
}

}  // namespace

TEST_CASE("facts: every registered mechanism has its row, every row a registered mechanism") {
  for (const attn::MechanismInfo& m : attn::mechanisms()) {
    INFO(m.name);
    const facts::Mechanism* f = facts::find(m.name);
    REQUIRE(f != nullptr);
    CHECK_FALSE(f->display.empty());
    CHECK(bool(f->picture_params));
    for (const auto& [name, value] : f->bench_params) CHECK(is_param(m, name));
    for (const auto& [name, value] : f->picture_params(256)) CHECK(is_param(m, name));
  }
  std::set<std::string> names;
  for (const facts::Mechanism& f : facts::mechanisms()) {
    CHECK(names.insert(f.name).second);  // one row each
    CHECK_NOTHROW(attn::find_mechanism(f.name));
  }
  CHECK(facts::find("no-such-mechanism") == nullptr);
  CHECK(facts::display_name("no-such-mechanism") == "no-such-mechanism");
}

TEST_CASE("facts: the paper's numbers are read from the one table") {
  CHECK(facts::display_name("local") == "Local Attention");
  CHECK(paper_accuracy("transformer", "listops").value() == doctest::Approx(36.37));
  CHECK(paper_accuracy("performer", "pathfinder").value() == doctest::Approx(77.05));
  CHECK_FALSE(paper_accuracy("transformer", "pathx").has_value());  // FAIL in the paper
  CHECK_FALSE(facts::find("sparse")->speedup_4k.has_value());       // not in Table 2
  CHECK(*facts::find("linear")->speedup_4k == doctest::Approx(5.6));
  for (const facts::Mechanism& f : facts::mechanisms())
    if (f.table1) {  // the average is the mean of the five (as printed: Sinkhorn's is 0.09 off)
      double sum = 0;
      for (double v : *f.table1) sum += v;
      CHECK(sum / 5 == doctest::Approx(*f.table1_average).epsilon(0.002));
    }
  // the bench and the pictures read the same rows
  CHECK(bench::default_mechanism_params("performer") == facts::bench_params("performer"));
  CHECK(pattern::picture_defaults("bigbird", 128).at("block") == "8");
}
