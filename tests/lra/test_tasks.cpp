// The task registry: every task and preset is well formed; ListOps end to end (folder from
// bytes, data check on good and malformed folders, 3 training steps).
#include <doctest/doctest.h>

#include <set>

#include "lra/lra/data/listops.hpp"
#include "lra/task_helpers.hpp"

using namespace lra_test;

TEST_CASE("tasks: the six LRA tasks (and Pathfinder-64) with paper, cpu and tiny presets") {
  std::set<std::string> names;
  for (const lra::TaskInfo& t : lra::tasks()) {
    CAPTURE(t.name);
    names.insert(t.name);
    CHECK(t.seq_len > 0);
    CHECK(t.vocab > 0);
    CHECK(t.classes >= 2);
    CHECK(t.class_names.size() == size_t(t.classes));
    CHECK(!t.layout.empty());
    CHECK(t.data_source.find(t.generate ? "generated" : "--data") != std::string::npos);
    CHECK(t.load);
    for (const char* preset : {"paper", "cpu", "tiny"}) {
      const lra::Preset& p = t.preset(preset);
      CHECK(!p.source.empty());
      lra::Settings s;
      for (const auto& [k, v] : p.settings) s.set(k, v, p.name);  // keys exist in the schema
      std::set<std::string> keys;
      for (const auto& [k, v] : p.settings) {
        CAPTURE(k);
        CHECK(keys.insert(k).second);  // no key twice
      }
      for (const char* key : {"layers", "dim", "heads", "qkv_dim", "mlp_dim", "steps", "batch"})
        CHECK(s.get_int(key) > 0);
      CHECK(s.get_int("qkv_dim") % s.get_int("heads") == 0);
    }
  }
  for (const char* n : {"listops", "text", "retrieval", "image", "pathfinder", "pathx"})
    CHECK(names.count(n) == 1);
  CHECK(names.count("pathfinder64") == 1);
  CHECK(lra::find_task("retrieval").dual);
  CHECK(lra::find_task("pathfinder").generate);
  CHECK(lra::find_task("pathx").generate);
  CHECK_FALSE(lra::find_task("image").generate);
  CHECK_THROWS_AS(lra::find_task("cifar"), lra::ConfigError);
}

TEST_CASE("listops task: a folder written from bytes is checked and trains 3 steps") {
  const fs::path dir = fresh_dir("tasks", "listops");
  const std::string header = "Source\tTarget\n";
  std::string train = header, val = header, test = header;
  const char* rows[] = {"( ( ( [MAX 2 ) 9 ) ] )\t9\n", "[MIN 4 2 7 ]\t2\n", "[SM 9 8 7 ]\t4\n",
                        "[MED 3 8 1 6 ]\t4\n"};
  for (int i = 0; i < 8; ++i) train += rows[i % 4];
  for (int i = 0; i < 4; ++i) val += rows[i], test += rows[3 - i];
  write_bytes(dir / "basic_train.tsv", train);
  write_bytes(dir / "basic_val.tsv", val);
  write_bytes(dir / "basic_test.tsv", test);

  const lra::TaskInfo& task = lra::find_task("listops");
  const lra::DataCheck c = lra::check_data(task, dir.string());
  CHECK(c.ok);
  CHECK(c.report.find("train: 8 examples") != std::string::npos);
  CHECK(c.report.find("2 2, 3 0, 4 4") != std::string::npos);  // class "2": 2, "4": 4
  train_few_steps(task, c.data, fresh_dir("tasks", "listops-run"), 64);

  write_bytes(dir / "basic_val.tsv", header + "[MAX 2 9 ]\t12\n");
  const lra::DataCheck bad = lra::check_data(task, dir.string());
  CHECK_FALSE(bad.ok);
  CHECK(bad.report.find("FAILED: ") != std::string::npos);
  CHECK(bad.report.find("basic_val.tsv:2: label '12'; expected an integer in 0..9") !=
        std::string::npos);
}

TEST_CASE("data check: an empty validation split fails with a clear message") {
  const fs::path dir = fresh_dir("tasks", "empty-val");
  write_bytes(dir / "basic_train.tsv", "Source\tTarget\n[MAX 1 2 ]\t2\n");
  write_bytes(dir / "basic_val.tsv", "Source\tTarget\n");
  write_bytes(dir / "basic_test.tsv", "Source\tTarget\n");
  const lra::DataCheck c = lra::check_data(lra::find_task("listops"), dir.string());
  CHECK_FALSE(c.ok);
  CHECK(c.report.find("FAILED: the val split is empty") != std::string::npos);
}

TEST_CASE("listops task: expressions longer than max_len are left out with a note, not cut") {
  const fs::path dir = fresh_dir("tasks", "listops-long");
  const std::string header = "Source\tTarget\n";
  const std::string short_row = "[MIN 4 2 7 ]\t2\n";                      // 5 tokens
  const std::string long_row = "[MAX 1 [MIN 4 2 7 ] 3 [SM 1 2 ] ]\t3\n";  // 13 tokens
  write_bytes(dir / "basic_train.tsv", header + short_row + long_row + short_row + long_row);
  write_bytes(dir / "basic_val.tsv", header + short_row + long_row);
  write_bytes(dir / "basic_test.tsv", header + short_row);
  const lra::TaskInfo& task = lra::find_task("listops");

  const lra::TaskData d = task.load(dir.string(), 10);
  CHECK(d.train.examples.size() == 2);
  CHECK(d.train.dropped == 2);
  CHECK(d.val.dropped == 1);
  CHECK(d.test.dropped == 0);
  for (const lra::data::Example& e : d.train.examples) CHECK(e.tokens.size() == 5);  // whole
  REQUIRE(d.notes.size() == 2);  // train and val; test lost nothing
  CHECK(d.notes[0] ==
        "ListOps: 2 of 4 train examples longer than max_len 10 were left out; raise --max-len "
        "(up to 13) or generate shorter expressions (lra_cpu data generate listops --max-len 11)");
  CHECK(d.notes[1].find("1 of 2 val examples") != std::string::npos);
  CHECK(task.load(dir.string(), 13).notes.empty());  // everything fits

  const lra::DataCheck c = lra::check_data(task, dir.string(), 10);
  CHECK(c.ok);
  CHECK(c.report.find("train: 2 examples, longest 13 tokens, 2 longer than 10 left out") !=
        std::string::npos);

  // A split left empty is refused, naming --max-len.
  write_bytes(dir / "basic_val.tsv", header + long_row);
  try {
    task.load(dir.string(), 10);
    FAIL("an empty val split was accepted");
  } catch (const lra::ConfigError& e) {
    const std::string m = e.what();
    CHECK(m.find("all 1 val examples") != std::string::npos);
    CHECK(m.find("--max-len") != std::string::npos);
  }
  const lra::DataCheck bad = lra::check_data(task, dir.string(), 10);
  CHECK_FALSE(bad.ok);
  CHECK(bad.report.find("FAILED: ListOps: all 1 val examples") != std::string::npos);
}
