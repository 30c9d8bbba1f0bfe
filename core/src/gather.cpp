// Gather and scatter: embedding lookup, index_select, per-row gather, and their scatter-add
// adjoints; plus concat.
//
//   embedding        out[i, :]        = table[ids[i], :]          table (V, D), ids (...)
//   backward         grad[ids[i], :] += gy[i, :]
//   index_select     out[..., k, ...]  = x[..., index[k], ...]    along one axis
//   index_add_       dst[..., index[k], ...] += src[..., k, ...]
//   gather_rows      out[b, m, :]     = x[b, idx[b, m], :]        x (B, N, D), idx (B, M)
//   scatter_add_rows dst[b, idx[b, m], :] += src[b, m, :]
//
// Every scatter-add is deterministic: each destination element receives its contributions in
// index order on one thread, so repeated indices give the same bits for any thread count.
// Sources are read through their strides (index_select makes a visible contiguous copy).
#include <cstring>
#include <vector>

#include "lra/core/kernels.hpp"
#include "lra/core/threading.hpp"

namespace lra::kern {
namespace {

// Throws DataError naming the first id outside [0, n).
void check_ids(const int32_t* ids, int64_t count, int64_t n, const char* op, const char* what) {
  for (int64_t i = 0; i < count; ++i)
    LRA_CHECK(ids[i] >= 0 && ids[i] < n, DataError, op, ": id ", ids[i], " at position ", i,
              " is out of range for ", what, " of ", n, " (valid ids are 0..", n - 1, ")");
}

const int32_t* ids_data(const Tensor& ids, const char* op) {
  LRA_CHECK(ids.dtype() == DType::I32, ShapeError, op, ": indices must be i32, got ",
            ids.describe());
  return ids.data<int32_t>();
}

// Raw 4-byte elements of an f32 or i32 tensor (for dtype-agnostic copies).
const uint32_t* raw(const Tensor& t) {
  return static_cast<const uint32_t*>(t.storage()->data) + t.offset();
}
uint32_t* raw(Tensor& t) {
  return static_cast<uint32_t*>(t.storage()->data) + t.offset();
}

// dst[0, n) = src[j * stride].
void copy_strided(float* dst, const float* src, int64_t n, int64_t stride) {
  if (stride == 1) {
    std::memcpy(dst, src, size_t(n) * sizeof(float));
  } else {
    for (int64_t j = 0; j < n; ++j) dst[j] = src[j * stride];
  }
}

constexpr int64_t kBlock = 256;  // columns per task in the scatter-adds

}  // namespace

// ---- embedding ----------------------------------------------------------------------------

Tensor embedding(const Tensor& table, const Tensor& ids) {
  LRA_CHECK(table.dim() == 2 && table.dtype() == DType::F32, ShapeError,
            "embedding: table must be f32 (V, D), got ", table.describe());
  const Tensor idc = ids.contiguous();
  const int32_t* pid = ids_data(idc, "embedding");
  const int64_t v = table.size(0), d = table.size(1), n = idc.numel();
  check_ids(pid, n, v, "embedding", "a table of rows");
  Dims shape = ids.shape();
  shape.push_back(d);
  Tensor out = Tensor::empty(shape);
  const float* pt = table.data<float>();
  float* po = out.data<float>();
  const int64_t s0 = table.stride(0), s1 = table.stride(1);
  parallel_for(n, std::max<int64_t>(1, 16384 / std::max<int64_t>(d, 1)),
               [&](int64_t i0, int64_t i1) {
                 for (int64_t i = i0; i < i1; ++i)
                   copy_strided(po + i * d, pt + pid[i] * s0, d, s1);
               });
  return out;
}

void embedding_backward_(Tensor& grad_table, const Tensor& ids, const Tensor& gy) {
  grad_table.bump_version();
  LRA_CHECK(grad_table.dim() == 2, ShapeError,
            "embedding_backward_: grad_table must be (V, D), got ", grad_table.describe());
  const Tensor idc = ids.contiguous();
  const int32_t* pid = ids_data(idc, "embedding_backward_");
  const int64_t v = grad_table.size(0), d = grad_table.size(1), n = idc.numel();
  Dims expect = ids.shape();
  expect.push_back(d);
  LRA_CHECK(gy.shape() == expect, ShapeError, "embedding_backward_: gy ", gy.describe(),
            " should be ", expect.str());
  check_ids(pid, n, v, "embedding_backward_", "a table of rows");

  // Bucket positions by id (a stable counting sort), then each table row adds its positions
  // in increasing order: parallel over rows, deterministic.
  std::vector<int64_t> start(static_cast<size_t>(v + 1), 0), order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ++start[size_t(pid[i]) + 1];
  for (int64_t r = 0; r < v; ++r) start[r + 1] += start[r];
  std::vector<int64_t> fill(start.begin(), start.end() - 1);
  for (int64_t i = 0; i < n; ++i) order[fill[pid[i]]++] = i;

  const Tensor gc = gy.contiguous();
  const float* pg = gc.data<float>();
  float* pt = grad_table.data<float>();
  const int64_t s0 = grad_table.stride(0), s1 = grad_table.stride(1);
  parallel_for(v, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* dst = pt + r * s0;
      for (int64_t k = start[r]; k < start[r + 1]; ++k) {
        const float* src = pg + order[k] * d;
        for (int64_t j = 0; j < d; ++j) dst[j * s1] += src[j];
      }
    }
  });
}

