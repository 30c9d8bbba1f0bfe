// Text task: aclImdb folders and label<TAB>text files, byte tokens, notes, errors, training.
#include <doctest/doctest.h>

#include "lra/lra/data/text.hpp"
#include "lra/task_helpers.hpp"

using namespace lra_test;
using lra::data::byte_tokens;

namespace {

// A tiny aclImdb/: 3 reviews per class in train, 2 per class in test.
fs::path make_imdb(const std::string& name) {
  const fs::path root = fresh_dir("text", name) / "aclImdb";
  for (int i = 0; i < 3; ++i) {
    write_bytes(root / "train" / "pos" / (std::to_string(i) + "_9.txt"),
                "A wonderful film, number " + std::to_string(i) + ".<br />Loved it.");
    write_bytes(root / "train" / "neg" / (std::to_string(i) + "_2.txt"),
                "Dull and slow; review " + std::to_string(i));
  }
  write_bytes(root / "train" / "unsup" / "0_0.txt", "ignored");
  for (int i = 0; i < 2; ++i) {
    write_bytes(root / "test" / "pos" / (std::to_string(i) + "_10.txt"), "Great \xc3\xa9lan!");
    write_bytes(root / "test" / "neg" / (std::to_string(i) + "_1.txt"), "Bad.");
  }
  return root.parent_path();
}

}  // namespace

TEST_CASE("text: bytes are tokens byte+1, cut to max_len") {
  CHECK(byte_tokens("AB", 0) == std::vector<int32_t>{66, 67});
  CHECK(byte_tokens(std::string("\xff\x00z", 3), 2).size() == 2);
  CHECK(byte_tokens(std::string("\xff\x00", 2), 0) == std::vector<int32_t>{256, 1});
  CHECK(lra::data::kByteVocab == 257);
}

TEST_CASE("text: aclImdb layout is read, test doubles as validation, then 3 training steps") {
  const fs::path dir = make_imdb("acl");
  const lra::TaskInfo& task = lra::find_task("text");
  lra::TaskData d = task.load(dir.string(), 16);  // DIR is the parent of aclImdb/
  REQUIRE(d.train.examples.size() == 6);
  REQUIRE(d.test.examples.size() == 4);
  REQUIRE(d.val.examples.size() == 4);
  CHECK(d.train.examples[0].label == 0);  // negatives first, then positives
  CHECK(d.train.examples[5].label == 1);
  // "Dull and slow; review 0" cut to 16 bytes, ids = byte + 1
  CHECK(d.train.examples[0].tokens.size() == 16);
  CHECK(d.train.examples[0].tokens[0] == 'D' + 1);
  CHECK(d.train.truncated == 6);
  CHECK(d.train.longest > 16);
  CHECK(d.test.examples[2].tokens[6] == 0xc3 + 1);  // UTF-8 bytes, not characters
  bool val_note = false;
  for (const std::string& n : d.notes)
    val_note = val_note || n.find("doubles as validation") != std::string::npos;
  CHECK(val_note);

  const lra::DataCheck c = lra::check_data(task, dir.string(), 16);
  CHECK(c.ok);
  CHECK(c.report.find("train: 6 examples") != std::string::npos);
  CHECK(c.report.find("negative 3, positive 3") != std::string::npos);
  CHECK(c.report.find("ok: ") != std::string::npos);

  train_few_steps(task, d, fresh_dir("text", "acl-run"), 16);
}

TEST_CASE("text: label<TAB>text files with a header, CRLF, a val split and an empty review") {
  const fs::path dir = fresh_dir("text", "tsv");
  write_bytes(dir / "train.tsv",  // starts with a UTF-8 byte-order mark, which is dropped
              "\xEF\xBB\xBFlabel\ttext\r\n1\tgood\tstill the "
              "text\r\n0\tbad\r\nneg\tawful\npos\tfine\n1\t\n");
  write_bytes(dir / "val.tsv", "0\tmeh\n1\tyes\n");
  write_bytes(dir / "test.tsv", "\xEF\xBB\xBFpositive\tsuper\nnegative\tno\n");
  const lra::TaskData d = lra::data::read_text_folder(dir.string(), 0);
  REQUIRE(d.train.examples.size() == 4);
  CHECK(d.train.examples[0].tokens == byte_tokens("good\tstill the text", 0));
  CHECK(d.train.examples[0].label == 1);
  CHECK(d.train.examples[2].label == 0);
  CHECK(d.val.examples.size() == 2);
  CHECK(d.test.examples[1].label == 0);
  CHECK(d.test.examples[0].label == 1);
  CHECK(d.test.examples[0].tokens == byte_tokens("super", 0));
  bool empty_note = false;
  for (const std::string& n : d.notes) {
    CHECK(n.find("doubles as validation") == std::string::npos);
    empty_note = empty_note || n.find("skipped 1 review") != std::string::npos;
  }
  CHECK(empty_note);
  train_few_steps(lra::find_task("text"), d, fresh_dir("text", "tsv-run"), 32);
}

TEST_CASE("text: malformed folders and files name the file, line and expectation") {
  const fs::path dir = fresh_dir("text", "bad");
  CHECK(data_error([&] {
          lra::data::read_text_folder(dir.string(), 0);
        }).find("no IMDb data found; expected either aclImdb/") != std::string::npos);

  write_bytes(dir / "train.tsv", "1\tok\n0 no tab here\n");
  write_bytes(dir / "test.tsv", "1\tok\n");
  std::string e = data_error([&] { lra::data::read_text_folder(dir.string(), 0); });
  CHECK(e.find("train.tsv:2: no tab") != std::string::npos);
  CHECK(e.find("expected label<TAB>text") != std::string::npos);

  write_bytes(dir / "train.tsv", "1\tok\nmaybe\tso-so\n");
  e = data_error([&] { lra::data::read_text_folder(dir.string(), 0); });
  CHECK(e.find("train.tsv:2: label 'maybe'; expected 0, 1, neg or pos") != std::string::npos);

  fs::remove(dir / "test.tsv");
  write_bytes(dir / "train.tsv", "1\tok\n");
  e = data_error([&] { lra::data::read_text_folder(dir.string(), 0); });
  CHECK(e.find("test.tsv: cannot open file") != std::string::npos);

  const fs::path acl = make_imdb("acl-bad");
  fs::remove_all(acl / "aclImdb" / "test" / "neg");
  e = data_error([&] { lra::data::read_text_folder(acl.string(), 0); });
  CHECK(e.find("test/neg: missing folder") != std::string::npos);

  const lra::DataCheck c = lra::check_data(lra::find_task("text"), acl.string());
  CHECK_FALSE(c.ok);
  CHECK(c.report.find("FAILED: ") != std::string::npos);
  CHECK(c.report.find("test/neg: missing folder") != std::string::npos);

  const fs::path acl_dir = make_imdb("acl-dir");
  fs::create_directories(acl_dir / "aclImdb" / "train" / "pos" / "9_9.txt");
  e = data_error([&] { lra::data::read_text_folder(acl_dir.string(), 0); });
  CHECK(e.find("train/pos/9_9.txt: is a directory, expected a file") != std::string::npos);
}
