// ListOps generator, evaluator, printer, TSV writer and reader (see listops.hpp).
#include "lra/lra/data/listops.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <system_error>
#include <unordered_set>

#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/core/rng.hpp"
#include "lra/core/threading.hpp"

namespace lra::data {
namespace {

constexpr std::array<const char*, kListOpsVocab> kTokenNames = {
    "<pad>", "[MIN", "[MAX", "[MED", "[SM", "0", "1", "2",    "3",
    "4",     "5",    "6",    "7",    "8",   "9", "X", "<cls>"};

constexpr const char* kExpectedTokens = "one of [MIN [MAX [MED [SM 0-9 ] X ( )";

bool is_op(int32_t id) {
  return id >= kListOpsMin && id <= kListOpsSum;
}
bool is_digit(int32_t id) {
  return id >= kListOpsDigit0 && id < kListOpsDigit0 + 10;
}

// A word of Source (parentheses already deleted) -> id, or -1 when unknown.
int32_t word_id(std::string_view w) {
  if (w.size() == 1) {
    const char c = w[0];
    if (c >= '0' && c <= '9') return kListOpsDigit0 + (c - '0');
    if (c == ']' || c == 'X') return kListOpsEnd;
    return -1;
  }
  if (w == "[MIN") return kListOpsMin;
  if (w == "[MAX") return kListOpsMax;
  if (w == "[MED") return kListOpsMed;
  if (w == "[SM") return kListOpsSum;
  return -1;
}

// The reference pipeline: "]" -> "X", delete "(" and ")", split on whitespace. Appends ids to
// `out`; on an unknown word returns false with the word in *bad.
bool tokenize_into(std::string_view src, std::vector<int32_t>& out, std::string* bad) {
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  std::string cleaned;
  size_t i = 0;
  while (i < src.size()) {
    if (is_space(src[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    bool has_paren = false;
    for (; end < src.size() && !is_space(src[end]); ++end)
      has_paren = has_paren || src[end] == '(' || src[end] == ')';
    std::string_view word = src.substr(i, end - i);
    i = end;
    if (has_paren) {  // rare except for the bare "(" and ")" words
      cleaned.clear();
      for (char c : word)
        if (c != '(' && c != ')') cleaned.push_back(c);
      if (cleaned.empty()) continue;
      word = cleaned;
    }
    const int32_t id = word_id(word);
    if (id < 0) {
      *bad = std::string(word);
      return false;
    }
    out.push_back(id);
  }
  return true;
}

// Value of one operator node, accumulated as its children arrive. Values are digits, so a
// histogram gives the median without storing the children.
struct OpFrame {
  int32_t op = 0;
  int64_t count = 0, sum = 0;
  int32_t lo = 9, hi = 0;
  std::array<int64_t, 10> hist{};

  void add(int32_t v) {
    ++count;
    sum += v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    ++hist[v];
  }
  // The value at rank r (0-based) of the sorted children.
  int32_t at_rank(int64_t r) const {
    for (int32_t v = 0; v < 10; ++v) {
      if (r < hist[v]) return v;
      r -= hist[v];
    }
    return 9;
  }
  int32_t value() const {
    switch (op) {
      case kListOpsMin:
        return lo;
      case kListOpsMax:
        return hi;
      // int(numpy.median): mean of the two middle values, truncated toward zero (values >= 0).
      case kListOpsMed:
        return (at_rank((count - 1) / 2) + at_rank(count / 2)) / 2;
      default:
        return static_cast<int32_t>(sum % 10);
    }
  }
};

std::string token_list_error(std::span<const int32_t> t, size_t pos, const char* what,
                             const char* expected) {
  return detail::concat("listops expression: ", what, " at token ", pos, " ('",
                        pos < t.size() ? listops_token_name(t[pos]) : "<end>", "'); expected ",
                        expected);
}

// Walks a prefix token sequence, checking it is exactly one expression. Calls
// on_node_end(pos) when the node ending at token pos completes. Returns the value.
template <typename OnOpEnd>
int32_t walk(std::span<const int32_t> t, OnOpEnd on_op_end) {
  LRA_CHECK(!t.empty(), DataError,
            "listops expression: empty; expected a digit or an operator expression");
  std::vector<OpFrame> stack;
  std::vector<size_t> open_pos;
  int32_t root = -1;
  for (size_t i = 0; i < t.size(); ++i) {
    const int32_t id = t[i];
    LRA_CHECK(root < 0, DataError,
              token_list_error(t, i, "extra token after a complete expression",
                               "the expression to end there"));
    if (is_op(id)) {
      stack.push_back(OpFrame{});
      stack.back().op = id;
      open_pos.push_back(i);
      continue;
    }
    int32_t value = 0;
    if (is_digit(id)) {
      value = id - kListOpsDigit0;
    } else if (id == kListOpsEnd) {
      LRA_CHECK(!stack.empty(), DataError,
                token_list_error(t, i, "']' without an open operator",
                                 "an operator such as [MAX before it"));
      LRA_CHECK(
          stack.back().count > 0, DataError,
          token_list_error(t, i, "operator with no arguments", "at least one argument before ']'"));
      value = stack.back().value();
      on_op_end(open_pos.back(), stack.back().count);
      stack.pop_back();
      open_pos.pop_back();
    } else {
      throw DataError(
          token_list_error(t, i, "invalid token id", "operators, digits and ']' (ids 1..15)"));
    }
    if (stack.empty())
      root = value;
    else
      stack.back().add(value);
  }
  LRA_CHECK(stack.empty(), DataError,
            token_list_error(t, t.size(), "unclosed operator", "one ']' per operator"));
  return root;
}

// ---- generation --------------------------------------------------------------------------

// One candidate tree in prefix form (one byte per token id), drawn depth first with the
// reference's draws: r ~ U[0,1) (forced leaf at max_depth); r > 0.25 -> digit; else
// k ~ U{2..max_args} children, then the operator. Gives up as soon as the tree can no longer
// be shorter than max_length (tokens so far + one "]" per open operator).
struct TreeDraw {
  uint64_t key = 0;
  uint64_t counter = 0;
  int max_depth = 10;
  int max_args = 10;
  size_t max_length = 2000;
  size_t open = 0;
  std::string* out = nullptr;

  bool node(int depth) {
    const float r = depth < max_depth ? uniform01(key, counter++) : 1.0f;
    if (r > 0.25f) {
      out->push_back(static_cast<char>(kListOpsDigit0 + random_below(key, counter++, 10)));
      return out->size() + open < max_length;
    }
    const size_t op_pos = out->size();
    out->push_back(0);  // operator drawn after its children, as in the reference
    ++open;
    if (out->size() + open >= max_length) return false;
    const uint64_t k = 2 + random_below(key, counter++, static_cast<uint64_t>(max_args - 1));
    for (uint64_t a = 0; a < k; ++a)
      if (!node(depth + 1)) return false;
    (*out)[op_pos] = static_cast<char>(kListOpsMin + random_below(key, counter++, 4));
    out->push_back(static_cast<char>(kListOpsEnd));
    --open;
    return out->size() + open < max_length;
  }
};

// Longest tree the depth/arity limits allow (saturating), to reject impossible configs.
int64_t longest_possible(int depth, int max_depth, int max_args) {
  if (depth >= max_depth) return 1;
  const int64_t child = longest_possible(depth + 1, max_depth, max_args);
  if (child > (int64_t{1} << 40) / max_args) return int64_t{1} << 40;
  return 2 + max_args * child;
}

void check_config(const ListOpsConfig& c) {
  LRA_CHECK(c.max_depth >= 1, ConfigError, "listops max_depth ", c.max_depth, "; expected >= 1");
  LRA_CHECK(c.max_args >= 2, ConfigError, "listops max_args ", c.max_args, "; expected >= 2");
  LRA_CHECK(c.min_length >= 0, ConfigError, "listops min_length ", c.min_length, "; expected >= 0");
  LRA_CHECK(c.max_length > c.min_length + 1, ConfigError, "listops lengths min ", c.min_length,
            " max ", c.max_length, " leave no length strictly between; expected max > min + 1");
  LRA_CHECK(c.num_train >= 0 && c.num_val >= 0 && c.num_test >= 0, ConfigError,
            "listops split sizes ", c.num_train, "/", c.num_val, "/", c.num_test,
            "; expected counts >= 0");
  const int64_t longest = longest_possible(1, c.max_depth, c.max_args);
  LRA_CHECK(longest > c.min_length, ConfigError, "listops min_length ", c.min_length,
            " is unreachable: max_depth ", c.max_depth, " and max_args ", c.max_args,
            " allow at most ", longest, " tokens; expected a smaller min_length");
}

// Note [ListOps determinism]: candidate i depends only on (seed, i). Rounds of candidates are
// drawn in parallel, then accepted trees are merged in index order, so the first `count`
// unique trees are the same for any thread count or round size.
std::deque<std::string> generate_unique(const ListOpsConfig& cfg, size_t count,
                                        const ProgressFn& progress, ListOpsStats* stats) {
  check_config(cfg);
  constexpr int64_t kRound = 8192;      // candidates per parallel round
  constexpr int kMaxStaleRounds = 256;  // rounds without a new tree before giving up
  const uint64_t base = rng_key(cfg.seed, {rng_tag("listops")});
  std::deque<std::string> trees;
  std::unordered_set<std::string_view> seen;
  seen.reserve(count);
  ListOpsStats st;
  std::vector<std::string> round(kRound);
  uint64_t next = 0;
  int stale = 0;
  while (trees.size() < count) {
    parallel_for(kRound, 64, [&](int64_t begin, int64_t end) {
      std::string scratch;
      scratch.reserve(static_cast<size_t>(cfg.max_length));
      for (int64_t j = begin; j < end; ++j) {
        scratch.clear();
        TreeDraw draw;
        draw.key = rng_key(base, {next + static_cast<uint64_t>(j)});
        draw.max_depth = cfg.max_depth;
        draw.max_args = cfg.max_args;
        draw.max_length = static_cast<size_t>(cfg.max_length);
        draw.out = &scratch;
        const bool ok = draw.node(1) && static_cast<int64_t>(scratch.size()) > cfg.min_length;
        if (ok)
          round[j] = scratch;
        else
          round[j].clear();
      }
    });
    const size_t before = trees.size();
    for (int64_t j = 0; j < kRound && trees.size() < count; ++j) {
      ++st.candidates;
      if (round[j].empty()) continue;
      if (seen.count(round[j])) {
        ++st.duplicates;
        continue;
      }
      trees.push_back(std::move(round[j]));
      seen.insert(trees.back());
    }
    next += kRound;
    stale = trees.size() == before ? stale + 1 : 0;
    LRA_CHECK(stale < kMaxStaleRounds, ConfigError, "listops generator found only ", trees.size(),
              " unique trees of length in (", cfg.min_length, ", ", cfg.max_length, ") after ",
              st.candidates, " candidates; expected ", count,
              " (widen the length range or ask for fewer examples)");
    if (progress) progress(trees.size(), count);
  }
  if (stats) *stats = st;
  return trees;
}

std::vector<int32_t> to_ids(const std::string& compact) {
  return std::vector<int32_t>(compact.begin(), compact.end());
}

// Atomic TSV writer: line(i, buf) appends example i's "source\tlabel" to buf (called from
// worker threads, so it must be thread-safe).
template <typename LineFn>
void write_tsv(const std::string& path, size_t n, LineFn line) {
  const std::string tmp = temp_path(path);
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    LRA_CHECK(f.is_open(), IoError, "cannot open ", tmp, " for writing (", std::strerror(errno),
              "); expected a writable directory");
    const std::string header = "Source\tTarget\n";
    f.write(header.data(), static_cast<std::streamsize>(header.size()));
    // Lines are formatted in parallel blocks and written in order (same bytes for any thread
    // count).
    constexpr size_t kBlock = 1024;
    std::vector<std::string> lines(std::min(n, kBlock));
    for (size_t first = 0; first < n; first += kBlock) {
      const size_t m = std::min(kBlock, n - first);
      parallel_for(static_cast<int64_t>(m), 16, [&](int64_t begin, int64_t end) {
        for (int64_t j = begin; j < end; ++j) {
          lines[j].clear();
          line(first + static_cast<size_t>(j), lines[j]);
          lines[j].push_back('\n');
        }
      });
      for (size_t j = 0; j < m; ++j)
        f.write(lines[j].data(), static_cast<std::streamsize>(lines[j].size()));
    }
    f.close();
    LRA_CHECK(!f.fail(), IoError, "writing ", tmp, " failed (", std::strerror(errno),
              "); expected enough disk space");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  LRA_CHECK(!ec, IoError, "cannot rename ", tmp, " to ", path, " (", ec.message(),
            "); expected a writable directory");
}

void append_line(std::span<const int32_t> tokens, int32_t label, std::string& buf) {
  buf += listops_to_source(tokens);
  buf.push_back('\t');
  buf += std::to_string(label);
}

}  // namespace

// ---- tokens, printing, evaluation -------------------------------------------------------

const char* listops_token_name(int32_t id) {
  return id >= 0 && id < kListOpsVocab ? kTokenNames[id] : "<?>";
}

std::vector<int32_t> tokenize_listops(const std::string& source) {
  std::vector<int32_t> ids;
  std::string bad;
  LRA_CHECK(tokenize_into(source, ids, &bad), DataError, "listops expression: unknown token '", bad,
            "'; expected ", kExpectedTokens);
  return ids;
}

std::string listops_to_source(std::span<const int32_t> tokens) {
  std::vector<int64_t> args(tokens.size(), 0);  // argument count of the operator at each pos
  walk(tokens, [&](size_t pos, int64_t count) { args[pos] = count; });
  // Each operator with k arguments prints as "( " x (k+1), its name, then " <arg> )" per
  // argument and " ] )"; a nested node is preceded by " " (see listops.hpp).
  std::string s;
  s.reserve(tokens.size() * 5);
  size_t depth = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int32_t id = tokens[i];
    if (id == kListOpsEnd) {
      s += " ] )";
      --depth;
    } else {
      if (depth > 0) s.push_back(' ');
      if (is_op(id)) {
        for (int64_t k = 0; k <= args[i]; ++k) s += "( ";
        s += kTokenNames[id];
        ++depth;
        continue;
      }
      s.push_back(static_cast<char>('0' + (id - kListOpsDigit0)));
    }
    if (depth > 0) s += " )";  // a digit or an operator node just completed inside a parent
  }
  return s;
}

int32_t evaluate(std::span<const int32_t> tokens) {
  return walk(tokens, [](size_t, int64_t) {});
}

int32_t evaluate(const std::string& source) {
  return evaluate(tokenize_listops(source));
}

// ---- generator ---------------------------------------------------------------------------

std::vector<Example> generate_listops(const ListOpsConfig& cfg, size_t count,
                                      const ProgressFn& progress, ListOpsStats* stats) {
  std::deque<std::string> trees = generate_unique(cfg, count, progress, stats);
  std::vector<Example> out(trees.size());
  parallel_for(static_cast<int64_t>(out.size()), 64, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      out[i].tokens = to_ids(trees[i]);
      out[i].label = evaluate(out[i].tokens);
    }
  });
  return out;
}

ListOpsStats write_listops_dataset(const std::string& dir, const ListOpsConfig& cfg,
                                   const ProgressFn& progress) {
  check_config(cfg);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  LRA_CHECK(!ec, IoError, "cannot create directory ", dir, " (", ec.message(),
            "); expected a writable location");
  const size_t n_train = static_cast<size_t>(cfg.num_train);
  const size_t n_val = static_cast<size_t>(cfg.num_val);
  const size_t n_test = static_cast<size_t>(cfg.num_test);
  ListOpsStats stats;
  const std::deque<std::string> trees =
      generate_unique(cfg, n_train + n_val + n_test, progress, &stats);
  const std::filesystem::path d(dir);
  auto write_split = [&](const char* name, size_t first, size_t n) {
    write_tsv((d / name).string(), n, [&](size_t i, std::string& buf) {
      const std::vector<int32_t> ids = to_ids(trees[first + i]);
      append_line(ids, evaluate(ids), buf);
    });
  };
  write_split("basic_train.tsv", 0, n_train);
  write_split("basic_val.tsv", n_train, n_val);
  write_split("basic_test.tsv", n_train + n_val, n_test);
  return stats;
}

// ---- files -------------------------------------------------------------------------------

void write_listops_tsv(const std::string& path, const std::vector<Example>& examples) {
  write_tsv(path, examples.size(), [&](size_t i, std::string& buf) {
    append_line(examples[i].tokens, examples[i].label, buf);
  });
}

Split read_listops_tsv(const std::string& path, int64_t max_len) {
  std::ifstream f = open_file<DataError>(
      path, "a ListOps TSV such as basic_train.tsv (write one with the generator)");
  Split split;
  split.source = path;
  std::string line, bad;
  int64_t line_no = 0;
  auto strip_cr = [](std::string& s) {
    if (!s.empty() && s.back() == '\r') s.pop_back();
  };
  const bool has_first = static_cast<bool>(std::getline(f, line));
  ++line_no;
  strip_cr(line);
  drop_utf8_bom(line);
  LRA_CHECK(has_first, DataError, path,
            ": empty file (0 bytes); expected the header line 'Source<TAB>Target' and then "
            "lines expression<TAB>value");
  LRA_CHECK(line == "Source\tTarget", DataError, path, ":1: missing header (found '",
            line.substr(0, 40), "'); expected the header line 'Source<TAB>Target'");
  while (std::getline(f, line)) {
    ++line_no;
    strip_cr(line);
    if (line.empty()) continue;
    const size_t tab = line.find('\t');
    const size_t columns = 1 + static_cast<size_t>(std::count(line.begin(), line.end(), '\t'));
    LRA_CHECK(columns == 2, DataError, path, ":", line_no, ": ", columns,
              " tab-separated column(s); expected 2 (Source<TAB>Target)");
    const std::string_view src(line.data(), tab);
    const std::string_view target(line.data() + tab + 1, line.size() - tab - 1);
    Example ex;
    ex.tokens.reserve(src.size() / 3);
    LRA_CHECK(tokenize_into(src, ex.tokens, &bad), DataError, path, ":", line_no,
              ": unknown token '", bad, "' in Source; expected ", kExpectedTokens);
    LRA_CHECK(!ex.tokens.empty(), DataError, path, ":", line_no,
              ": empty Source; expected a ListOps expression");
    int32_t label = -1;
    const auto [end, err] = std::from_chars(target.data(), target.data() + target.size(), label);
    LRA_CHECK(err == std::errc() && end == target.data() + target.size() && label >= 0 &&
                  label < kListOpsClasses,
              DataError, path, ":", line_no, ": label '", target, "'; expected an integer in 0..9");
    ex.label = label;
    const int64_t n = static_cast<int64_t>(ex.tokens.size());
    split.longest = std::max(split.longest, n);
    if (max_len > 0 && n > max_len) {
      ++split.dropped;  // never cut: the answer of a cut expression is a different one
      continue;
    }
    split.examples.push_back(std::move(ex));
  }
  LRA_CHECK(!f.bad(), DataError, path, ":", line_no, ": read error (", std::strerror(errno),
            "); expected a readable file");
  return split;
}

}  // namespace lra::data