// ---- index_select / index_add_ ------------------------------------------------------------

Tensor index_select(const Tensor& x, int axis, const Tensor& index) {
  const int a = wrap_axis(axis, x.dim());
  LRA_CHECK(index.dim() == 1, ShapeError, "index_select: index must be 1-D, got ",
            index.describe());
  const Tensor ic = index.contiguous();
  const int32_t* pid = ids_data(ic, "index_select");
  const int64_t n = x.size(a), m = ic.numel();
  check_ids(pid, m, n, "index_select", "an axis");
  Dims shape = x.shape();
  shape[a] = m;
  Tensor out = Tensor::empty(shape, x.dtype());
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < a; ++i) outer *= x.size(i);
  for (int i = a + 1; i < x.dim(); ++i) inner *= x.size(i);
  if (out.numel() == 0) return out;

  const Tensor xc = x.contiguous();  // visible copy for views: blocks below are memcpy'd
  const uint32_t* px = raw(xc);
  uint32_t* po = raw(out);
  parallel_for(outer * m, std::max<int64_t>(1, 16384 / inner), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t o = t / m, k = t % m;
      std::memcpy(po + t * inner, px + (o * n + pid[k]) * inner, size_t(inner) * 4);
    }
  });
  return out;
}

void index_add_(Tensor& dst, int axis, const Tensor& index, const Tensor& src) {
  dst.bump_version();
  const int a = wrap_axis(axis, dst.dim());
  LRA_CHECK(index.dim() == 1, ShapeError, "index_add_: index must be 1-D, got ", index.describe());
  const Tensor ic = index.contiguous();
  const int32_t* pid = ids_data(ic, "index_add_");
  const int64_t n = dst.size(a), m = ic.numel();
  Dims expect = dst.shape();
  expect[a] = m;
  LRA_CHECK(src.shape() == expect, ShapeError, "index_add_: src ", src.describe(), " should be ",
            expect.str());
  check_ids(pid, m, n, "index_add_", "an axis");
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < a; ++i) outer *= dst.size(i);
  for (int i = a + 1; i < dst.dim(); ++i) inner *= dst.size(i);
  if (src.numel() == 0) return;

  Tensor d = dst.is_contiguous() ? dst : dst.contiguous();  // written back below if a copy
  const Tensor sc = src.contiguous();
  const float* ps = sc.data<float>();
  float* pd = d.data<float>();
  // Tasks are (outer slice, column block); each adds the m source blocks in index order.
  const int64_t nblk = (inner + kBlock - 1) / kBlock;
  parallel_for(outer * nblk, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t o = t / nblk, j0 = (t % nblk) * kBlock, j1 = std::min(inner, j0 + kBlock);
      for (int64_t k = 0; k < m; ++k) {
        float* dr = pd + (o * n + pid[k]) * inner;
        const float* sr = ps + (o * m + k) * inner;
        for (int64_t j = j0; j < j1; ++j) dr[j] += sr[j];
      }
    }
  });
  if (!dst.is_contiguous()) dst.copy_(d);
}

