#include "lra/core/allocator.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <string>
#include <vector>

namespace lra {
namespace {

constexpr size_t kAlign = 64;
constexpr size_t kHugeAlign = size_t(2) << 20;  // 2 MiB: one transparent huge page

// Size classes: multiples of 64 B up to 4 KiB, then four classes per power of two, so a
// reused block wastes at most ~19% and same-shaped activations always hit the same list.
size_t round_size(size_t bytes) {
  if (bytes <= 4096) return (bytes + kAlign - 1) / kAlign * kAlign;
  size_t p = 4096;
  while (p * 2 < bytes) p *= 2;
  size_t quarter = p / 4;
  return (bytes + quarter - 1) / quarter * quarter;
}

struct Cache {
  std::mutex mu;
  std::map<size_t, std::vector<void*>> free_lists;  // rounded size -> blocks
  MemoryStats stats;
  size_t limit = 0;  // live-byte budget, 0: none
};
Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: tensors may outlive static teardown
  return *c;
}

void* os_allocate(size_t rounded) {
  size_t align = rounded >= kHugeAlign ? kHugeAlign : kAlign;
  void* p = std::aligned_alloc(align, (rounded + align - 1) / align * align);
  if (!p) throw std::bad_alloc();
  if (align == kHugeAlign) madvise(p, rounded, MADV_HUGEPAGE);
  return p;
}

// Frees every cached block (c.mu held).
void release_locked(Cache& c) {
  for (auto& [size, blocks] : c.free_lists) {
    for (void* p : blocks) std::free(p);
    c.stats.held_bytes -= size * blocks.size();
  }
  c.free_lists.clear();
}

}  // namespace

void* allocate_bytes(size_t bytes) {
  size_t rounded = round_size(bytes == 0 ? 1 : bytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    if (c.limit && c.stats.live_bytes + rounded > c.limit) {
      auto mb = [](size_t b) { return std::to_string((b + (1u << 19)) >> 20) + " MiB"; };
      throw MemoryLimitExceeded("a request of " + mb(rounded) + " with " + mb(c.stats.live_bytes) +
                                " live exceeds the memory limit of " + mb(c.limit));
    }
    c.stats.allocations++;
    c.stats.live_bytes += rounded;
    if (c.stats.live_bytes > c.stats.peak_bytes) c.stats.peak_bytes = c.stats.live_bytes;
    auto it = c.free_lists.find(rounded);
    if (it != c.free_lists.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.stats.cache_hits++;
      return p;
    }
    c.stats.held_bytes += rounded;
    if (c.limit && c.stats.held_bytes > c.limit + c.limit / 4) release_locked(c);
  }
  try {
    return os_allocate(rounded);
  } catch (...) {
    std::lock_guard<std::mutex> lock(c.mu);
    c.stats.live_bytes -= rounded;
    c.stats.held_bytes -= rounded;
    throw;
  }
}

void free_bytes(void* ptr, size_t bytes) {
  if (!ptr) return;
  size_t rounded = round_size(bytes == 0 ? 1 : bytes);
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.stats.live_bytes -= rounded;
  c.free_lists[rounded].push_back(ptr);
}

MemoryStats memory_stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.stats;
}

void reset_peak_memory() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.stats.peak_bytes = c.stats.live_bytes;
}

void release_cached_memory() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  release_locked(c);
}

void set_memory_limit(size_t bytes) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.limit = bytes;
}

}  // namespace lra
