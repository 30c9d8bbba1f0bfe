// Retrieval task: new_aan_pairs TSVs, two documents per example, errors, dual-tower training.
#include <doctest/doctest.h>

#include "lra/lra/data/retrieval.hpp"
#include "lra/lra/data/text.hpp"
#include "lra/task_helpers.hpp"

using namespace lra_test;
using lra::data::byte_tokens;

namespace {

std::string pair_line(const std::string& label, int i) {
  return label + "\tP0" + std::to_string(i) + "-1001\tJ9" + std::to_string(i) +
         "-2004\tWe present a parser number " + std::to_string(i) +
         ".\tA corpus study of citations " + std::to_string(i) + "\n";
}

fs::path make_aan(const std::string& name) {
  const fs::path dir = fresh_dir("retrieval", name);
  const fs::path tsv = dir / "tsv_data";
  std::string train, eval, test;
  for (int i = 0; i < 8; ++i) train += pair_line(i % 2 ? "1.0" : "0.0", i);
  for (int i = 0; i < 4; ++i) eval += pair_line(i % 2 ? "1" : "0", i);
  for (int i = 0; i < 4; ++i) test += pair_line(i % 2 ? "1" : "0", i);
  write_bytes(tsv / "new_aan_pairs.train.tsv", train);
  write_bytes(tsv / "new_aan_pairs.eval.tsv", eval);
  write_bytes(tsv / "new_aan_pairs.test.tsv", test);
  return dir;
}

}  // namespace

TEST_CASE("retrieval: AAN pair files are read as two byte documents, then 3 dual-tower steps") {
  const fs::path dir = make_aan("good");
  const lra::TaskInfo& task = lra::find_task("retrieval");
  CHECK(task.dual);
  const lra::TaskData d = task.load(dir.string(), 20);  // DIR is the parent of tsv_data/
  REQUIRE(d.train.examples.size() == 8);
  REQUIRE(d.val.examples.size() == 4);
  REQUIRE(d.test.examples.size() == 4);
  const lra::data::Example& e = d.train.examples[1];
  CHECK(e.label == 1);  // "1.0" parsed as a float, then cast
  CHECK(d.train.examples[0].label == 0);
  CHECK(e.tokens == byte_tokens("We present a parser number 1.", 20));
  CHECK(e.tokens2 == byte_tokens("A corpus study of citations 1", 20));
  CHECK(e.tokens.size() == 20);
  CHECK(d.train.truncated == 8);

  const lra::DataCheck c = lra::check_data(task, dir.string(), 20);
  CHECK(c.ok);
  CHECK(c.report.find("unrelated 4, linked 4") != std::string::npos);
  CHECK(c.report.find("per document") != std::string::npos);

  train_few_steps(task, d, fresh_dir("retrieval", "run"), 20);
}

TEST_CASE("retrieval: malformed pair files name the file, line and expectation") {
  const fs::path dir = make_aan("bad");
  const fs::path train = dir / "tsv_data" / "new_aan_pairs.train.tsv";
  auto error = [&] {
    return data_error([&] { lra::data::read_retrieval_folder(dir.string(), 0); });
  };

  write_bytes(train, pair_line("1", 0) + "1\tA\tB\tonly one text\n");
  std::string e = error();
  CHECK(e.find("new_aan_pairs.train.tsv:2: 4 tab-separated column(s); expected 5 (label id1 id2 "
               "text1 text2)") != std::string::npos);

  write_bytes(train, "yes\tA\tB\tx\ty\n");
  e = error();
  CHECK(e.find("new_aan_pairs.train.tsv:1: label 'yes'; expected 0 or 1") != std::string::npos);

  write_bytes(train, "2\tA\tB\tx\ty\n");
  CHECK(error().find(":1: label '2'") != std::string::npos);
  write_bytes(train, "0.5\tA\tB\tx\ty\n");
  CHECK(error().find(":1: label '0.5'") != std::string::npos);

  write_bytes(train, pair_line("1", 0) + "0\tA\tB\t\ty\n");  // an empty document is skipped
  lra::TaskData d = lra::data::read_retrieval_folder(dir.string(), 0);
  CHECK(d.train.examples.size() == 1);
  REQUIRE(!d.notes.empty());
  CHECK(d.notes[0].find("skipped 1 pair") != std::string::npos);

  fs::remove(dir / "tsv_data" / "new_aan_pairs.eval.tsv");
  CHECK(error().find("new_aan_pairs.eval.tsv: cannot open file") != std::string::npos);
  fs::create_directories(dir / "tsv_data" / "new_aan_pairs.eval.tsv");
  CHECK(error().find("new_aan_pairs.eval.tsv: is a directory, expected a file") !=
        std::string::npos);
  fs::remove(dir / "tsv_data" / "new_aan_pairs.eval.tsv");
  const lra::DataCheck c = lra::check_data(lra::find_task("retrieval"), dir.string());
  CHECK_FALSE(c.ok);
  CHECK(c.report.find("FAILED: ") != std::string::npos);
  CHECK(c.report.find("new_aan_pairs.eval.tsv") != std::string::npos);

  fs::remove_all(dir / "tsv_data");
  CHECK(error().find("no new_aan_pairs.train.tsv") != std::string::npos);
}
