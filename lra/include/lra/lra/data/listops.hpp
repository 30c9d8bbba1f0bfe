// ListOps: the synthetic LRA task of nested list operations (docs/lra.md sections 3.1, 5).
//
// An expression is a tree of MIN, MAX, MED (median) and SM (sum mod 10) over digits 0-9; the
// label is its value (10 classes). Example with its label:
//   [MAX 2 9 [MIN 4 7 ] 0 ]                      -> 9
// The LRA files store the Source column in the reference generator's printed form: the tree
// is left-nested binary ((((op, a1), a2) ...), "]") and each pair prints as "( left right )":
//   [MAX 2 9 ]  is written  ( ( ( [MAX 2 ) 9 ) ] )
// The pipeline maps "]" to "X" and drops the parentheses, so the tokens are the prefix form
//   [MAX 2 9 X   (token count = tree length = 1 per digit, 2 per operator).
//
// Vocabulary (fixed here; the reference builds it from data in set order, which is not
// deterministic):
//   0 = padding, 1..4 = [MIN [MAX [MED [SM, 5..14 = digits 0..9, 15 = X (closing bracket),
//   16 = reserved for the CLS token the model builder prepends.  kListOpsVocab = 17.
//
// Generation is rejection sampling with the counter-based RNG: candidate tree i uses key
// rng_key(seed, {rng_tag("listops"), i}); candidates are accepted when
// min_length < length < max_length and deduplicated in index order, so the data depend only
// on the config (not on the number of threads). The first num_train unique trees form the
// train split, the next num_val the validation split, the last num_test the test split.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "lra/lra/data/dataset.hpp"

namespace lra::data {

// ---- vocabulary -------------------------------------------------------------------------
constexpr int32_t kListOpsPad = 0;
constexpr int32_t kListOpsMin = 1;
constexpr int32_t kListOpsMax = 2;
constexpr int32_t kListOpsMed = 3;
constexpr int32_t kListOpsSum = 4;     // SM: sum mod 10
constexpr int32_t kListOpsDigit0 = 5;  // digit d has id kListOpsDigit0 + d
constexpr int32_t kListOpsEnd = 15;    // X, the closing bracket "]"
constexpr int32_t kListOpsCls = 16;    // reserved for the model's CLS token
constexpr int32_t kListOpsVocab = 17;
constexpr int32_t kListOpsClasses = 10;

// Printed name of a token id ("[MAX", "7", "X", "<pad>", "<cls>"); "<?>" when out of range.
const char* listops_token_name(int32_t id);

// Source text (bracketed or plain, parentheses optional) -> token ids: "]" and "X" map to
// kListOpsEnd, "(" and ")" are dropped. Throws lra::DataError naming an unknown token.
std::vector<int32_t> tokenize_listops(const std::string& source);

// Token ids in prefix form -> the reference's printed Source string (with parentheses).
// Throws lra::DataError when the ids are not one well-formed expression.
std::string listops_to_source(std::span<const int32_t> tokens);

// Value (label 0..9) of one expression. Tolerates the printed form with parentheses and the
// plain form ("[MAX 2 9 ]"). MED of an even count is the mean of the two middle values
// truncated toward zero (int(numpy.median)). Throws lra::DataError on a malformed expression.
int32_t evaluate(const std::string& source);
int32_t evaluate(std::span<const int32_t> tokens);

// ---- generator ---------------------------------------------------------------------------
struct ListOpsConfig {
  uint64_t seed = 0;
  int64_t num_train = 96000;
  int64_t num_val = 2000;
  int64_t num_test = 2000;
  int max_depth = 10;        // the root is depth 1; nodes at max_depth are forced leaves
  int max_args = 10;         // operator nodes have 2..max_args children
  int64_t min_length = 500;  // keep trees with min_length < length < max_length (tokens)
  int64_t max_length = 2000;
};

// Called from the calling thread after each round of candidates: unique trees so far, target.
using ProgressFn = std::function<void(size_t done, size_t total)>;

struct ListOpsStats {
  uint64_t candidates = 0;  // trees drawn (including rejected and duplicates)
  uint64_t duplicates = 0;  // accepted by length but already seen
};

// The first `count` unique trees for cfg (ignores num_train/num_val/num_test). Tokens are in
// prefix form (as read back from a file), label = evaluate(tokens).
// Throws lra::ConfigError on an impossible config (e.g. max_length <= min_length + 1).
std::vector<Example> generate_listops(const ListOpsConfig& cfg, size_t count,
                                      const ProgressFn& progress = {},
                                      ListOpsStats* stats = nullptr);

// Generates num_train + num_val + num_test unique trees and writes basic_train.tsv,
// basic_val.tsv and basic_test.tsv into `dir` (created if missing). Prints nothing.
ListOpsStats write_listops_dataset(const std::string& dir, const ListOpsConfig& cfg,
                                   const ProgressFn& progress = {});

// ---- files -------------------------------------------------------------------------------
// Writes the LRA TSV: header "Source\tTarget", then "<printed source>\t<label>" per example.
// Atomic: writes path + ".tmp", then renames. Throws lra::IoError on a write failure.
void write_listops_tsv(const std::string& path, const std::vector<Example>& examples);

// Reads an LRA ListOps TSV (the reference's files too: "\r\n" line ends are accepted, blank
// lines are skipped). Expressions longer than max_len tokens are left out and counted in
// Split::dropped (a cut expression has a different value, so it would be a wrong example);
// max_len <= 0 keeps everything. Throws lra::DataError with message
// "<path>:<line>: <problem>; expected <what>" (line 0 = the file itself) for a missing file,
// a missing header, a line without exactly 2 tab-separated columns, an unknown token, an
// empty Source or a label outside 0..9.
Split read_listops_tsv(const std::string& path, int64_t max_len);

}  // namespace lra::data
