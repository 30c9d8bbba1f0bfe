#include "lra/core/tensor.hpp"

#include <cstring>

#include "lra/core/allocator.hpp"
#include "lra/core/threading.hpp"

namespace lra {

const char* dtype_name(DType t) { return t == DType::F32 ? "f32" : "i32"; }

Storage::Storage(size_t n) : data(allocate_bytes(n)), bytes(n) {}
Storage::~Storage() { free_bytes(data, bytes); }

// ---- construction ---------------------------------------------------------------------

Tensor Tensor::empty(const Dims& shape, DType dtype) {
  for (int64_t e : shape) LRA_CHECK(e >= 0, ShapeError, "negative extent in shape ", shape.str());
  Tensor t;
  t.storage_ = std::make_shared<Storage>(size_t(shape.numel()) * dtype_size(dtype));
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::zeros(const Dims& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.storage_->data, 0, size_t(t.numel()) * 4);
  return t;
}

Tensor Tensor::full(const Dims& shape, float value) {
  Tensor t = empty(shape);
  t.fill_(value);
  return t;
}

Tensor Tensor::from(std::span<const float> values, const Dims& shape) {
  LRA_CHECK(int64_t(values.size()) == shape.numel(), ShapeError, "Tensor::from: ", values.size(),
            " values do not fill shape ", shape.str());
  Tensor t = empty(shape);
  std::memcpy(t.data<float>(), values.data(), values.size() * 4);
  return t;
}

Tensor Tensor::from(std::span<const int32_t> values, const Dims& shape) {
  LRA_CHECK(int64_t(values.size()) == shape.numel(), ShapeError, "Tensor::from: ", values.size(),
            " values do not fill shape ", shape.str());
  Tensor t = empty(shape, DType::I32);
  std::memcpy(t.data<int32_t>(), values.data(), values.size() * 4);
  return t;
}

Tensor Tensor::arange(int64_t n) {
  Tensor t = empty({n}, DType::I32);
  for (int64_t i = 0; i < n; ++i) t.data<int32_t>()[i] = int32_t(i);
  return t;
}

// ---- metadata -------------------------------------------------------------------------

bool Tensor::is_contiguous() const {
  int64_t expect = 1;
  for (int i = dim() - 1; i >= 0; --i) {
    if (shape_[i] != 1 && strides_[i] != expect) return false;
    expect *= shape_[i];
  }
  return true;
}

std::string Tensor::describe() const {
  if (!defined()) return "undefined tensor";
  return std::string(dtype_name(dtype_)) + shape_.str() +
         (is_contiguous() ? "" : " strides " + strides_.str());
}

template <> float* Tensor::data<float>() {
  LRA_CHECK(dtype_ == DType::F32, ShapeError, "expected an f32 tensor, got ", describe());
  return static_cast<float*>(storage_->data) + offset_;
}
template <> const float* Tensor::data<float>() const {
  return const_cast<Tensor*>(this)->data<float>();
}
template <> int32_t* Tensor::data<int32_t>() {
  LRA_CHECK(dtype_ == DType::I32, ShapeError, "expected an i32 tensor, got ", describe());
  return static_cast<int32_t*>(storage_->data) + offset_;
}
template <> const int32_t* Tensor::data<int32_t>() const {
  return const_cast<Tensor*>(this)->data<int32_t>();
}

namespace {
// Calls fn(linear_index, element_offset) for every element in row-major order.
template <typename Fn> void for_each_offset(const Dims& shape, const Dims& strides, Fn fn) {
  int n = shape.size();
  int64_t total = shape.numel();
  if (total == 0) return;
  int64_t idx[kMaxDims] = {};
  int64_t off = 0;
  for (int64_t i = 0; i < total; ++i) {
    fn(i, off);
    for (int d = n - 1; d >= 0; --d) {
      if (++idx[d] < shape[d]) {
        off += strides[d];
        break;
      }
      off -= strides[d] * (shape[d] - 1);
      idx[d] = 0;
    }
  }
}
}  // namespace

float Tensor::item() const {
  LRA_CHECK(numel() == 1, ShapeError, "item() needs one element, got ", describe());
  return dtype_ == DType::F32 ? *data<float>() : float(*data<int32_t>());
}

std::vector<float> Tensor::to_floats() const {
  std::vector<float> out(static_cast<size_t>(numel()));
  if (dtype_ == DType::F32) {
    const float* p = data<float>();
    for_each_offset(shape_, strides_, [&](int64_t i, int64_t o) { out[i] = p[o]; });
  } else {
    const int32_t* p = data<int32_t>();
    for_each_offset(shape_, strides_, [&](int64_t i, int64_t o) { out[i] = float(p[o]); });
  }
  return out;
}

std::vector<int32_t> Tensor::to_ints() const {
  std::vector<int32_t> out(static_cast<size_t>(numel()));
  const int32_t* p = data<int32_t>();
  for_each_offset(shape_, strides_, [&](int64_t i, int64_t o) { out[i] = p[o]; });
  return out;
}

float Tensor::at(std::initializer_list<int64_t> index) const {
  LRA_CHECK(int(index.size()) == dim(), ShapeError, "at(): ", index.size(),
            " indices for rank ", dim());
  int64_t off = 0;
  int d = 0;
  for (int64_t i : index) {
    LRA_CHECK(i >= 0 && i < shape_[d], ShapeError, "at(): index ", i, " out of range on axis ",
              d, " of ", describe());
    off += i * strides_[d++];
  }
  return dtype_ == DType::F32 ? data<float>()[off] : float(data<int32_t>()[off]);
}

// ---- views ----------------------------------------------------------------------------

Tensor Tensor::view(const Dims& shape) const {
  Dims s = shape;
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      LRA_CHECK(infer < 0, ShapeError, "view: more than one -1 in ", shape.str());
      infer = i;
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) s[infer] = known == 0 ? 0 : numel() / known;
  LRA_CHECK(s.numel() == numel(), ShapeError, "view: cannot view ", describe(), " as ",
            shape.str());
  LRA_CHECK(is_contiguous(), ShapeError, "view: ", describe(),
            " is not contiguous; use reshape() (copies) or contiguous()");
  Tensor t = *this;
  t.shape_ = s;
  t.strides_ = contiguous_strides(s);
  return t;
}

