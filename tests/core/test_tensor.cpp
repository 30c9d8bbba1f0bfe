// Tensor views and copies, the caching allocator, and the counter-based RNG.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "lra/core/allocator.hpp"
#include "lra/core/rng.hpp"
#include "lra/core/tensor.hpp"
#include "lra/core/threading.hpp"

using namespace lra;

namespace {

// (2, 3, 4) holding 0, 1, ..., 23 in row-major order.
Tensor iota234() {
  std::vector<float> v(24);
  for (int i = 0; i < 24; ++i) v[size_t(i)] = float(i);
  return Tensor::from(v, {2, 3, 4});
}

}  // namespace

TEST_CASE("tensor: construction and metadata") {
  Tensor t = iota234();
  CHECK(t.shape() == Dims{2, 3, 4});
  CHECK(t.strides() == Dims{12, 4, 1});
  CHECK(t.is_contiguous());
  CHECK(t.numel() == 24);
  CHECK(t.at({1, 2, 3}) == 23.0f);
  CHECK(Tensor::zeros({3}).to_floats() == std::vector<float>{0, 0, 0});
  CHECK(Tensor::full({2}, 2.5f).to_floats() == std::vector<float>{2.5f, 2.5f});
  CHECK(Tensor::scalar(4.0f).dim() == 0);
  CHECK(Tensor::scalar(4.0f).item() == 4.0f);
  CHECK(Tensor::arange(4).to_ints() == std::vector<int32_t>{0, 1, 2, 3});
  CHECK_THROWS_AS(Tensor::from(std::vector<float>(5), {2, 3}), ShapeError);
  CHECK_THROWS_AS(t.at({2, 0, 0}), ShapeError);
}

TEST_CASE("tensor: views share storage and index correctly") {
  Tensor t = iota234();

  Tensor p = t.permute({2, 0, 1});  // (4, 2, 3)
  CHECK(p.storage() == t.storage());
  CHECK(p.shape() == Dims{4, 2, 3});
  CHECK_FALSE(p.is_contiguous());
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k) CHECK(p.at({k, i, j}) == t.at({i, j, k}));

  Tensor tr = t.transpose(0, 2);  // (4, 3, 2)
  CHECK(tr.storage() == t.storage());
  CHECK(tr.at({3, 1, 0}) == t.at({0, 1, 3}));

  Tensor s = t.slice(1, 1, 3);  // (2, 2, 4)
  CHECK(s.storage() == t.storage());
  CHECK(s.shape() == Dims{2, 2, 4});
  CHECK(s.at({1, 0, 2}) == t.at({1, 1, 2}));
  CHECK_FALSE(s.is_contiguous());
  CHECK_THROWS_AS(t.slice(1, 2, 4), ShapeError);

  Tensor sel = t.select(0, 1);  // (3, 4)
  CHECK(sel.shape() == Dims{3, 4});
  CHECK(sel.at({0, 0}) == 12.0f);

  Tensor u = t.unsqueeze(1);  // (2, 1, 3, 4)
  CHECK(u.storage() == t.storage());
  CHECK(u.shape() == Dims{2, 1, 3, 4});
  CHECK(u.squeeze(1).shape() == t.shape());
  CHECK(t.unsqueeze(-1).shape() == Dims{2, 3, 4, 1});

  Tensor row = t.select(0, 0).select(0, 2).unsqueeze(0);  // (1, 4)
  Tensor e = row.expand({5, 3, 4});
  CHECK(e.storage() == t.storage());
  CHECK(e.strides()[0] == 0);
  CHECK(e.strides()[1] == 0);
  CHECK(e.at({4, 2, 3}) == t.at({0, 2, 3}));
  CHECK_THROWS_AS(t.expand({2, 5, 4}), ShapeError);

  // Writing through a view changes the base tensor.
  Tensor win = t.slice(2, 1, 2);
  win.fill_(-1.0f);
  CHECK(t.at({1, 2, 1}) == -1.0f);
  CHECK(t.at({1, 2, 2}) == 22.0f);
}

TEST_CASE("tensor: view, reshape and contiguous") {
  Tensor t = iota234();
  Tensor v = t.view({6, -1});
  CHECK(v.shape() == Dims{6, 4});
  CHECK(v.storage() == t.storage());
  CHECK_THROWS_AS(t.view({5, -1}), ShapeError);

  Tensor tr = t.transpose(1, 2);
  CHECK_THROWS_AS(tr.view({24}), ShapeError);
  Tensor r = tr.reshape({24});  // copies
  CHECK(r.storage() != t.storage());
  std::vector<float> want = tr.to_floats();
  CHECK(r.to_floats() == want);

  CHECK(t.contiguous().storage() == t.storage());  // no copy when already contiguous
  Tensor c = tr.contiguous();
  CHECK(c.storage() != t.storage());
  CHECK(c.is_contiguous());
  CHECK(c.to_floats() == want);
  Tensor cl = t.clone();
  CHECK(cl.storage() != t.storage());
  CHECK(cl.to_floats() == t.to_floats());
}

