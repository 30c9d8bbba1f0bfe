// AAN pair reader for the retrieval task (see retrieval.hpp).
#include "lra/lra/data/retrieval.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/lra/data/text.hpp"

namespace fs = std::filesystem;

namespace lra::data {
namespace {

constexpr const char* kFiles =
    "new_aan_pairs.train.tsv, new_aan_pairs.eval.tsv and new_aan_pairs.test.tsv (LRA release "
    "tsv_data/: label<TAB>id1<TAB>id2<TAB>text1<TAB>text2, no header)";

// "1", "1.0", " 0.0" -> 0 or 1 via float then int (LRA); -1 for anything else.
int32_t parse_label(const std::string& s) {
  if (s.empty()) return -1;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || errno != 0 || !std::isfinite(v)) return -1;
  if (v != std::trunc(v)) return -1;  // 0.5 would silently become 0 in LRA; refuse it
  const int32_t label = int32_t(v);
  return label == 0 || label == 1 ? label : -1;
}

}  // namespace

Split read_aan_tsv(const std::string& path, int64_t max_len, int64_t* empty) {
  std::ifstream f = open_file<DataError>(path, kFiles);
  Split split;
  split.source = path;
  std::string line;
  int64_t line_no = 0;
  size_t tabs[4];
  while (std::getline(f, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1) drop_utf8_bom(line);
    if (line.empty()) continue;
    size_t count = 0;
    for (size_t i = 0; i < line.size(); ++i)
      if (line[i] == '\t') {
        if (count < 4) tabs[count] = i;
        ++count;
      }
    LRA_CHECK(count == 4, DataError, path, ":", line_no, ": ", count + 1,
              " tab-separated column(s); expected 5 (label id1 id2 text1 text2)");
    const std::string label_s = line.substr(0, tabs[0]);
    const int32_t label = parse_label(label_s);
    LRA_CHECK(label >= 0, DataError, path, ":", line_no, ": label '", label_s.substr(0, 40),
              "'; expected 0 or 1 (written as an integer or a float such as 1.0)");
    const std::string_view text1 =
        std::string_view(line).substr(tabs[2] + 1, tabs[3] - tabs[2] - 1);
    const std::string_view text2 = std::string_view(line).substr(tabs[3] + 1);
    if (text1.empty() || text2.empty()) {
      if (empty) ++*empty;
      continue;
    }
    Example ex;
    ex.label = label;
    ex.tokens = byte_tokens(text1, max_len);
    ex.tokens2 = byte_tokens(text2, max_len);
    const int64_t longest = int64_t(std::max(text1.size(), text2.size()));
    split.longest = std::max(split.longest, longest);
    if (max_len > 0 && longest > max_len) ++split.truncated;
    split.examples.push_back(std::move(ex));
  }
  LRA_CHECK(!f.bad(), DataError, path, ":", line_no, ": read error (", std::strerror(errno),
            "); expected a readable file");
  LRA_CHECK(!split.examples.empty(), DataError, path,
            ":0: no document pairs; expected lines label<TAB>id1<TAB>id2<TAB>text1<TAB>text2");
  return split;
}

TaskData read_retrieval_folder(const std::string& dir, int64_t max_len) {
  fs::path d(dir);
  std::error_code ec;
  if (!fs::exists(d / "new_aan_pairs.train.tsv", ec) &&
      fs::exists(d / "tsv_data" / "new_aan_pairs.train.tsv", ec))
    d /= "tsv_data";
  LRA_CHECK(fs::exists(d / "new_aan_pairs.train.tsv", ec), DataError, dir,
            ": no new_aan_pairs.train.tsv (nor tsv_data/new_aan_pairs.train.tsv); expected ",
            kFiles);
  TaskData out;
  int64_t empty = 0;
  out.train = read_aan_tsv((d / "new_aan_pairs.train.tsv").string(), max_len, &empty);
  out.val = read_aan_tsv((d / "new_aan_pairs.eval.tsv").string(), max_len, &empty);
  out.test = read_aan_tsv((d / "new_aan_pairs.test.tsv").string(), max_len, &empty);
  if (empty > 0)
    out.notes.push_back(detail::concat("skipped ", empty, " pair(s) with an empty document"));
  add_truncation_notes(out, max_len, "pairs had a document");
  return out;
}

}  // namespace lra::data