Tensor Tensor::reshape(const Dims& shape) const {
  return is_contiguous() ? view(shape) : contiguous().view(shape);
}

Tensor Tensor::permute(std::initializer_list<int> order) const {
  return permute(std::vector<int>(order));
}

Tensor Tensor::permute(const std::vector<int>& order) const {
  LRA_CHECK(int(order.size()) == dim(), ShapeError, "permute: ", order.size(),
            " axes for rank ", dim());
  Tensor t = *this;
  bool seen[kMaxDims] = {};
  for (int i = 0; i < dim(); ++i) {
    int a = wrap_axis(order[i], dim());
    LRA_CHECK(!seen[a], ShapeError, "permute: axis ", a, " repeated");
    seen[a] = true;
    t.shape_[i] = shape_[a];
    t.strides_[i] = strides_[a];
  }
  return t;
}

Tensor Tensor::transpose(int a, int b) const {
  a = wrap_axis(a, dim());
  b = wrap_axis(b, dim());
  Tensor t = *this;
  std::swap(t.shape_[a], t.shape_[b]);
  std::swap(t.strides_[a], t.strides_[b]);
  return t;
}

Tensor Tensor::slice(int axis, int64_t start, int64_t end) const {
  int a = wrap_axis(axis, dim());
  LRA_CHECK(0 <= start && start <= end && end <= shape_[a], ShapeError, "slice [", start, ", ",
            end, ") out of range on axis ", a, " of ", describe());
  Tensor t = *this;
  t.offset_ += start * strides_[a];
  t.shape_[a] = end - start;
  return t;
}

Tensor Tensor::select(int axis, int64_t index) const {
  int a = wrap_axis(axis, dim());
  Tensor t = slice(a, index, index + 1);
  t.shape_.erase(a);
  t.strides_.erase(a);
  return t;
}

Tensor Tensor::unsqueeze(int axis) const {
  int a = wrap_axis(axis, dim() + 1);
  Tensor t = *this;
  int64_t st = a < dim() ? strides_[a] * shape_[a] : 1;
  t.shape_.insert(a, 1);
  t.strides_.insert(a, st);
  return t;
}

