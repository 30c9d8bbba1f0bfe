// Text: byte-level IMDb sentiment classification (docs/lra.md section 3.2), from the user's copy.
//
// Two layouts are read (the first that exists wins; DIR may also be the parent of aclImdb/):
//   aclImdb   DIR/train/{neg,pos}/*.txt, DIR/test/{neg,pos}/*.txt   (the original release;
//             train/unsup is ignored; an optional DIR/val/{neg,pos} is a validation split)
//   TSV       DIR/train.tsv, DIR/test.tsv, optional DIR/val.tsv, one review per line:
//             label<TAB>text   label 0/1 or neg/pos (negative/positive); the text is everything
//             after the first tab; an optional header line "label<TAB>text" is skipped.
// Label 0 = negative, 1 = positive (as TFDS imdb_reviews).
//
// Tokens are bytes: id = byte + 1 (1..256), 0 = padding, vocabulary 257 (tfds ByteTextEncoder).
// A review longer than max_len bytes is cut to its first max_len bytes (LRA's configs use 1000,
// the paper 4000: --max-len 4000). Reviews with no text are skipped and counted in the notes.
// Like LRA (which had no IMDb validation split), the test split doubles as validation when no
// val split is given; TaskData::notes says so.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lra/lra/data/dataset.hpp"

namespace lra::data {

constexpr int32_t kByteVocab = 257;    // 0 = padding, byte b -> b + 1
constexpr int64_t kTextLength = 1000;  // LRA text config; the paper used 4000

// Bytes of `text` as token ids (byte + 1), cut to max_len when max_len > 0.
std::vector<int32_t> byte_tokens(std::string_view text, int64_t max_len);

// One split of the aclImdb layout: split_dir/{neg,pos}/*.txt, files in numeric-id order,
// negatives first. Adds reviews without text to *empty. DataError naming the missing folder
// or unreadable file.
Split read_imdb_split(const std::string& split_dir, int64_t max_len, int64_t* empty);

// One label<TAB>text file. DataError "<path>:<line>: <problem>; expected ..." for a missing
// file, a line without a tab, or a label other than 0/1/neg/pos/negative/positive.
Split read_text_tsv(const std::string& path, int64_t max_len, int64_t* empty);

// Notes "train: 812 of 25000 reviews cut to 1000 bytes (longest 13704)" for every split of d
// with truncated examples (`what` names the examples, e.g. "reviews" or "documents").
void add_truncation_notes(TaskData& d, int64_t max_len, const char* what);

// The whole task from DIR in either layout; DataError describing both layouts when neither
// is there.
TaskData read_text_folder(const std::string& dir, int64_t max_len);

}  // namespace lra::data
