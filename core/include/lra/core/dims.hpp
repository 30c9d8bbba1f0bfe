// Dims: a small inline vector of extents or strides (no heap), at most kMaxDims entries.
#pragma once
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "lra/core/error.hpp"

namespace lra {

constexpr int kMaxDims = 6;

class Dims {
 public:
  Dims() = default;
  Dims(std::initializer_list<int64_t> v) { assign(v.begin(), v.end()); }
  explicit Dims(const std::vector<int64_t>& v) { assign(v.begin(), v.end()); }

  int size() const { return n_; }
  bool empty() const { return n_ == 0; }
  int64_t& operator[](int i) { return d_[i]; }
  int64_t operator[](int i) const { return d_[i]; }
  int64_t back() const { return d_[n_ - 1]; }
  const int64_t* begin() const { return d_; }
  const int64_t* end() const { return d_ + n_; }
  int64_t* begin() { return d_; }
  int64_t* end() { return d_ + n_; }

  void push_back(int64_t v) {
    LRA_CHECK(n_ < kMaxDims, ShapeError, "tensor rank above ", kMaxDims, " is not supported");
    d_[n_++] = v;
  }
  void insert(int pos, int64_t v) {
    push_back(0);
    for (int i = n_ - 1; i > pos; --i) d_[i] = d_[i - 1];
    d_[pos] = v;
  }
  void erase(int pos) {
    for (int i = pos; i + 1 < n_; ++i) d_[i] = d_[i + 1];
    --n_;
  }
  int64_t numel() const {
    int64_t p = 1;
    for (int i = 0; i < n_; ++i) p *= d_[i];
    return p;
  }
  std::vector<int64_t> vec() const { return {begin(), end()}; }
  std::string str() const {
    std::string s = "[";
    for (int i = 0; i < n_; ++i) s += (i ? ", " : "") + std::to_string(d_[i]);
    return s + "]";
  }
  friend bool operator==(const Dims& a, const Dims& b) {
    return a.n_ == b.n_ && std::equal(a.begin(), a.end(), b.begin());
  }

 private:
  template <typename It> void assign(It b, It e) {
    for (; b != e; ++b) push_back(*b);
  }
  int64_t d_[kMaxDims] = {};
  int n_ = 0;
};

// Normalises a possibly negative axis against rank `rank`; throws on out of range.
inline int wrap_axis(int axis, int rank) {
  int a = axis < 0 ? axis + rank : axis;
  LRA_CHECK(a >= 0 && a < rank, ShapeError, "axis ", axis, " out of range for rank ", rank);
  return a;
}

// Row-major (C-order) strides for `shape`.
inline Dims contiguous_strides(const Dims& shape) {
  Dims s = shape;
  int64_t acc = 1;
  for (int i = shape.size() - 1; i >= 0; --i) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

}  // namespace lra
