#include "lra/core/tensor.hpp"

#include <algorithm>
#include <cstring>

#include "lra/core/allocator.hpp"
#include "lra/core/threading.hpp"
#include "merged_axes.hpp"

namespace lra {

const char* dtype_name(DType t) {
  return t == DType::F32 ? "f32" : "i32";
}

Storage::Storage(size_t n) : data(allocate_bytes(n)), bytes(n) {}
Storage::~Storage() {
  free_bytes(data, bytes);
}

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

template <>
float* Tensor::data<float>() {
  LRA_CHECK(dtype_ == DType::F32, ShapeError, "expected an f32 tensor, got ", describe());
  return static_cast<float*>(storage_->data) + offset_;
}
template <>
const float* Tensor::data<float>() const {
  return const_cast<Tensor*>(this)->data<float>();
}
template <>
int32_t* Tensor::data<int32_t>() {
  LRA_CHECK(dtype_ == DType::I32, ShapeError, "expected an i32 tensor, got ", describe());
  return static_cast<int32_t*>(storage_->data) + offset_;
}
template <>
const int32_t* Tensor::data<int32_t>() const {
  return const_cast<Tensor*>(this)->data<int32_t>();
}

namespace {
// Calls fn(linear_index, element_offset) for every element in row-major order.
template <typename Fn>
void for_each_offset(const Dims& shape, const Dims& strides, Fn fn) {
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
  LRA_CHECK(int(index.size()) == dim(), ShapeError, "at(): ", index.size(), " indices for rank ",
            dim());
  int64_t off = 0;
  int d = 0;
  for (int64_t i : index) {
    LRA_CHECK(i >= 0 && i < shape_[d], ShapeError, "at(): index ", i, " out of range on axis ", d,
              " of ", describe());
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
  LRA_CHECK(int(order.size()) == dim(), ShapeError, "permute: ", order.size(), " axes for rank ",
            dim());
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
  LRA_CHECK(0 <= start && start <= end && end <= shape_[a], ShapeError, "slice [", start, ", ", end,
            ") out of range on axis ", a, " of ", describe());
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

Tensor Tensor::contiguous() const {
  return is_contiguous() ? *this : clone();
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape_, dtype_);
  t.copy_(*this);
  return t;
}

namespace {

// Note [strided copy]: dst and src are laid over one shape; size-1 axes are dropped and axes
// that are adjacent in both layouts are merged, so e.g. merging heads (B, H, N, d) -> (B, N, H, d)
// becomes rows of d contiguous floats. What is left is copied one of three ways:
//   - unit inner stride on both sides: rows of memcpy;
//   - unit inner stride on dst only, with some other axis of unit stride on src (a transpose,
//     e.g. contiguous() of a kᵀ view): 16 x 16 tiles, so both sides are read and written in
//     cache lines;
//   - anything else: an odometer over the outer axes with a strided inner loop.
// Rows are split across threads in chunks of ~64K elements; each chunk decodes its first row
// index once and then steps an odometer (no division per element).
using CopyPlan = kern::MergedAxes<2>;  // st[0]: dst, st[1]: src (Note [merged axes])

// Copies `rows` rows of the axes `outer` (in order) starting at flat row `r0`; fn(d, s) copies
// one row given its destination and source pointers.
template <typename Fn>
void for_rows(const CopyPlan& p, const int* outer, int nouter, int64_t r0, int64_t rows,
              uint32_t* d, const uint32_t* s, Fn fn) {
  int64_t idx[kMaxDims] = {};
  int64_t doff = 0, soff = 0, rem = r0;
  for (int k = nouter - 1; k >= 0; --k) {
    const int a = outer[k];
    idx[k] = rem % p.n[a];
    rem /= p.n[a];
    doff += idx[k] * p.st[0][a];
    soff += idx[k] * p.st[1][a];
  }
  for (int64_t r = 0; r < rows; ++r) {
    fn(d + doff, s + soff);
    for (int k = nouter - 1; k >= 0; --k) {
      const int a = outer[k];
      if (++idx[k] < p.n[a]) {
        doff += p.st[0][a], soff += p.st[1][a];
        break;
      }
      doff -= p.st[0][a] * (p.n[a] - 1), soff -= p.st[1][a] * (p.n[a] - 1);
      idx[k] = 0;
    }
  }
}

void strided_copy(uint32_t* d, const uint32_t* s, const Dims& shape, const Dims& dst_strides,
                  const Dims& src_strides) {
  const CopyPlan p = kern::merge_axes<2>(shape, {&dst_strides, &src_strides});
  if (p.nd == 0) {
    *d = *s;
    return;
  }
  const int last = p.nd - 1;
  const int64_t total = shape.numel();
  // A transpose: dst runs along `last`, src runs along another axis `t`.
  int t = -1;
  if (p.st[0][last] == 1 && p.st[1][last] != 1)
    for (int a = 0; a < last; ++a)
      if (p.st[1][a] == 1 && p.n[a] >= 8) t = a;
  int outer[kMaxDims], nouter = 0;
  for (int a = 0; a < last; ++a)
    if (a != t) outer[nouter++] = a;
  int64_t rows = 1;
  for (int k = 0; k < nouter; ++k) rows *= p.n[outer[k]];
  const int64_t per_row = total / std::max<int64_t>(rows, 1);
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(per_row, 1));
  const int64_t n = p.n[last], dsl = p.st[0][last], ssl = p.st[1][last];
  if (t >= 0) {
    const int64_t nt = p.n[t], dst_t = p.st[0][t];
    constexpr int64_t kTile = 16;
    parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
      for_rows(p, outer, nouter, r0, r1 - r0, d, s, [&](uint32_t* dr, const uint32_t* sr) {
        // dr[i * dst_t + j] = sr[i + j * ssl] for i < nt, j < n
        for (int64_t i0 = 0; i0 < nt; i0 += kTile)
          for (int64_t j0 = 0; j0 < n; j0 += kTile) {
            const int64_t i1 = std::min(nt, i0 + kTile), j1 = std::min(n, j0 + kTile);
            for (int64_t i = i0; i < i1; ++i)
              for (int64_t j = j0; j < j1; ++j) dr[i * dst_t + j] = sr[i + j * ssl];
          }
      });
    });
    return;
  }
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    if (dsl == 1 && ssl == 1) {
      for_rows(p, outer, nouter, r0, r1 - r0, d, s,
               [&](uint32_t* dr, const uint32_t* sr) { std::memcpy(dr, sr, size_t(n) * 4); });
    } else {
      for_rows(p, outer, nouter, r0, r1 - r0, d, s, [&](uint32_t* dr, const uint32_t* sr) {
        for (int64_t j = 0; j < n; ++j) dr[j * dsl] = sr[j * ssl];
      });
    }
  });
}

}  // namespace

void Tensor::copy_(const Tensor& src) {
  LRA_CHECK(src.shape_ == shape_, ShapeError, "copy_: shape ", src.describe(), " into ",
            describe());
  LRA_CHECK(src.dtype_ == dtype_, ShapeError, "copy_: dtype ", src.describe(), " into ",
            describe());
  bump_version();
  const uint32_t* s = static_cast<const uint32_t*>(src.storage_->data) + src.offset_;
  uint32_t* d = static_cast<uint32_t*>(storage_->data) + offset_;
  const int64_t n = numel();
  if (n == 0) return;
  if (is_contiguous() && src.is_contiguous()) {
    if (storage_ == src.storage_) {  // may overlap
      std::memmove(d, s, size_t(n) * 4);
      return;
    }
    parallel_for(n, 1 << 16,
                 [&](int64_t b, int64_t e) { std::memcpy(d + b, s + b, size_t(e - b) * 4); });
    return;
  }
  strided_copy(d, s, shape_, strides_, src.strides_);
}

void Tensor::fill_(float value) {
  bump_version();
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

void Tensor::zero_() {
  fill_(0.0f);
}

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
