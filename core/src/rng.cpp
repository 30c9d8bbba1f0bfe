#include "lra/core/rng.hpp"

#include <cmath>

namespace lra {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

template <typename Fn>
void fill_each(Tensor& t, Fn value_at) {
  LRA_CHECK(t.dtype() == DType::F32, ShapeError, "random fill needs an f32 tensor");
  Tensor c = t.is_contiguous() ? t : Tensor::empty(t.shape());
  float* p = c.data<float>();
  int64_t n = c.numel();
  for (int64_t i = 0; i < n; ++i) p[i] = value_at(uint64_t(i));
  if (!t.is_contiguous()) t.copy_(c);
}

}  // namespace

uint64_t rng_key(uint64_t seed, std::initializer_list<uint64_t> tags) {
  uint64_t k = splitmix64(seed);
  for (uint64_t t : tags) k = splitmix64(k ^ splitmix64(t + 0x632BE59BD9B4E019ull));
  return k;
}

uint64_t rng_tag(const char* purpose) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (const char* p = purpose; *p; ++p) h = (h ^ uint8_t(*p)) * 1099511628211ull;
  return h;
}

std::array<uint32_t, 4> philox4x32(uint64_t key, uint64_t counter) {
  return philox4x32(PhiloxKey(key), counter);
}

float uniform01(uint64_t key, uint64_t index) {
  return uniform01(PhiloxKey(key), index);
}

float standard_normal(uint64_t key, uint64_t index) {
  auto r = philox4x32(key, index);
  double u1 = (double(r[0]) + 1.0) / 4294967297.0, u2 = double(r[1]) / 4294967296.0;
  return float(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2));
}

uint64_t random_below(uint64_t key, uint64_t index, uint64_t n) {
  auto r = philox4x32(key, index);
  uint64_t x = (uint64_t(r[0]) << 32) | r[1];
  return n == 0 ? 0 : x % n;
}

void fill_uniform(Tensor& t, uint64_t key, float lo, float hi) {
  t.bump_version();
  const PhiloxKey k(key);
  fill_each(t, [&](uint64_t i) { return lo + (hi - lo) * uniform01(k, i); });
}
void fill_normal(Tensor& t, uint64_t key, float mean, float stddev) {
  t.bump_version();
  fill_each(t, [&](uint64_t i) { return mean + stddev * standard_normal(key, i); });
}
void fill_bernoulli(Tensor& t, uint64_t key, float p) {
  t.bump_version();
  const PhiloxKey k(key);
  fill_each(t, [&](uint64_t i) { return uniform01(k, i) < p ? 1.0f : 0.0f; });
}

}  // namespace lra
