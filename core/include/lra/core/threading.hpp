// Threading: one TBB arena owns every worker; BLAS always runs single-threaded inside it.
//
// Why: OpenBLAS's pthread pool and TBB's workers both busy-wait after a parallel region; on
// 2 cores two spinning pools steal each other's core (docs/performance.md section 3).
// So set_num_threads() sets OpenBLAS to 1 thread and lets TBB split large GEMMs itself.
#pragma once
#include <cstdint>
#include <functional>

namespace lra {

void set_num_threads(int n);  // n <= 0: all hardware threads
int num_threads();

// parallel_for over [0, n): fn(begin, end) on chunks of at least `grain` items.
// Runs serially when n <= grain or one thread is configured.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace lra