// ---- gather_rows / scatter_add_rows_ ------------------------------------------------------

Tensor gather_rows(const Tensor& x, const Tensor& idx) {
  LRA_CHECK(x.dim() == 3 && idx.dim() == 2 && idx.size(0) == x.size(0), ShapeError,
            "gather_rows: needs x (B, N, D) and idx (B, M), got ", x.describe(), " and ",
            idx.describe());
  const Tensor ic = idx.contiguous();
  const int32_t* pid = ids_data(ic, "gather_rows");
  const int64_t b = x.size(0), n = x.size(1), d = x.size(2), m = idx.size(1);
  check_ids(pid, b * m, n, "gather_rows", "an axis");
  Tensor out = Tensor::empty({b, m, d});
  const float* px = x.data<float>();
  float* po = out.data<float>();
  const int64_t s0 = x.stride(0), s1 = x.stride(1), s2 = x.stride(2);
  parallel_for(b * m, std::max<int64_t>(1, 16384 / std::max<int64_t>(d, 1)),
               [&](int64_t t0, int64_t t1) {
                 for (int64_t t = t0; t < t1; ++t)
                   copy_strided(po + t * d, px + (t / m) * s0 + pid[t] * s1, d, s2);
               });
  return out;
}

void scatter_add_rows_(Tensor& dst, const Tensor& idx, const Tensor& src) {
  dst.bump_version();
  LRA_CHECK(dst.dim() == 3 && idx.dim() == 2 && idx.size(0) == dst.size(0), ShapeError,
            "scatter_add_rows_: needs dst (B, N, D) and idx (B, M), got ", dst.describe(), " and ",
            idx.describe());
  const int64_t b = dst.size(0), n = dst.size(1), d = dst.size(2), m = idx.size(1);
  LRA_CHECK(src.shape() == Dims({b, m, d}), ShapeError, "scatter_add_rows_: src ", src.describe(),
            " should be ", Dims({b, m, d}).str());
  const Tensor ic = idx.contiguous();
  const int32_t* pid = ids_data(ic, "scatter_add_rows_");
  check_ids(pid, b * m, n, "scatter_add_rows_", "an axis");
  const Tensor sc = src.contiguous();
  const float* ps = sc.data<float>();
  float* pd = dst.data<float>();
  const int64_t s0 = dst.stride(0), s1 = dst.stride(1), s2 = dst.stride(2);
  // Tasks are (batch, column block); each adds its m source rows in order.
  const int64_t nblk = std::max<int64_t>(1, (d + kBlock - 1) / kBlock);
  parallel_for(b * nblk, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t bi = t / nblk, j0 = (t % nblk) * kBlock, j1 = std::min(d, j0 + kBlock);
      for (int64_t k = 0; k < m; ++k) {
        float* dr = pd + bi * s0 + pid[bi * m + k] * s1;
        const float* sr = ps + (bi * m + k) * d;
        for (int64_t j = j0; j < j1; ++j) dr[j * s2] += sr[j];
      }
    }
  });
}

// ---- concat -------------------------------------------------------------------------------

Tensor concat(const std::vector<Tensor>& parts, int axis) {
  LRA_CHECK(!parts.empty(), ShapeError, "concat: no tensors to concatenate");
  const Tensor& first = parts[0];
  const int a = wrap_axis(axis, first.dim());
  Dims shape = first.shape();
  shape[a] = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Tensor& p = parts[i];
    bool ok = p.dim() == first.dim() && p.dtype() == first.dtype();
    for (int k = 0; ok && k < p.dim(); ++k) ok = k == a || p.size(k) == first.size(k);
    LRA_CHECK(ok, ShapeError, "concat: part ", i, " ", p.describe(), " does not match part 0 ",
              first.describe(), " outside axis ", a);
    shape[a] += p.size(a);
  }
  Tensor out = Tensor::empty(shape, first.dtype());
  int64_t off = 0;
  for (const Tensor& p : parts) {
    const int64_t len = p.size(a);
    if (p.numel() > 0) {
      Tensor dst = out.slice(a, off, off + len);
      dst.copy_(p);
    }
    off += len;
  }
  return out;
}

}  // namespace lra::kern
