// Retrieval: byte-level document matching on the ACL Anthology Network (docs/lra.md section 3.3).
//
// Files (the LRA release's tsv_data/; DIR may be that folder or its parent):
//   new_aan_pairs.train.tsv   new_aan_pairs.eval.tsv   new_aan_pairs.test.tsv
// No header; one pair per line, 5 tab-separated columns:
//   label  id1  id2  text1  text2        e.g.  "1.0\tP01-1010\tJ93-2004\tWe present ...\t..."
// The label is parsed as a float then cast to int, as LRA did ("1", "1.0" -> 1); it must be
// 0 or 1 (1 = the papers are linked by a citation). Each document becomes byte tokens
// (id = byte + 1, 0 = padding) cut to max_len bytes (LRA: 4000 per document), text1 in
// Example::tokens and text2 in Example::tokens2 for the weight-shared two-tower model.
// Pairs with an empty document are skipped and counted in the notes.
#pragma once
#include <cstdint>
#include <string>

#include "lra/lra/data/dataset.hpp"

namespace lra::data {

constexpr int64_t kRetrievalLength = 4000;  // bytes per document

// One new_aan_pairs.*.tsv. DataError "<path>:<line>: <problem>; expected ..." for a missing
// file, a line without exactly 5 columns, or a label that is not 0 or 1. Adds pairs with an
// empty document to *empty.
Split read_aan_tsv(const std::string& path, int64_t max_len, int64_t* empty);

// train/eval/test from DIR (or DIR/tsv_data); eval is the validation split.
TaskData read_retrieval_folder(const std::string& dir, int64_t max_len);

}  // namespace lra::data
