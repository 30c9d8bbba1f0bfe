// Byte-level IMDb reader: aclImdb folders or label<TAB>text files (see text.hpp).
#include "lra/lra/data/text.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/core/threading.hpp"

namespace fs = std::filesystem;

namespace lra::data {
namespace {

constexpr const char* kLayouts =
    "either aclImdb/ (train/{neg,pos}/*.txt and test/{neg,pos}/*.txt) or train.tsv and "
    "test.tsv (lines label<TAB>text, label 0/1 or neg/pos)";

// "1234_8.txt" -> 1234 (files sort by review id, not by name: 10_1 after 9_2).
int64_t leading_number(const std::string& name) {
  int64_t v = 0;
  size_t i = 0;
  for (; i < name.size() && name[i] >= '0' && name[i] <= '9' && v < (int64_t{1} << 50); ++i)
    v = v * 10 + (name[i] - '0');
  return i == 0 ? -1 : v;
}

std::vector<fs::path> txt_files(const fs::path& dir) {
  std::error_code ec;
  LRA_CHECK(fs::is_directory(dir, ec), DataError, dir.string(),
            ": missing folder; expected the aclImdb layout (", kLayouts, ")");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".txt") files.push_back(e.path());
  LRA_CHECK(!ec, DataError, dir.string(), ": cannot list folder (", ec.message(),
            "); expected a readable folder of reviews");
  LRA_CHECK(!files.empty(), DataError, dir.string(),
            ": no .txt files; expected one review per file (e.g. 0_3.txt)");
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
    const std::string na = a.filename().string(), nb = b.filename().string();
    const int64_t ia = leading_number(na), ib = leading_number(nb);
    return ia != ib ? ia < ib : na < nb;
  });
  return files;
}

std::string slurp(const fs::path& p) {
  return read_file<DataError>(p.string(), "a review as a text file");
}

// Adds one review to `split` (or counts it as empty).
void add_review(Split& split, std::string_view text, int32_t label, int64_t max_len,
                int64_t* empty) {
  if (text.empty()) {
    if (empty) ++*empty;
    return;
  }
  Example ex;
  ex.tokens = byte_tokens(text, max_len);
  ex.label = label;
  const int64_t n = int64_t(text.size());
  split.longest = std::max(split.longest, n);
  if (max_len > 0 && n > max_len) ++split.truncated;
  split.examples.push_back(std::move(ex));
}

// "0"/"1"/"neg"/"pos"/"negative"/"positive" -> 0/1, else -1.
int32_t parse_label(std::string_view s) {
  if (s == "0" || s == "neg" || s == "negative") return 0;
  if (s == "1" || s == "pos" || s == "positive") return 1;
  return -1;
}

bool exists_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}
bool exists_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

}  // namespace

std::vector<int32_t> byte_tokens(std::string_view text, int64_t max_len) {
  const size_t n = max_len > 0 ? std::min(text.size(), size_t(max_len)) : text.size();
  std::vector<int32_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = int32_t(static_cast<unsigned char>(text[i])) + 1;
  return ids;
}

Split read_imdb_split(const std::string& split_dir, int64_t max_len, int64_t* empty) {
  Split split;
  split.source = split_dir;
  for (int32_t label : {0, 1}) {
    const std::vector<fs::path> files = txt_files(fs::path(split_dir) / (label ? "pos" : "neg"));
    // Files are read in parallel into their slots, then added in order (same result for any
    // thread count).
    std::vector<std::string> texts(files.size());
    parallel_for(int64_t(files.size()), 64, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) texts[size_t(i)] = slurp(files[size_t(i)]);
    });
    for (const std::string& t : texts) add_review(split, t, label, max_len, empty);
  }
  return split;
}

Split read_text_tsv(const std::string& path, int64_t max_len, int64_t* empty) {
  std::ifstream f = open_file<DataError>(path, "a text TSV with lines label<TAB>text");
  Split split;
  split.source = path;
  std::string line;
  int64_t line_no = 0;
  while (std::getline(f, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1) drop_utf8_bom(line);
    if (line.empty()) continue;
    const size_t tab = line.find('\t');
    LRA_CHECK(tab != std::string::npos, DataError, path, ":", line_no,
              ": no tab in the line (starts '", line.substr(0, 40), "'); expected label<TAB>text");
    const std::string_view label_s(line.data(), tab);
    const int32_t label = parse_label(label_s);
    if (label < 0 && line_no == 1 && (label_s == "label" || label_s == "Label")) continue;
    LRA_CHECK(label >= 0, DataError, path, ":", line_no, ": label '", label_s.substr(0, 40),
              "'; expected 0, 1, neg or pos");
    add_review(split, std::string_view(line).substr(tab + 1), label, max_len, empty);
  }
  LRA_CHECK(!f.bad(), DataError, path, ":", line_no, ": read error (", std::strerror(errno),
            "); expected a readable file");
  LRA_CHECK(!split.examples.empty(), DataError, path,
            ":0: no reviews; expected at least one line label<TAB>text");
  return split;
}

void add_truncation_notes(TaskData& d, int64_t max_len, const char* what) {
  const std::pair<const char*, const Split*> splits[] = {
      {"train", &d.train}, {"val", &d.val}, {"test", &d.test}};
  for (const auto& [name, s] : splits) {
    if (s->truncated == 0) continue;
    d.notes.push_back(detail::concat(name, ": ", s->truncated, " of ", s->examples.size(), " ",
                                     what, " cut to ", max_len, " bytes (longest ", s->longest,
                                     "; --max-len changes the cut)"));
  }
}

TaskData read_text_folder(const std::string& dir, int64_t max_len) {
  const fs::path d(dir);
  fs::path imdb;
  if (exists_dir(d / "train" / "pos") || exists_dir(d / "train" / "neg"))
    imdb = d;
  else if (exists_dir(d / "aclImdb" / "train"))
    imdb = d / "aclImdb";
  const bool tsv = exists_file(d / "train.tsv");
  LRA_CHECK(!imdb.empty() || tsv, DataError, dir, ": no IMDb data found; expected ", kLayouts);

  TaskData out;
  int64_t empty = 0;
  bool has_val = false;
  if (!imdb.empty()) {
    out.train = read_imdb_split((imdb / "train").string(), max_len, &empty);
    out.test = read_imdb_split((imdb / "test").string(), max_len, &empty);
    if (exists_dir(imdb / "val")) {
      out.val = read_imdb_split((imdb / "val").string(), max_len, &empty);
      has_val = true;
    }
    if (tsv) out.notes.push_back("both aclImdb/ and train.tsv found: reading aclImdb/");
  } else {
    out.train = read_text_tsv((d / "train.tsv").string(), max_len, &empty);
    out.test = read_text_tsv((d / "test.tsv").string(), max_len, &empty);
    if (exists_file(d / "val.tsv")) {
      out.val = read_text_tsv((d / "val.tsv").string(), max_len, &empty);
      has_val = true;
    }
  }
  add_truncation_notes(out, max_len, "reviews");  // before val may become a copy of test
  if (!has_val) {
    out.val = out.test;
    out.val.source = out.test.source + " (test split, doubling as validation)";
    out.notes.push_back(
        "no validation split: the test split doubles as validation, as in LRA (IMDb has none); "
        "accuracy selected on it is optimistic - add a val split for a clean estimate");
  }
  if (empty > 0) out.notes.push_back(detail::concat("skipped ", empty, " review(s) with no text"));
  return out;
}

}  // namespace lra::data
