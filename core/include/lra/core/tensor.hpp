// Tensor: dtype + inline shape + strides (in elements) + offset over shared, 64-byte aligned
// storage from the caching allocator.
//
// Views (reshape of a contiguous tensor, permute/transpose, slice, expand, unsqueeze) share
// storage and cost no copy. Kernels honour strides or call contiguous() visibly.
// Copying a Tensor object copies the handle, not the data (like a shared_ptr): use clone().
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "lra/core/dims.hpp"

namespace lra {

enum class DType : uint8_t { F32 = 0, I32 = 1 };
const char* dtype_name(DType t);
inline size_t dtype_size(DType) {
  return 4;
}

// Storage owns one allocator block. `version` counts in-place writes through the public API
// (Tensor::copy_/fill_/zero_, the in-place kernels, optimiser steps): autograd records it when a
// node saves a tensor and refuses to run that node's backward if it changed since.
struct Storage {
  explicit Storage(size_t bytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data = nullptr;
  size_t bytes = 0;
  std::atomic<uint64_t> version{0};
};

class Tensor {
 public:
  Tensor() = default;  // undefined tensor: defined() == false

  // ---- construction -------------------------------------------------------------------
  static Tensor empty(const Dims& shape, DType dtype = DType::F32);  // uninitialised
  static Tensor zeros(const Dims& shape, DType dtype = DType::F32);
  static Tensor full(const Dims& shape, float value);
  static Tensor ones(const Dims& shape) { return full(shape, 1.0f); }
  static Tensor from(std::span<const float> values, const Dims& shape);    // copies
  static Tensor from(std::span<const int32_t> values, const Dims& shape);  // copies
  static Tensor scalar(float v) { return full({}, v); }
  static Tensor arange(int64_t n);  // i32 0..n-1

  // ---- metadata -----------------------------------------------------------------------
  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Dims& shape() const { return shape_; }
  const Dims& strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  int dim() const { return shape_.size(); }
  int64_t size(int axis) const { return shape_[wrap_axis(axis, dim())]; }
  int64_t stride(int axis) const { return strides_[wrap_axis(axis, dim())]; }
  int64_t numel() const { return shape_.numel(); }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  std::string describe() const;  // "f32[2, 3] (contiguous)"
  // In-place write count of the storage (shared by all views). Code that writes through data<T>()
  // into a tensor it did not just create calls bump_version() (kernels named *_ and *_into do).
  uint64_t version() const {
    return storage_ ? storage_->version.load(std::memory_order_relaxed) : 0;
  }
  void bump_version() const {
    if (storage_) storage_->version.fetch_add(1, std::memory_order_relaxed);
  }

  // ---- element access -----------------------------------------------------------------
  template <typename T>
  T* data();  // pointer to element 0 (offset applied)
  template <typename T>
  const T* data() const;
  float item() const;                                    // single-element f32 (or i32 as float)
  std::vector<float> to_floats() const;                  // row-major copy (f32; i32 converted)
  std::vector<int32_t> to_ints() const;                  // row-major copy of an i32 tensor
  float at(std::initializer_list<int64_t> index) const;  // for tests and debugging

  // ---- views (no copy) ----------------------------------------------------------------
  Tensor view(const Dims& shape) const;     // requires contiguity; -1 infers one extent
  Tensor reshape(const Dims& shape) const;  // view when possible, else contiguous copy
  Tensor permute(std::initializer_list<int> order) const;
  Tensor permute(const std::vector<int>& order) const;
  Tensor transpose(int a, int b) const;
  Tensor slice(int axis, int64_t start, int64_t end) const;  // [start, end) along axis
  Tensor select(int axis, int64_t index) const;              // drops the axis
  Tensor unsqueeze(int axis) const;
  Tensor squeeze(int axis) const;
  Tensor expand(const Dims& shape) const;  // broadcast size-1 axes with stride 0

  // ---- copies -------------------------------------------------------------------------
  Tensor contiguous() const;      // self when already contiguous
  Tensor clone() const;           // always a fresh contiguous copy
  void copy_(const Tensor& src);  // same shape; honours both layouts
  void fill_(float value);
  void zero_();

 private:
  std::shared_ptr<Storage> storage_;
  Dims shape_, strides_;
  int64_t offset_ = 0;
  DType dtype_ = DType::F32;
};

template <>
float* Tensor::data<float>();
template <>
const float* Tensor::data<float>() const;
template <>
int32_t* Tensor::data<int32_t>();
template <>
const int32_t* Tensor::data<int32_t>() const;

// Shape helpers used by kernels and autograd.
Dims broadcast_shapes(const Dims& a, const Dims& b);  // numpy rules; throws ShapeError
void check_same_shape(const Tensor& a, const Tensor& b, const char* what);

}  // namespace lra
