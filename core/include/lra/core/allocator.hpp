// Caching allocator: 64-byte aligned blocks that are reused instead of returned to the OS.
//
// Why: on this kind of VM the first touch of a fresh 4 KiB page costs 10-14 us, so an engine
// that frees and re-maps its activations every step runs several times slower
// (docs/performance.md section 2). Freed blocks go to a free list keyed by their rounded
// size; large blocks are advised as transparent huge pages.
//
// Counters: live = bytes handed out now, peak = max live since the last reset_peak(),
// held = live + cached bytes the allocator keeps from the OS.
#pragma once
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>

namespace lra {

struct MemoryStats {
  size_t live_bytes = 0;
  size_t peak_bytes = 0;
  size_t held_bytes = 0;
  uint64_t allocations = 0;  // requests served (cache hits included)
  uint64_t cache_hits = 0;   // requests served from the free lists
};

void* allocate_bytes(size_t bytes);  // 64-byte aligned; bytes may be 0
void free_bytes(void* ptr, size_t bytes);
MemoryStats memory_stats();
void reset_peak_memory();      // peak := live
void release_cached_memory();  // hand cached blocks back to the OS
// Budget on live bytes (0: none). A request that would take live bytes above it throws
// MemoryLimitExceeded (a std::bad_alloc naming the request, the live bytes and the limit), and
// the cache is dropped whenever held bytes pass 1.25 x the limit: `lra_cpu bench --max-mem`
// reports such a configuration as out of memory instead of letting the OS kill it.
void set_memory_limit(size_t bytes);

class MemoryLimitExceeded : public std::bad_alloc {
 public:
  explicit MemoryLimitExceeded(std::string what) : what_(std::move(what)) {}
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  std::string what_;
};

}  // namespace lra