TEST_CASE("tensor: copy_ across layouts") {
  Tensor src = iota234().permute({1, 2, 0});  // (3, 4, 2) strided
  Tensor base = Tensor::zeros({4, 3, 5});
  Tensor dst = base.slice(2, 1, 3).permute({1, 0, 2});  // (3, 4, 2) strided window
  dst.copy_(src);
  CHECK(dst.to_floats() == src.to_floats());
  CHECK(base.at({0, 0, 0}) == 0.0f);  // outside the window untouched
  CHECK(base.at({0, 0, 3}) == 0.0f);
  CHECK(base.at({3, 2, 2}) == src.at({2, 3, 1}));

  // Large enough for the parallel path.
  Tensor big = Tensor::empty({300, 257});
  fill_uniform(big, 7, -1.0f, 1.0f);
  Tensor out = Tensor::empty({257, 300});
  out.copy_(big.transpose(0, 1));
  CHECK(out.to_floats() == big.transpose(0, 1).to_floats());
  CHECK(out.at({5, 299}) == big.at({299, 5}));

  CHECK_THROWS_AS(out.copy_(big), ShapeError);
  Tensor ints = Tensor::arange(3);
  Tensor f = Tensor::zeros({3});
  CHECK_THROWS_AS(f.copy_(ints), ShapeError);
}

TEST_CASE("allocator: cache hits and counters") {
  // An unusual size so the free list for it is ours.
  const int64_t n = 123457;
  MemoryStats s0 = memory_stats();
  { Tensor a = Tensor::empty({n}); }
  MemoryStats s1 = memory_stats();
  CHECK(s1.live_bytes == s0.live_bytes);
  CHECK(s1.allocations == s0.allocations + 1);
  CHECK(s1.held_bytes >= s1.live_bytes);
  {
    Tensor b = Tensor::empty({n});  // served from the free list
    MemoryStats s2 = memory_stats();
    CHECK(s2.cache_hits == s1.cache_hits + 1);
    CHECK(s2.live_bytes >= s1.live_bytes + size_t(n) * 4);
    CHECK(s2.peak_bytes >= s2.live_bytes);
    CHECK(s2.held_bytes == s1.held_bytes);  // nothing new from the OS
  }
  {
    Tensor big = Tensor::empty({1 << 20});
    size_t live_big = memory_stats().live_bytes;
    (void)big;
    reset_peak_memory();
    CHECK(memory_stats().peak_bytes == live_big);
  }
  MemoryStats s3 = memory_stats();
  CHECK(s3.peak_bytes >= s3.live_bytes + (size_t(1) << 22));  // the 4 MiB block was the peak
  reset_peak_memory();
  CHECK(memory_stats().peak_bytes == memory_stats().live_bytes);

  void* p = allocate_bytes(0);  // zero bytes still gives a valid, aligned block
  CHECK(p != nullptr);
  CHECK(reinterpret_cast<uintptr_t>(p) % 64 == 0);
  free_bytes(p, 0);
}

TEST_CASE("rng: deterministic by key, independent of threads and layout") {
  Tensor a = Tensor::empty({1000});
  Tensor b = Tensor::empty({1000});
  fill_uniform(a, rng_key(3, {rng_tag("test")}), 0.0f, 1.0f);
  fill_uniform(b, rng_key(3, {rng_tag("test")}), 0.0f, 1.0f);
  CHECK(a.to_floats() == b.to_floats());
  fill_uniform(b, rng_key(4, {rng_tag("test")}), 0.0f, 1.0f);
  CHECK(a.to_floats() != b.to_floats());
  CHECK(rng_key(3, {1, 2}) != rng_key(3, {2, 1}));

  const int64_t n = 200000;
  Tensor one = Tensor::empty({n}), two = Tensor::empty({n});
  set_num_threads(1);
  fill_normal(one, 11, 0.0f, 1.0f);
  set_num_threads(2);
  fill_normal(two, 11, 0.0f, 1.0f);
  set_num_threads(0);
  CHECK(one.to_floats() == two.to_floats());

  // A strided fill draws in row-major element order, like a contiguous one.
  Tensor flat = Tensor::empty({6, 5});
  fill_uniform(flat, 9, -2.0f, 2.0f);
  Tensor base = Tensor::zeros({5, 6});
  Tensor view = base.transpose(0, 1);  // (6, 5) strided
  fill_uniform(view, 9, -2.0f, 2.0f);
  CHECK(view.to_floats() == flat.to_floats());
}

TEST_CASE("rng: distributions") {
  const int64_t n = 200000;
  Tensor u = Tensor::empty({n});
  fill_uniform(u, 5, 0.0f, 1.0f);
  std::vector<float> v = u.to_floats();
  double mean = 0.0, lo = 1.0, hi = 0.0;
  for (float x : v) mean += x, lo = std::min<double>(lo, x), hi = std::max<double>(hi, x);
  mean /= double(n);
  CHECK(mean == doctest::Approx(0.5).epsilon(0.01));
  CHECK(lo >= 0.0);
  CHECK(hi < 1.0);

  Tensor g = Tensor::empty({n});
  fill_normal(g, 6, 1.5f, 2.0f);
  v = g.to_floats();
  double m = 0.0, sq = 0.0;
  for (float x : v) m += x;
  m /= double(n);
  for (float x : v) sq += (x - m) * (x - m);
  double sd = std::sqrt(sq / double(n));
  CHECK(std::fabs(m - 1.5) < 0.03);
  CHECK(std::fabs(sd - 2.0) < 0.03);

  Tensor bern = Tensor::empty({n});
  fill_bernoulli(bern, 8, 0.25f);
  double ones = 0.0;
  int64_t other = 0;
  for (float x : bern.to_floats()) {
    other += (x != 0.0f && x != 1.0f);
    ones += x;
  }
  CHECK(other == 0);
  CHECK(ones / double(n) == doctest::Approx(0.25).epsilon(0.03));
}
