// The allocator's live-byte budget (set_memory_limit), which `lra_cpu bench --max-mem` uses to
// report a configuration as out of memory instead of being killed; and the strided copy paths
// of Tensor::copy_ (rows, transposes, general) against element-by-element reference copies.
#include <doctest/doctest.h>

#include <string>

#include "lra/core/allocator.hpp"
#include "lra/core/rng.hpp"
#include "lra/core/tensor.hpp"

using namespace lra;

TEST_CASE("allocator: a request over the memory limit throws and names the sizes") {
  Tensor keep = Tensor::zeros({1024});                       // 4 KiB live
  set_memory_limit(memory_stats().live_bytes + (1u << 20));  // 1 MiB of headroom
  CHECK_NOTHROW(Tensor::empty({128 * 1024}));                // 512 KiB: fits
  try {
    Tensor big = Tensor::empty({1024 * 1024});  // 4 MiB: does not
    CHECK(false);
  } catch (const MemoryLimitExceeded& e) {
    const std::string what = e.what();
    CHECK(what.find("4 MiB") != std::string::npos);
    CHECK(what.find("memory limit") != std::string::npos);
  }
  CHECK_THROWS_AS(Tensor::empty({1024 * 1024}), std::bad_alloc);
  set_memory_limit(0);
  CHECK_NOTHROW(Tensor::empty({1024 * 1024}));
}

TEST_CASE("copy_: strided layouts match an element-by-element copy") {
  Tensor base = Tensor::empty({3, 5, 7, 9});
  fill_uniform(base, rng_key(1, {rng_tag("copy")}), -1.0f, 1.0f);
  const std::vector<Tensor> views = {
      base.permute({0, 2, 1, 3}),                // merge heads: unit inner stride both sides
      base.permute({0, 1, 3, 2}),                // last two axes swapped: tiled transpose
      base.permute({3, 2, 1, 0}),                // full reversal
      base.slice(3, 1, 8).slice(1, 0, 4),        // gaps
      base.select(3, 2),                         // no unit stride at all
      base.slice(0, 1, 2).expand({4, 5, 7, 9}),  // broadcast (stride 0) source
  };
  for (const Tensor& v : views) {
    INFO(v.describe());
    Tensor c = v.contiguous();
    CHECK(c.is_contiguous());
    CHECK(c.to_floats() == v.to_floats());
    Tensor into = Tensor::zeros(v.shape());
    into.copy_(v);  // contiguous destination
    CHECK(into.to_floats() == v.to_floats());
  }
  // strided destination
  Tensor dst = Tensor::zeros({9, 7, 5, 3});
  Tensor dview = dst.permute({3, 2, 1, 0});  // (3, 5, 7, 9) view of dst
  dview.copy_(base);
  CHECK(dview.to_floats() == base.to_floats());
}