Tensor Tensor::squeeze(int axis) const {
  int a = wrap_axis(axis, dim());
  LRA_CHECK(shape_[a] == 1, ShapeError, "squeeze: axis ", a, " of ", describe(), " is not 1");
  Tensor t = *this;
  t.shape_.erase(a);
  t.strides_.erase(a);
  return t;
}

Tensor Tensor::expand(const Dims& shape) const {
  LRA_CHECK(shape.size() >= dim(), ShapeError, "expand: ", describe(), " to ", shape.str());
  Tensor t = *this;
  int lead = shape.size() - dim();
  t.shape_ = shape;
  t.strides_ = shape;
  for (int i = 0; i < shape.size(); ++i) {
    int src = i - lead;
    if (src < 0) {
      t.strides_[i] = 0;
    } else if (shape_[src] == shape[i]) {
      t.strides_[i] = strides_[src];
    } else {
      LRA_CHECK(shape_[src] == 1, ShapeError, "expand: cannot expand ", describe(), " to ",
                shape.str());
      t.strides_[i] = 0;
    }
  }
  return t;
}

// ---- copies ---------------------------------------------------------------------------

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::clone() const {
  Tensor t = empty(shape_, dtype_);
  t.copy_(*this);
  return t;
}

void Tensor::copy_(const Tensor& src) {
  LRA_CHECK(src.shape_ == shape_, ShapeError, "copy_: shape ", src.describe(), " into ",
            describe());
  LRA_CHECK(src.dtype_ == dtype_, ShapeError, "copy_: dtype ", src.describe(), " into ",
            describe());
  if (is_contiguous() && src.is_contiguous()) {
    std::memmove(static_cast<char*>(storage_->data) + offset_ * 4,
                 static_cast<const char*>(src.storage_->data) + src.offset_ * 4,
                 size_t(numel()) * 4);
    return;
  }
  // Walk both layouts in row-major order, in parallel over the outermost axis.
  const uint32_t* s = static_cast<const uint32_t*>(src.storage_->data) + src.offset_;
  uint32_t* d = static_cast<uint32_t*>(storage_->data) + offset_;
  if (dim() == 0) {
    *d = *s;
    return;
  }
  Dims inner = shape_;
  inner[0] = 1;
  int64_t per_row = std::max<int64_t>(1, inner.numel());
  parallel_for(shape_[0], std::max<int64_t>(1, 65536 / per_row), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      const uint32_t* so = s + o * src.strides_[0];
      uint32_t* dso = d + o * strides_[0];
      for_each_offset(inner, src.strides_, [&](int64_t i, int64_t off) {
        // the destination walk is recomputed from the linear index: cheap relative to a miss
        int64_t rem = i, doff = 0;
        for (int k = inner.size() - 1; k >= 1; --k) {
          doff += (rem % inner[k]) * strides_[k];
          rem /= inner[k];
        }
        dso[doff] = so[off];
      });
    }
  });
}

void Tensor::fill_(float value) {
  if (dtype_ == DType::I32) {
    int32_t v = int32_t(value);
    int32_t* p = data<int32_t>();
    for_each_offset(shape_, strides_, [&](int64_t, int64_t o) { p[o] = v; });
    return;
  }
  float* p = data<float>();
  if (is_contiguous()) {
    std::fill(p, p + numel(), value);
    return;
  }
  for_each_offset(shape_, strides_, [&](int64_t, int64_t o) { p[o] = value; });
}

void Tensor::zero_() { fill_(0.0f); }

// ---- shape helpers --------------------------------------------------------------------

Dims broadcast_shapes(const Dims& a, const Dims& b) {
  int n = std::max(a.size(), b.size());
  Dims out;
  for (int i = 0; i < n; ++i) {
    int ia = i - (n - a.size()), ib = i - (n - b.size());
    int64_t ea = ia >= 0 ? a[ia] : 1, eb = ib >= 0 ? b[ib] : 1;
    LRA_CHECK(ea == eb || ea == 1 || eb == 1, ShapeError, "shapes ", a.str(), " and ", b.str(),
              " do not broadcast (axis ", i, ": ", ea, " vs ", eb, ")");
    out.push_back(ea == 1 ? eb : ea);
  }
  return out;
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* what) {
  LRA_CHECK(a.shape() == b.shape(), ShapeError, what, ": shapes ", a.shape().str(), " and ",
            b.shape().str(), " differ");
}

}  // namespace lra
