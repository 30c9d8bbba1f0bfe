// The engine's version, build and the machine it runs on (`lra_cpu info`, config.json).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace lra::api {

// ---- version, build and machine (what `lra_cpu info` prints) -------------------------------
struct EngineInfo {
  std::string version;        // "0.1.0" (also LRA_VERSION_STRING in <lra/version.hpp>)
  std::string build_type;     // CMAKE_BUILD_TYPE the library was built with
  std::string cxx_flags;      // compiler flags of the library's sources
  std::string compiler;       // e.g. "GCC 12.2.0"
  bool shared = false;        // built as shared libraries (BUILD_SHARED_LIBS)
  std::string simd_compiled;  // highest x86 level the library was compiled for ("avx512", ...)
  std::vector<std::string> simd_compiled_features;  // e.g. {"sse4.2", "avx2", "fma", ...}
  std::string simd_detected;  // highest level this CPU supports (__builtin_cpu_supports)
  std::vector<std::string> simd_detected_features;
  std::string cpu;           // model name from /proc/cpuinfo ("" when unknown)
  std::string blas_vendor;   // "OpenBLAS"
  std::string blas_version;  // "0.3.21"
  std::string blas_core;     // kernel set OpenBLAS picked at run time, e.g. "SkylakeX"
  std::string blas_config;   // openblas_get_config()
  std::string blas_library;  // path of the loaded BLAS shared library ("" when unknown)
  int blas_threads = 0;      // OpenBLAS's own pool (1: TBB owns the cores, threading.hpp)
  int tbb_threads = 0;       // threads TBB would use by default on this machine
  int lra_threads = 0;       // threads the engine is configured for (lra::num_threads())
  int hardware_threads = 0;  // std::thread::hardware_concurrency()
};
EngineInfo engine_info();

}  // namespace lra::api

namespace lra {

// The peak resident set size of this process so far, in bytes (getrusage ru_maxrss).
size_t peak_rss_bytes();

}  // namespace lra
