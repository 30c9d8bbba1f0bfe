// ListOps: evaluation, printing, generator properties, TSV round trip and reader errors.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "lra/core/error.hpp"
#include "lra/core/threading.hpp"
#include "lra/lra/data/listops.hpp"

namespace fs = std::filesystem;
using namespace lra::data;

namespace {

fs::path test_dir(const std::string& name) {
  const char* env = std::getenv("LRA_TEST_TMP");
  fs::path d = (env && *env ? fs::path(env) : fs::temp_directory_path()) / "listops" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

// The DataError message of read_listops_tsv on `path`, or "" when it does not throw.
std::string read_error(const fs::path& path) {
  try {
    read_listops_tsv(path.string(), 0);
  } catch (const lra::DataError& e) {
    return e.what();
  }
  return "";
}

ListOpsConfig small_config(uint64_t seed) {
  ListOpsConfig cfg;
  cfg.seed = seed;
  cfg.min_length = 10;
  cfg.max_length = 100;
  cfg.num_train = 200;
  cfg.num_val = 30;
  cfg.num_test = 20;
  return cfg;
}

}  // namespace

TEST_CASE("listops evaluate: each operator on hand-built expressions") {
  CHECK(evaluate("[MIN 4 2 7 ]") == 2);
  CHECK(evaluate("[MAX 4 2 7 ]") == 7);
  CHECK(evaluate("[SM 9 8 7 ]") == 4);  // 24 mod 10
  CHECK(evaluate("[SM 0 0 ]") == 0);
  CHECK(evaluate("[MED 4 2 7 ]") == 4);        // odd count: middle value
  CHECK(evaluate("[MED 1 2 ]") == 1);          // even: 1.5 truncated
  CHECK(evaluate("[MED 3 8 1 6 ]") == 4);      // sorted 1 3 6 8 -> 4.5 -> 4
  CHECK(evaluate("[MED 9 8 ]") == 8);          // 8.5 -> 8
  CHECK(evaluate("[MED 5 5 0 9 9 1 ]") == 5);  // sorted 0 1 5 5 9 9 -> 5
  CHECK(evaluate("[MED 7 ]") == 7);
  CHECK(evaluate("7") == 7);
}

TEST_CASE("listops evaluate: nesting, parentheses and X") {
  CHECK(evaluate("[MAX 2 9 [MIN 4 7 ] 0 ]") == 9);
  CHECK(evaluate("[MIN 2 9 [MIN 4 1 ] 3 ]") == 1);
  CHECK(evaluate("[SM [MAX 5 6 ] [MED 1 2 3 4 ] 7 ]") == 5);       // 6 + 2 + 7 = 15
  CHECK(evaluate("[MED [SM 9 9 ] [MAX 1 [MIN 3 4 ] ] 0 ]") == 3);  // med(8, 3, 0)
  CHECK(evaluate("( ( ( [MAX 2 ) 9 ) ] )") == 9);
  CHECK(evaluate("[MAX 2 9 X") == 9);
  CHECK(evaluate("( ( ( [MAX ( ( ( [MIN 1 ) 2 ) ] ) ) 3 ) ] )") == 3);
}

TEST_CASE("listops evaluate: malformed expressions throw DataError") {
  CHECK_THROWS_AS(evaluate(""), lra::DataError);
  CHECK_THROWS_AS(evaluate("[MAX ]"), lra::DataError);
  CHECK_THROWS_AS(evaluate("[MAX 1 2"), lra::DataError);
  CHECK_THROWS_AS(evaluate("1 2"), lra::DataError);
  CHECK_THROWS_AS(evaluate("]"), lra::DataError);
  CHECK_THROWS_AS(evaluate("[MAX 1 2 ] ]"), lra::DataError);
  CHECK_THROWS_WITH_AS(evaluate("[FOO 1 ]"), doctest::Contains("unknown token '[FOO'"),
                       lra::DataError);
}

TEST_CASE("listops printing matches the reference's left-nested form") {
  const auto max29 = tokenize_listops("[MAX 2 9 ]");
  CHECK(max29 ==
        std::vector<int32_t>{kListOpsMax, kListOpsDigit0 + 2, kListOpsDigit0 + 9, kListOpsEnd});
  CHECK(listops_to_source(max29) == "( ( ( [MAX 2 ) 9 ) ] )");
  const auto nested = tokenize_listops("[MAX [MIN 1 2 ] 3 ]");
  const std::string printed = listops_to_source(nested);
  CHECK(printed == "( ( ( [MAX ( ( ( [MIN 1 ) 2 ) ] ) ) 3 ) ] )");
  CHECK(tokenize_listops(printed) == nested);
  CHECK(listops_to_source(tokenize_listops("4")) == "4");
  CHECK(std::string(listops_token_name(kListOpsSum)) == "[SM");
  CHECK(std::string(listops_token_name(kListOpsCls)) == "<cls>");
  CHECK(kListOpsVocab == 17);
}

TEST_CASE("listops generator: lengths, uniqueness, labels") {
  const ListOpsConfig cfg = small_config(7);
  ListOpsStats stats;
  const auto ex = generate_listops(cfg, 300, {}, &stats);
  REQUIRE(ex.size() == 300);
  CHECK(stats.candidates >= 300);
  std::set<std::vector<int32_t>> unique;
  std::set<int32_t> labels;
  for (const Example& e : ex) {
    const int64_t n = static_cast<int64_t>(e.tokens.size());
    CHECK(n > cfg.min_length);
    CHECK(n < cfg.max_length);
    for (int32_t id : e.tokens) CHECK((id >= 1 && id <= kListOpsEnd));
    const std::string source = listops_to_source(e.tokens);
    CHECK(tokenize_listops(source).size() == e.tokens.size());
    CHECK(e.label == evaluate(source));
    CHECK(e.tokens2.empty());
    unique.insert(e.tokens);
    labels.insert(e.label);
  }
  CHECK(unique.size() == ex.size());
  CHECK(labels.size() >= 5);  // all four operators over random digits: many classes appear
}

TEST_CASE("listops generator: deterministic for a seed, independent of thread count") {
  const int saved = lra::num_threads();
  const ListOpsConfig cfg = small_config(11);
  lra::set_num_threads(1);
  const auto one = generate_listops(cfg, 200);
  lra::set_num_threads(2);
  const auto two = generate_listops(cfg, 200);
  const auto again = generate_listops(cfg, 200);
  const auto other = generate_listops(small_config(12), 200);
  lra::set_num_threads(saved);
  REQUIRE(one.size() == two.size());
  bool same = true, differs = false;
  for (size_t i = 0; i < one.size(); ++i) {
    same = same && one[i].tokens == two[i].tokens && one[i].label == two[i].label &&
           two[i].tokens == again[i].tokens;
    differs = differs || one[i].tokens != other[i].tokens;
  }
  CHECK(same);
  CHECK(differs);
  // A prefix of a longer run: trees are accepted in candidate order.
  const auto fewer = generate_listops(cfg, 50);
  for (size_t i = 0; i < fewer.size(); ++i) CHECK(fewer[i].tokens == one[i].tokens);
}

TEST_CASE("listops generator: impossible configs throw ConfigError") {
  ListOpsConfig cfg = small_config(1);
  cfg.max_length = cfg.min_length + 1;
  CHECK_THROWS_AS(generate_listops(cfg, 1), lra::ConfigError);
  cfg = small_config(1);
  cfg.max_depth = 2;
  cfg.max_args = 3;  // at most 2 + 3 = 5 tokens
  CHECK_THROWS_AS(generate_listops(cfg, 1), lra::ConfigError);
  cfg = small_config(1);
  cfg.min_length = 0;
  cfg.max_length = 3;  // only the 10 single digits exist
  CHECK_THROWS_AS(generate_listops(cfg, 11), lra::ConfigError);
}

TEST_CASE("listops dataset directory: three splits, writer -> reader round trip") {
  const fs::path dir = test_dir("dataset") / "out";
  const ListOpsConfig cfg = small_config(3);
  size_t last_done = 0, last_total = 0;
  write_listops_dataset(dir.string(), cfg, [&](size_t done, size_t total) {
    last_done = done;
    last_total = total;
  });
  CHECK(last_done == 250);
  CHECK(last_total == 250);
  const Split train = read_listops_tsv((dir / "basic_train.tsv").string(), 0);
  const Split val = read_listops_tsv((dir / "basic_val.tsv").string(), 0);
  const Split test = read_listops_tsv((dir / "basic_test.tsv").string(), 0);
  CHECK(!fs::exists(dir / "basic_train.tsv.tmp"));
  REQUIRE(train.examples.size() == 200);
  REQUIRE(val.examples.size() == 30);
  REQUIRE(test.examples.size() == 20);
  CHECK(train.truncated == 0);
  CHECK(train.longest < cfg.max_length);
  const auto all = generate_listops(cfg, 250);
  std::set<std::vector<int32_t>> unique;
  size_t i = 0;
  for (const Split* s : {&train, &val, &test})
    for (const Example& e : s->examples) {
      CHECK(e.tokens == all[i].tokens);
      CHECK(e.label == all[i].label);
      CHECK(e.label == evaluate(e.tokens));
      unique.insert(e.tokens);
      ++i;
    }
  CHECK(unique.size() == 250);
  std::ifstream f(dir / "basic_val.tsv");
  std::string header, first;
  std::getline(f, header);
  std::getline(f, first);
  CHECK(header == "Source\tTarget");
  CHECK(first == listops_to_source(all[200].tokens) + "\t" + std::to_string(all[200].label));
}

TEST_CASE("listops TSV: examples round trip; longer ones are left out, never cut") {
  const fs::path dir = test_dir("roundtrip");
  std::vector<Example> ex;
  for (const char* s : {"[MAX 2 9 ]", "7", "[SM [MAX 5 6 ] [MED 1 2 3 4 ] 7 ]"}) {
    Example e;
    e.tokens = tokenize_listops(s);
    e.label = evaluate(e.tokens);
    ex.push_back(e);
  }
  const std::string path = (dir / "basic_test.tsv").string();
  write_listops_tsv(path, ex);
  const Split full = read_listops_tsv(path, 0);
  CHECK(full.source == path);
  REQUIRE(full.examples.size() == ex.size());
  for (size_t i = 0; i < ex.size(); ++i) {
    CHECK(full.examples[i].tokens == ex[i].tokens);
    CHECK(full.examples[i].label == ex[i].label);
  }
  CHECK(full.truncated == 0);
  CHECK(full.longest == 13);
  const Split kept = read_listops_tsv(path, 4);  // "[MAX 2 9 ]" is 4 tokens: kept whole
  CHECK(kept.truncated == 0);
  CHECK(kept.dropped == 1);
  REQUIRE(kept.examples.size() == 2);
  CHECK(kept.examples[0].tokens == ex[0].tokens);
  CHECK(kept.examples[1].tokens == ex[1].tokens);
  CHECK(kept.longest == 13);
}

TEST_CASE("listops TSV: reference files with CRLF line ends and blank lines are read") {
  const fs::path p = test_dir("crlf") / "ref.tsv";
  write_text(p, "Source\tTarget\r\n( ( ( [MAX 2 ) 9 ) ] )\t9\r\n\r\n( ( [SM 4 ) ] )\t4\r\n");
  const Split s = read_listops_tsv(p.string(), 0);
  REQUIRE(s.examples.size() == 2);
  CHECK(s.examples[0].label == 9);
  CHECK(s.examples[1].tokens == std::vector<int32_t>{kListOpsSum, kListOpsDigit0 + 4, kListOpsEnd});
}

TEST_CASE("listops TSV: malformed files name the file and line") {
  const fs::path dir = test_dir("malformed");
  const std::string good = "( ( ( [MAX 2 ) 9 ) ] )\t9\n";

  const fs::path missing_col = dir / "missing_col.tsv";
  write_text(missing_col, "Source\tTarget\n" + good + "( ( ( [MAX 2 ) 9 ) ] )\n");
  std::string msg = read_error(missing_col);
  CHECK(msg.find(missing_col.string() + ":3:") != std::string::npos);
  CHECK(msg.find("expected 2") != std::string::npos);

  const fs::path extra_col = dir / "extra_col.tsv";
  write_text(extra_col, "Source\tTarget\n" + good + good + "[MAX 1 2 ]\t2\t0\n");
  msg = read_error(extra_col);
  CHECK(msg.find(extra_col.string() + ":4:") != std::string::npos);
  CHECK(msg.find("3 tab-separated") != std::string::npos);

  const fs::path bad_token = dir / "bad_token.tsv";
  write_text(bad_token, "Source\tTarget\n( ( [FIRST 2 ) ] )\t2\n");
  msg = read_error(bad_token);
  CHECK(msg.find(bad_token.string() + ":2:") != std::string::npos);
  CHECK(msg.find("unknown token '[FIRST'") != std::string::npos);
  CHECK(msg.find("expected") != std::string::npos);

  const fs::path bad_label = dir / "bad_label.tsv";
  write_text(bad_label, "Source\tTarget\n" + good + "( ( ( [SM 2 ) 9 ) ] )\t12\n");
  msg = read_error(bad_label);
  CHECK(msg.find(bad_label.string() + ":3:") != std::string::npos);
  CHECK(msg.find("label '12'") != std::string::npos);

  const fs::path text_label = dir / "text_label.tsv";
  write_text(text_label, "Source\tTarget\n( ( ( [SM 2 ) 9 ) ] )\tnine\n");
  CHECK(read_error(text_label).find(text_label.string() + ":2: label 'nine'") != std::string::npos);

  const fs::path no_header = dir / "no_header.tsv";
  write_text(no_header, good);
  msg = read_error(no_header);
  CHECK(msg.find(no_header.string() + ":1:") != std::string::npos);
  CHECK(msg.find("missing header") != std::string::npos);

  const fs::path bom = dir / "bom.tsv";  // a UTF-8 byte-order mark before the header is dropped
  write_text(bom, "\xEF\xBB\xBFSource\tTarget\n" + good);
  CHECK(read_error(bom).empty());

  const fs::path empty = dir / "empty.tsv";
  write_text(empty, "");
  CHECK(read_error(empty).find(empty.string() + ": empty file (0 bytes)") != std::string::npos);

  const fs::path folder = dir / "folder.tsv";
  fs::create_directories(folder);
  CHECK(read_error(folder).find(folder.string() + ": is a directory, expected a file") !=
        std::string::npos);

  const fs::path empty_source = dir / "empty_source.tsv";
  write_text(empty_source, "Source\tTarget\n( )\t3\n");
  CHECK(read_error(empty_source).find(empty_source.string() + ":2: empty Source") !=
        std::string::npos);

  const fs::path absent = dir / "does_not_exist.tsv";
  msg = read_error(absent);
  CHECK(msg.find(absent.string() + ": cannot open file (No such file") != std::string::npos);
}
