// Small helpers shared by the nn tests.
#pragma once
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "lra/core/tensor.hpp"

namespace lra::nn::test {

inline Tensor f32(std::vector<float> v, const Dims& shape) {
  return Tensor::from(v, shape);
}
inline Tensor i32(std::vector<int32_t> v, const Dims& shape) {
  return Tensor::from(v, shape);
}

inline void check_close(const Tensor& t, const std::vector<float>& want, float tol = 1e-5f) {
  std::vector<float> got = t.to_floats();
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("element " << i << ": got " << got[i] << ", want " << want[i]);
    CHECK(std::fabs(got[i] - want[i]) <= tol * (1.0f + std::fabs(want[i])));
  }
}

// Message of the exception of type E that f throws ("" and a failed check otherwise).
template <typename E, typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  FAIL_CHECK("expected an exception");
  return "";
}

// A fresh directory for test files: $LRA_TEST_TMP (set by CTest) or the system temp dir.
inline std::filesystem::path tmp_dir() {
  const char* env = std::getenv("LRA_TEST_TMP");
  std::filesystem::path base = env ? env : std::filesystem::temp_directory_path();
  std::filesystem::path dir = base / ("lra_nn_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace lra::nn::test
