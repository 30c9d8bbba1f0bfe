// Batching (padding, truncation, lengths, dual tower) and the seeded epoch shuffler.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "lra/core/error.hpp"
#include "lra/lra/data/dataset.hpp"

using namespace lra::data;

namespace {

std::vector<Example> three_examples() {
  std::vector<Example> ex(3);
  ex[0].tokens = {3, 4, 5};
  ex[0].label = 1;
  ex[1].tokens = {7};
  ex[1].label = 0;
  ex[2].tokens = {1, 2, 3, 4, 5, 6};
  ex[2].label = 9;
  return ex;
}

}  // namespace

TEST_CASE("make_batch pads to the longest in the batch") {
  const auto ex = three_examples();
  const std::vector<int64_t> idx = {0, 1};
  const Batch b = make_batch(ex, idx, 8, false);
  CHECK(b.tokens.dtype() == lra::DType::I32);
  CHECK(b.tokens.shape() == lra::Dims{2, 3});
  CHECK(b.tokens.to_ints() == std::vector<int32_t>{3, 4, 5, 7, 0, 0});
  CHECK(b.lengths.to_ints() == std::vector<int32_t>{3, 1});
  CHECK(b.labels.to_ints() == std::vector<int32_t>{1, 0});
  CHECK(!b.tokens2.defined());
  CHECK(!b.lengths2.defined());
}

TEST_CASE("make_batch pads to max_len and truncates") {
  const auto ex = three_examples();
  const std::vector<int64_t> idx = {2, 1, 2};
  const Batch padded = make_batch(ex, idx, 4, true);
  CHECK(padded.tokens.shape() == lra::Dims{3, 4});
  CHECK(padded.tokens.to_ints() == std::vector<int32_t>{1, 2, 3, 4, 7, 0, 0, 0, 1, 2, 3, 4});
  CHECK(padded.lengths.to_ints() == std::vector<int32_t>{4, 1, 4});
  CHECK(padded.labels.to_ints() == std::vector<int32_t>{9, 0, 9});

  const Batch longest = make_batch(ex, std::vector<int64_t>{1, 0}, 10, true);
  CHECK(longest.tokens.shape() == lra::Dims{2, 10});
  CHECK(longest.lengths.to_ints() == std::vector<int32_t>{1, 3});

  const Batch cut = make_batch(ex, std::vector<int64_t>{2}, 5, false);
  CHECK(cut.tokens.shape() == lra::Dims{1, 5});
  CHECK(cut.lengths.to_ints() == std::vector<int32_t>{5});
}

TEST_CASE("make_batch fills the second tower when examples have tokens2") {
  auto ex = three_examples();
  ex[0].tokens2 = {9, 9};
  ex[1].tokens2 = {8, 8, 8, 8, 8};
  const Batch b = make_batch(ex, std::vector<int64_t>{0, 1, 2}, 4, false);
  REQUIRE(b.tokens2.defined());
  CHECK(b.tokens.shape() == lra::Dims{3, 4});
  CHECK(b.tokens2.shape() == lra::Dims{3, 4});
  CHECK(b.tokens2.to_ints() == std::vector<int32_t>{9, 9, 0, 0, 8, 8, 8, 8, 0, 0, 0, 0});
  CHECK(b.lengths2.to_ints() == std::vector<int32_t>{2, 4, 0});
}

TEST_CASE("make_batch edge cases") {
  std::vector<Example> ex(2);  // empty sequences
  const Batch b = make_batch(ex, std::vector<int64_t>{0, 1}, 4, false);
  CHECK(b.tokens.shape() == lra::Dims{2, 1});
  CHECK(b.lengths.to_ints() == std::vector<int32_t>{0, 0});
  CHECK_THROWS_AS(make_batch(ex, std::vector<int64_t>{}, 4, false), lra::Error);
  CHECK_THROWS_AS(make_batch(ex, std::vector<int64_t>{2}, 4, false), lra::Error);
  CHECK_THROWS_AS(make_batch(ex, std::vector<int64_t>{-1}, 4, false), lra::Error);
  CHECK_THROWS_AS(make_batch(ex, std::vector<int64_t>{0}, 0, false), lra::Error);
}

TEST_CASE("epoch_order is a deterministic permutation") {
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{17}, size_t{1000}}) {
    auto order = epoch_order(n, 42, 3);
    CHECK(order.size() == n);
    CHECK(order == epoch_order(n, 42, 3));
    std::sort(order.begin(), order.end());
    std::vector<int64_t> expected(n);
    std::iota(expected.begin(), expected.end(), int64_t{0});
    CHECK(order == expected);
  }
  const auto a = epoch_order(1000, 42, 0);
  CHECK(a != epoch_order(1000, 42, 1));  // epochs differ
  CHECK(a != epoch_order(1000, 43, 0));  // seeds differ
  std::vector<int64_t> identity(1000);
  std::iota(identity.begin(), identity.end(), int64_t{0});
  CHECK(a != identity);
  // Roughly uniform: the first position takes many different values over epochs.
  std::vector<int> first_counts(10, 0);
  for (uint64_t e = 0; e < 2000; ++e) ++first_counts[epoch_order(10, 5, e)[0]];
  for (int c : first_counts) CHECK((c > 120 && c < 280));
}
