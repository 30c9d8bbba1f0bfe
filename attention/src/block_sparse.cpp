// Block-sparse online-softmax attention, the kernel: see block_sparse.hpp for the algorithm.
// Layout builders: block_layout.cpp; the dense face (dense_weights): block_sparse_dense.cpp.
//
// Note [layout of q, k, v and o]: heads arrive as views (B, H, N, d) of (B, N, H, d) projection
// outputs, rows of one head H·d floats apart. BLAS reads q, k, v, dO in place (lda = H·d); o,
// dq, dk and dv are written the same way, so merging heads afterwards is a free view.
//
// Note [no NT products]: every tile product is A·B or Aᵀ·B with B's rows contiguous (what
// kern::sgemm's register-blocked kernel reads in place; an A·Bᵀ would be repacked per call). So
// K and V are transposed once per backward call into (B, H, d, N), and Q Kᵀ of a tile is
// Q · (Kᵀ columns); the forward transposes Q instead and computes K Qᵀ (Note [key-major forward]).
//
// Note [slots]: backward walks query tiles (dQ_I is owned by one task) while dK_J and dV_J
// receive a contribution from every query tile that visits J. Tasks therefore add into
// private partial sums and a final pass adds the partial sums in a fixed order. There are
// `slots` partial sums per (b, h), each owning a fixed contiguous range of query tiles;
// slots = ceil(kMinTasks / (B·H)) depends only on the shapes, never on the thread count, so
// gradients are bit-identical for any number of threads. With B·H >= kMinTasks (training
// batches) there is a single slot, written straight into dk and dv.
#include "block_sparse.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <map>
#include <tuple>

#include "lra/core/fast_exp.hpp"
#include "lra/core/kernels.hpp"
#include "lra/core/rng.hpp"
#include "lra/core/rows.hpp"
#include "lra/core/simd.hpp"
#include "lra/core/threading.hpp"

namespace lra::attn::bsa {
namespace {

constexpr int64_t kMinTasks = 8;  // backward tasks wanted per call (Note [slots])

// ---- tile products -----------------------------------------------------------------------
// Single-threaded products of row-major tiles (the caller's task owns the tile). Note [tile
// products]: these go to kern::sgemm, which takes tiles like these (64 x 64 x d) to core's
// AVX-512 register-blocked kernel, reading both operands in place; cblas_sgemm packed both
// operands on every call and ran OpenBLAS's AVX2 (Haswell) code.
// c (m, n) = alpha · a (m, k) · b (k, n) + beta · c
inline void gemm_nn(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                    const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  kern::sgemm(false, false, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
// c (m, n) = alpha · a (k, m)ᵀ · b (k, n) + beta · c
inline void gemm_tn(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                    const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  kern::sgemm(true, false, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// ---- heads ------------------------------------------------------------------------------

// A (B, H, N, d) f32 tensor read through its strides; unit stride on d (else copied).
struct HeadsIn {
  Tensor hold;
  const float* p = nullptr;
  int64_t sb = 0, sh = 0, sn = 0;
  const float* row(int64_t b, int64_t h, int64_t i) const { return p + b * sb + h * sh + i * sn; }
};

HeadsIn heads_in(const Tensor& t, const char* what) {
  LRA_CHECK(t.defined() && t.dim() == 4 && t.dtype() == DType::F32, ShapeError,
            "block-sparse attention: ", what, " must be f32 (B, H, N, d), got ",
            t.defined() ? t.describe() : std::string("undefined"));
  Tensor u = t;
  const int64_t d = t.size(3);
  if ((d > 1 && u.stride(3) != 1) || (u.size(2) > 1 && u.stride(2) < d)) u = u.contiguous();
  HeadsIn h;
  h.hold = u;
  h.p = u.data<float>();
  h.sb = u.stride(0), h.sh = u.stride(1),
  h.sn = u.size(2) > 1 ? u.stride(2) : std::max<int64_t>(d, 1);
  return h;
}

// A fresh (B, H, N, d) result stored as (B, N, H, d): see Note [layout of q, k, v and o].
struct HeadsOut {
  Tensor t;  // the (B, H, N, d) view
  float* p = nullptr;
  int64_t sb = 0, sh = 0, sn = 0;
  float* row(int64_t b, int64_t h, int64_t i) const { return p + b * sb + h * sh + i * sn; }
};

HeadsOut heads_out(int64_t B, int64_t H, int64_t N, int64_t d, bool zero) {
  Tensor buf = zero ? Tensor::zeros({B, N, H, d}) : Tensor::empty({B, N, H, d});
  HeadsOut o;
  o.t = buf.permute({0, 2, 1, 3});
  o.p = buf.data<float>();
  o.sb = N * H * d, o.sh = d, o.sn = H * d;
  return o;
}

// Kᵀ (or Vᵀ) of every head: (B, H, d, N) contiguous, so a key tile's transpose is a column
// range (row stride N). See Note [no NT products].
struct HeadsT {
  Tensor t;
  const float* p = nullptr;
  int64_t d = 0, n = 0, h = 0;
  const float* at(int64_t b, int64_t hh, int64_t j) const { return p + ((b * h + hh) * d) * n + j; }
};

HeadsT transposed(const HeadsIn& x, int64_t B, int64_t H, int64_t N, int64_t d) {
  HeadsT o;
  o.t = Tensor::empty({B, H, d, N});
  o.p = o.t.data<float>();
  o.d = d, o.n = N, o.h = H;
  float* dst = o.t.data<float>();
  parallel_for(B * H, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t b = t / H, h = t % H;
      float* out = dst + t * d * N;
      // blocks of 16 positions: 16 rows are read (in cache), each output row gets 16
      // consecutive floats (one cache line) instead of one scattered float per row
      for (int64_t j0 = 0; j0 < N; j0 += 16) {
        const int64_t j1 = std::min(N, j0 + 16);
        const float* rows[16];
        for (int64_t j = j0; j < j1; ++j) rows[j - j0] = x.row(b, h, j);
        int64_t c = 0;
#if defined(__AVX512F__)
        if (j1 - j0 == 16)  // whole 16 x 16 blocks in registers (GCC leaves the loop below scalar)
          for (; c + 16 <= d; c += 16) simd::transpose16(rows, c, out + c * N + j0, N);
#endif
        for (; c < d; ++c) {
          float* o = out + c * N + j0;
          for (int64_t j = 0; j < j1 - j0; ++j) o[j] = rows[j][c];
        }
      }
    }
  });
  return o;
}

// ---- the call: shapes, layouts, per-tile scratch -----------------------------------------

struct Problem {
  int64_t B = 0, H = 0, N = 0, d = 0;
  int64_t Nk = 0;  // keys: N, or k.size(2) for a rectangular call (Linformer's projected keys)
  int64_t tile_q = 0, max_tile_k = 0, q_tiles = 0;
  std::vector<int32_t> len;         // valid queries per entry
  std::vector<int32_t> key_len;     // valid keys per entry: len, or Nk for a rectangular call
  const int32_t* key_ok = nullptr;  // (B, N) spec.key_mask, or nullptr
  const Spec* spec = nullptr;
  // Per layout, per key tile: -1 for a run of positions (read in place), else the tile's first
  // row in the gathered copies (Gathered below); `gathered` = the most rows any layout needs.
  std::vector<std::vector<int64_t>> gather_row;
  int64_t gathered = 0;

  const BlockLayout& layout(int64_t b) const {
    return *spec->layouts[spec->layouts.size() == 1 ? 0 : size_t(b)];
  }
  const std::vector<int64_t>& gather_rows(int64_t b) const {
    return gather_row[spec->layouts.size() == 1 ? 0 : size_t(b)];
  }
};

Problem make_problem(const Tensor& qt, const Tensor& kt, const Tensor& vt, const Tensor& lengths,
                     const Spec& spec) {
  Problem p;
  p.B = qt.size(0), p.H = qt.size(1), p.N = qt.size(2), p.d = qt.size(3);
  p.Nk = kt.dim() == 4 ? kt.size(2) : 0;
  const Dims kv_shape{p.B, p.H, p.Nk, p.d};
  LRA_CHECK(kt.shape() == kv_shape && vt.shape() == kt.shape(), ShapeError,
            "block-sparse attention: q (B, H, N, d) and k, v (B, H, Nk, d) must agree; got q ",
            qt.describe(), ", k ", kt.describe(), ", v ", vt.describe());
  LRA_CHECK(p.Nk == p.N || (!lengths.defined() && !spec.key_mask.defined()), ShapeError,
            "block-sparse attention: lengths and a key mask need as many keys as queries (", p.N,
            "), got ", p.Nk, " keys");
  p.len = checked_lengths(lengths, p.B, p.N);
  p.key_len = p.Nk == p.N ? p.len : std::vector<int32_t>(size_t(p.B), int32_t(p.Nk));
  p.spec = &spec;
  if (spec.key_mask.defined()) {
    const Tensor& km = spec.key_mask;
    LRA_CHECK(km.dtype() == DType::I32 && km.dim() == 2 && km.size(0) == p.B && km.size(1) == p.N &&
                  km.is_contiguous(),
              ShapeError, "block-sparse attention: key_mask must be contiguous i32 (", p.B, ", ",
              p.N, "), got ", km.describe());
    p.key_ok = km.data<int32_t>();
  }
  LRA_CHECK(
      !spec.layouts.empty() && (spec.layouts.size() == 1 || int64_t(spec.layouts.size()) == p.B),
      ShapeError, "block-sparse attention: need 1 or B = ", p.B, " layouts, got ",
      spec.layouts.size());
  LRA_CHECK(spec.dropout >= 0.0f && spec.dropout < 1.0f, ConfigError, "attention dropout ",
            spec.dropout, " must be in [0, 1)");
  p.tile_q = spec.layouts[0]->tile_q;
  for (const auto& l : spec.layouts) {
    LRA_ASSERT(l && l->n == p.N && l->keys() == p.Nk && l->tile_q == p.tile_q &&
               (l->heads == 1 || l->heads == p.H));
    std::vector<int64_t> rows(size_t(l->key_tiles()), -1);
    int64_t total = 0;
    for (int64_t t = 0; t < l->key_tiles(); ++t) {
      int64_t s = l->key_start[t], e = l->key_start[t + 1];
      p.max_tile_k = std::max(p.max_tile_k, e - s);
      bool run = true;
      for (int64_t x = s + 1; x < e && run; ++x) run = l->key_pos[x] == l->key_pos[x - 1] + 1;
      if (!run) rows[size_t(t)] = total, total += e - s;
    }
    p.gathered = std::max(p.gathered, total);
    p.gather_row.push_back(std::move(rows));
  }
  p.q_tiles = (p.N + p.tile_q - 1) / p.tile_q;
  return p;
}

// Key tiles that are not runs of positions (e.g. Sparse Transformer's summary columns), copied
// once per call for every (b, h): k, v (B·H, G, d) and kt, vt (B·H, d, G); rows of positions at
// or past the length are zeros (their scores are masked).
struct Gathered {
  Tensor k, v, kt, vt;
  int64_t G = 0;
};

Gathered gather_keys(const Problem& p, const HeadsIn& K, const HeadsIn& V, bool with_vt) {
  Gathered g;
  g.G = p.gathered;
  if (g.G == 0) return g;
  const int64_t bh = p.B * p.H, G = g.G, d = p.d;
  g.k = Tensor::zeros({bh, G, d}), g.v = Tensor::zeros({bh, G, d}),
  g.kt = Tensor::zeros({bh, d, G});
  if (with_vt) g.vt = Tensor::zeros({bh, d, G});
  float *pk = g.k.data<float>(), *pv = g.v.data<float>(), *pkt = g.kt.data<float>();
  float* pvt = with_vt ? g.vt.data<float>() : nullptr;
  parallel_for(bh, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t b = t / p.H, h = t % p.H, len = p.key_len[size_t(b)];
      const BlockLayout& lay = p.layout(b);
      const std::vector<int64_t>& rows = p.gather_rows(b);
      for (int64_t kt = 0; kt < lay.key_tiles(); ++kt) {
        if (rows[size_t(kt)] < 0) continue;
        for (int64_t c = lay.key_start[kt]; c < lay.key_start[kt + 1]; ++c) {
          const int64_t j = lay.key_pos[size_t(c)], row = rows[size_t(kt)] + c - lay.key_start[kt];
          if (j >= len) continue;
          const float* kr = K.row(b, h, j);
          const float* vr = V.row(b, h, j);
          for (int64_t z = 0; z < d; ++z) {
            pk[(t * G + row) * d + z] = kr[z], pv[(t * G + row) * d + z] = vr[z];
            pkt[(t * d + z) * G + row] = kr[z];
            if (pvt) pvt[(t * d + z) * G + row] = vr[z];
          }
        }
      }
    }
  });
  return g;
}

// Per-task scratch (counted by the allocator like any tensor): score-sized tiles (tq, tk),
// query-major with row stride ldq_major = tk in backward, key-major with row stride tq in
// forward, and key-tile-sized gradient buffers.
struct Scratch {
  Tensor hold;
  float *s, *t1, *t2, *mult, *acc, *m, *l, *dkt, *dvt, *drow;
  int64_t ldq_major;
  explicit Scratch(const Problem& p) {
    const int64_t tq = p.tile_q, tk = std::max<int64_t>(p.max_tile_k, 1), d = p.d;
    ldq_major = tk;
    const int64_t sizes[] = {tq * tk, tq * tk, tq * tk, tq * tk, tq * d,
                             tq,      tq,      tk * d,  tk * d,  tq};
    float** parts[] = {&s, &t1, &t2, &mult, &acc, &m, &l, &dkt, &dvt, &drow};
    int64_t total = 0;
    for (int64_t z : sizes) total += (z + 15) / 16 * 16;  // 64-byte aligned pieces
    hold = Tensor::empty({total});
    float* base = hold.data<float>();
    int64_t off = 0;
    for (size_t i = 0; i < std::size(sizes); ++i) {
      *parts[i] = base + off;
      off += (sizes[i] + 15) / 16 * 16;
    }
  }
};

// The keys of one visit, ready for BLAS: k, v (nk, d) and their transposes kt, vt (d, nk); in
// place when the tile is a run of positions (clipped at the length), else from the gathered
// copies (positions at or past the length are zero rows there, masked later).
struct KeyTile {
  const int32_t* pos = nullptr;
  int64_t nk = 0;
  bool gathered = false;
  const float *k = nullptr, *v = nullptr, *kt = nullptr, *vt = nullptr;
  int64_t ld = 0, ldv = 0, ldt = 0;  // row strides of k, v and of kt, vt
};

// False when no key of the tile is valid (the visit is skipped). kt, vt are set only with KT,
// VT.
bool load_keys(const Problem& p, const HeadsIn& K, const HeadsIn& V, const HeadsT* KT,
               const HeadsT* VT, const Gathered& gk, int64_t b, int64_t h, int32_t tile,
               KeyTile& kt) {
  const BlockLayout& lay = p.layout(b);
  const int64_t start = lay.key_start[tile], count = lay.key_start[tile + 1] - start;
  const int64_t len = p.key_len[size_t(b)], d = p.d;
  kt.pos = lay.key_pos.data() + start;
  if (count == 0) return false;
  const int64_t row = p.gather_rows(b)[size_t(tile)];
  if (row < 0) {
    const int64_t j0 = kt.pos[0];
    if (j0 >= len) return false;
    kt.nk = std::min<int64_t>(count, len - j0);
    kt.gathered = false;
    kt.k = K.row(b, h, j0), kt.v = V.row(b, h, j0), kt.ld = K.sn, kt.ldv = V.sn;
    kt.kt = KT ? KT->at(b, h, j0) : nullptr, kt.vt = VT ? VT->at(b, h, j0) : nullptr;
    kt.ldt = p.Nk;
    return true;
  }
  bool any = false;
  for (int64_t c = 0; c < count && !any; ++c) any = kt.pos[c] < len;
  const int64_t t = b * p.H + h, G = gk.G;
  kt.nk = count;
  kt.gathered = true;
  kt.k = gk.k.data<float>() + (t * G + row) * d, kt.v = gk.v.data<float>() + (t * G + row) * d;
  kt.ld = kt.ldv = d;
  kt.kt = gk.kt.data<float>() + t * d * G + row;
  kt.vt = gk.vt.defined() ? gk.vt.data<float>() + t * d * G + row : nullptr;
  kt.ldt = G;
  return any;
}

// A (nv queries) x (nk keys) tile stored with element (x, y) at t[x·rs + y·cs]: query-major
// (rs = ld, cs = 1) in forward, key-major (rs = 1, cs = ld) in backward.
struct TileView {
  float* t;
  int64_t rs, cs;
  float& at(int64_t x, int64_t y) const { return t[x * rs + y * cs]; }
};

// Sets every score the pattern, the layout's element mask, the key mask or the length forbids
// to -inf.
void mask_scores(const Problem& p, int64_t b, int64_t h, int64_t i0, int64_t nv, const KeyTile& kt,
                 int mask_kind, const TileView& sv) {
  const BlockLayout& lay = p.layout(b);
  if (mask_kind)
    lay.mask_tile(lay.heads == 1 ? 0 : h, mask_kind, i0, nv, kt.pos, kt.nk, sv.t, sv.rs, sv.cs);
  if (p.key_ok) {
    const int32_t* ok = p.key_ok + b * p.N;
    for (int64_t y = 0; y < kt.nk; ++y)
      if (!ok[kt.pos[y]])
        for (int64_t x = 0; x < nv; ++x) sv.at(x, y) = -INFINITY;
  }
  if (kt.gathered) {
    const int64_t len = p.key_len[size_t(b)];
    for (int64_t y = 0; y < kt.nk; ++y)
      if (kt.pos[y] >= len)
        for (int64_t x = 0; x < nv; ++x) sv.at(x, y) = -INFINITY;
  }
}

// Dropout multipliers of the tile: 1/(1-p) where (b, h, i0 + x, pos[y]) is kept, else 0.
// Query-major (cs = 1) or key-major (rs = 1) tiles; the inner loop runs along memory.
void dropout_tile(const Problem& p, int64_t b, int64_t h, int64_t i0, int64_t nv, const KeyTile& kt,
                  const TileView& mv) {
  const float rate = p.spec->dropout, keep = 1.0f / (1.0f - rate);
  const PhiloxKey key(p.spec->dropout_key);
  LRA_ASSERT(mv.cs == 1 || mv.rs == 1);
  if (mv.rs == 1) {
    const uint64_t n = uint64_t(p.Nk),
                   first = uint64_t((((p.spec->row0 + b) * p.H + h) * p.N + i0) * p.Nk);
    for (int64_t y = 0; y < kt.nk; ++y) {
      const uint64_t base = first + uint64_t(kt.pos[y]);
      float* out = mv.t + y * mv.cs;
      for (int64_t x = 0; x < nv; ++x)
        out[x] = uniform01(key, base + uint64_t(x) * n) >= rate ? keep : 0.0f;
    }
    return;
  }
  for (int64_t x = 0; x < nv; ++x) {
    const uint64_t base = uint64_t((((p.spec->row0 + b) * p.H + h) * p.N + i0 + x) * p.Nk);
    float* out = mv.t + x * mv.rs;
    const int32_t* pos = kt.pos;
    for (int64_t y = 0; y < kt.nk; ++y)
      out[y] = uniform01(key, base + uint64_t(pos[y])) >= rate ? keep : 0.0f;
  }
}

// Row helper of the backward. Note [vector rows]: with AVX-512 it runs on whole zmm registers
// (a masked tail), because GCC leaves exp loops whose input and output alias unvectorised
// (lra/core/simd.hpp).
#if defined(__AVX512F__)
// x[j] = exp(x[j] - shift) in place.
void exp_shift(float* x, int64_t n, float shift) {
  simd::exp_shift(x, x, n, shift);
}
#else
void exp_shift(float* x, int64_t n, float shift) {
  for (int64_t j = 0; j < n; ++j) x[j] = exp_nonpos(x[j] - shift);
}
#endif

// ---- forward of one query tile -----------------------------------------------------------

// Note [key-major forward]: the forward computes Sᵀ = K_J Q_Iᵀ, a key-major tile (row y = key,
// column x = query), so each query's softmax statistics are a column: the maxima, exponentials
// and sums run down the columns on whole vectors of 16 queries, with no horizontal reduction
// and no scalar work per row (the query-major form's row reductions cost about as much as the
// tile's two products). Sᵀ reads K in place and a transposed Q (B, H, d, N); the output update
// is acc += (Pᵀ)ᵀ V_J, an Aᵀ·B product.
//
// Online-softmax update of query columns [0, nv) of a key-major score tile st (nk rows, row
// stride ld), in place: m' = max(m, max_y st[y, x]);  st[y, x] = exp(st[y, x] − m');
// l = e^{m − m'} l + Σ_y st[y, x] (summed in y order);  alpha[x] = e^{m − m'}, the factor the
// caller applies to its accumulator. A column with nothing visible yet (m' = −inf) gets
// zeros and alpha 0 (its l and accumulator are still 0).
void softmax_update(float* st, int64_t ld, int64_t nk, int64_t nv, float* m, float* l,
                    float* alpha) {
#if defined(__AVX512F__)
  for (int64_t x = 0; x < nv; x += 16) {
    const __mmask16 k = simd::tail_mask(nv - x);
    const __m512 m_old = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), k, m + x);
    const auto col = [&](int64_t y) { return _mm512_maskz_loadu_ps(k, st + y * ld + x); };
    __m512 m0 = m_old, m1 = m_old, m2 = m_old, m3 = m_old;  // 4 chains: max is exact in any order
    int64_t y = 0;
    for (; y + 4 <= nk; y += 4) {
      m0 = _mm512_max_ps(m0, col(y)), m1 = _mm512_max_ps(m1, col(y + 1));
      m2 = _mm512_max_ps(m2, col(y + 2)), m3 = _mm512_max_ps(m3, col(y + 3));
    }
    for (; y < nk; ++y) m0 = _mm512_max_ps(m0, col(y));
    const __m512 m_new = _mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3));
    // shift 0 where m' = −inf: exp(−inf − 0) = 0, never NaN
    const __m512 shift = _mm512_maskz_mov_ps(
        _mm512_cmp_ps_mask(m_new, _mm512_set1_ps(-INFINITY), _CMP_NEQ_OQ), m_new);
    const __m512 a = simd::exp16_nonpos(_mm512_sub_ps(m_old, shift));
    __m512 sum = _mm512_setzero_ps();
    for (y = 0; y < nk; ++y) {
      float* row = st + y * ld + x;
      const __m512 e = simd::exp16_nonpos(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, row), shift));
      _mm512_mask_storeu_ps(row, k, e);
      sum = _mm512_add_ps(sum, e);
    }
    _mm512_mask_storeu_ps(l + x, k, _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, l + x), a, sum));
    _mm512_mask_storeu_ps(m + x, k, m_new);
    _mm512_mask_storeu_ps(alpha + x, k, a);
  }
#else
  for (int64_t x = 0; x < nv; ++x) {
    float mx = m[x];
    for (int64_t y = 0; y < nk; ++y) mx = st[y * ld + x] > mx ? st[y * ld + x] : mx;
    const float shift = mx == -INFINITY ? 0.0f : mx;
    const float a = exp_nonpos(m[x] - shift);
    float sum = 0.0f;
    for (int64_t y = 0; y < nk; ++y) sum += st[y * ld + x] = exp_nonpos(st[y * ld + x] - shift);
    l[x] = l[x] * a + sum, m[x] = mx, alpha[x] = a;
  }
#endif
}

void forward_tile(const Problem& p, const HeadsT& QT, const HeadsIn& K, const HeadsIn& V,
                  const Gathered& gk, const HeadsOut& O, float* lse, int64_t b, int64_t h,
                  int64_t r, const Scratch& s) {
  const int64_t d = p.d, i0 = r * p.tile_q, rows = std::min(p.tile_q, p.N - i0);
  const int64_t nv = std::clamp<int64_t>(p.len[size_t(b)] - i0, 0, rows);  // valid queries
  float* lse_row = lse + (b * p.H + h) * p.N + i0;
  for (int64_t x = nv; x < rows; ++x) {  // padded queries: no output
    std::memset(O.row(b, h, i0 + x), 0, size_t(d) * sizeof(float));
    lse_row[x] = -INFINITY;
  }
  if (nv == 0) return;
  for (int64_t x = 0; x < nv; ++x) s.m[x] = -INFINITY, s.l[x] = 0.0f;
  std::memset(s.acc, 0, size_t(nv * d) * sizeof(float));

  const BlockLayout& lay = p.layout(b);
  const int64_t g = lay.heads == 1 ? 0 : h, row = g * p.q_tiles + r, ld = p.tile_q;
  const bool drop = p.spec->dropout > 0.0f;
  float* alpha = s.drow;
  for (int64_t e = lay.row_start[row]; e < lay.row_start[row + 1]; ++e) {
    KeyTile kt;
    if (!load_keys(p, K, V, nullptr, nullptr, gk, b, h, lay.col[e], kt)) continue;
    // Sᵀ = scale · K_J Q_Iᵀ (nk, nv), key-major (Note [key-major forward]), masked
    gemm_nn(kt.nk, nv, d, p.spec->scale, kt.k, kt.ld, QT.at(b, h, i0), p.N, 0.0f, s.s, ld);
    mask_scores(p, b, h, i0, nv, kt, lay.mask[e], {s.s, 1, ld});
    softmax_update(s.s, ld, kt.nk, nv, s.m, s.l, alpha);
    for (int64_t x = 0; x < nv; ++x)
      if (alpha[x] != 1.0f)
        for (int64_t c = 0; c < d; ++c) s.acc[x * d + c] *= alpha[x];
    if (drop) {
      dropout_tile(p, b, h, i0, nv, kt, {s.mult, 1, ld});
      for (int64_t y = 0; y < kt.nk; ++y)
        for (int64_t x = 0; x < nv; ++x) s.s[y * ld + x] *= s.mult[y * ld + x];
    }
    // acc += (Pᵀ ∘ Mᵀ)ᵀ V_J
    gemm_tn(nv, d, kt.nk, 1.0f, s.s, ld, kt.v, kt.ldv, 1.0f, s.acc, d);
  }
  for (int64_t x = 0; x < nv; ++x) {
    float* out = O.row(b, h, i0 + x);
    if (s.l[x] > 0.0f) {
      const float inv = 1.0f / s.l[x];
      for (int64_t c = 0; c < d; ++c) out[c] = s.acc[x * d + c] * inv;
      lse_row[x] = s.m[x] + std::log(s.l[x]);
    } else {  // a valid query that sees no key
      std::memset(out, 0, size_t(d) * sizeof(float));
      lse_row[x] = -INFINITY;
    }
  }
}

// ---- backward of one query tile ----------------------------------------------------------

// Where a task adds dK and dV. Direct (tile_row == nullptr): the rows of (b, h) in dk, dv, row
// stride ld. Compact (Note [slots]): key tile t owns rows tile_row[t] .. of a private buffer of
// row stride d, gathered tiles included, so no scatter happens here.
struct KVGradTarget {
  float *dk = nullptr, *dv = nullptr;
  int64_t ld = 0;
  const int64_t* tile_row = nullptr;
};

void backward_tile(const Problem& p, const HeadsIn& Q, const HeadsIn& K, const HeadsIn& V,
                   const HeadsT& KT, const HeadsT& VT, const Gathered& gk, const HeadsIn& O,
                   const HeadsIn& dO, const float* lse, const HeadsOut& dQ, const KVGradTarget& tgt,
                   int64_t b, int64_t h, int64_t r, const Scratch& s) {
  const int64_t d = p.d, i0 = r * p.tile_q, rows = std::min(p.tile_q, p.N - i0);
  const int64_t nv = std::clamp<int64_t>(p.len[size_t(b)] - i0, 0, rows);
  const int64_t len = p.key_len[size_t(b)];
  for (int64_t x = nv; x < rows; ++x)
    std::memset(dQ.row(b, h, i0 + x), 0, size_t(d) * sizeof(float));
  if (nv == 0) return;
  const float* lse_row = lse + (b * p.H + h) * p.N + i0;
  for (int64_t x = 0; x < nv; ++x)  // D_i = rowsum(dO_i ∘ O_i)
    s.drow[x] = kern::row_dot(dO.row(b, h, i0 + x), O.row(b, h, i0 + x), d);
  std::memset(s.acc, 0, size_t(nv * d) * sizeof(float));  // dQ_I

  const BlockLayout& lay = p.layout(b);
  const int64_t g = lay.heads == 1 ? 0 : h, row = g * p.q_tiles + r, ld = s.ldq_major;
  const bool drop = p.spec->dropout > 0.0f;
  const float scale = p.spec->scale;
  const float* q_rows = Q.row(b, h, i0);
  const float* do_rows = dO.row(b, h, i0);
  float *pm = s.s, *dpm = s.t1, *pdm = s.t2;  // (nv, nk) tiles, query-major
  for (int64_t e = lay.row_start[row]; e < lay.row_start[row + 1]; ++e) {
    const int32_t tile = lay.col[e];
    KeyTile kt;
    if (!load_keys(p, K, V, &KT, &VT, gk, b, h, tile, kt)) continue;
    const int64_t nk = kt.nk;
    // P = exp(scale · Q_I K_Jᵀ − LSE_I), masked entries 0
    gemm_nn(nv, nk, d, scale, q_rows, Q.sn, kt.kt, kt.ldt, 0.0f, pm, ld);
    mask_scores(p, b, h, i0, nv, kt, lay.mask[e], {pm, ld, 1});
    for (int64_t x = 0; x < nv; ++x) {
      float* pr = pm + x * ld;
      if (lse_row[x] == -INFINITY) {  // a row without weight
        std::memset(pr, 0, size_t(nk) * sizeof(float));
        continue;
      }
      exp_shift(pr, nk, lse_row[x]);
    }
    const float* pd = pm;  // the weights as applied: P, or P ∘ M with dropout
    if (drop) {
      dropout_tile(p, b, h, i0, nv, kt, {s.mult, ld, 1});
      for (int64_t x = 0; x < nv; ++x)
        for (int64_t y = 0; y < nk; ++y) pdm[x * ld + y] = pm[x * ld + y] * s.mult[x * ld + y];
      pd = pdm;
    }
    // Targets: the compact rows of tile J / the rows of dk, dv / a tile buffer to scatter.
    const bool scatter = kt.gathered && !tgt.tile_row;
    const int64_t first = tgt.tile_row ? tgt.tile_row[tile] : kt.pos[0];
    LRA_ASSERT(first >= 0);
    float* dvt = scatter ? s.dvt : tgt.dv + first * tgt.ld;
    float* dkt = scatter ? s.dkt : tgt.dk + first * tgt.ld;
    const int64_t ldt = scatter ? d : tgt.ld;
    const float beta = scatter ? 0.0f : 1.0f;
    // dV_J += (P ∘ M)ᵀ dO_I
    gemm_tn(nk, d, nv, 1.0f, pd, ld, do_rows, dO.sn, beta, dvt, ldt);
    // dP = (dO_I V_Jᵀ) ∘ M;  dS = P ∘ (dP − D)
    gemm_nn(nv, nk, d, 1.0f, do_rows, dO.sn, kt.vt, kt.ldt, 0.0f, dpm, ld);
    for (int64_t x = 0; x < nv; ++x) {
      float* dr = dpm + x * ld;
      const float* pr = pm + x * ld;
      const float dx = s.drow[x];
      if (drop) {
        const float* mr = s.mult + x * ld;
        for (int64_t y = 0; y < nk; ++y) dr[y] = pr[y] * (dr[y] * mr[y] - dx);
      } else {
        for (int64_t y = 0; y < nk; ++y) dr[y] = pr[y] * (dr[y] - dx);
      }
    }
    // dQ_I += scale · dS K_J;  dK_J += scale · dSᵀ Q_I
    gemm_nn(nv, d, nk, scale, dpm, ld, kt.k, kt.ld, 1.0f, s.acc, d);
    gemm_tn(nk, d, nv, scale, dpm, ld, q_rows, Q.sn, beta, dkt, ldt);
    if (scatter) {  // add the tile's rows at their positions
      for (int64_t c = 0; c < nk; ++c) {
        if (kt.pos[c] >= len) continue;
        float* dk_row = tgt.dk + kt.pos[c] * tgt.ld;
        float* dv_row = tgt.dv + kt.pos[c] * tgt.ld;
        for (int64_t z = 0; z < d; ++z)
          dk_row[z] += s.dkt[c * d + z], dv_row[z] += s.dvt[c * d + z];
      }
    }
  }
  for (int64_t x = 0; x < nv; ++x)
    std::memcpy(dQ.row(b, h, i0 + x), s.acc + x * d, size_t(d) * sizeof(float));
}

}  // namespace

// ---- lengths ------------------------------------------------------------------------------

std::vector<int32_t> checked_lengths(const Tensor& lengths, int64_t B, int64_t N) {
  if (!lengths.defined()) return std::vector<int32_t>(size_t(B), int32_t(N));
  LRA_CHECK(lengths.dtype() == DType::I32 && lengths.dim() == 1 && lengths.numel() == B, ShapeError,
            "block-sparse attention: lengths must be i32 (", B, "), got ", lengths.describe());
  std::vector<int32_t> len = lengths.to_ints();
  for (size_t b = 0; b < len.size(); ++b)
    LRA_CHECK(len[b] >= 0 && len[b] <= N, DataError, "block-sparse attention: lengths[", b,
              "] = ", len[b], " is outside [0, ", N, "]");
  return len;
}

// ---- kernels -----------------------------------------------------------------------------

ForwardResult forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& lengths,
                      const Spec& spec) {
  HeadsIn Q = heads_in(q, "q"), K = heads_in(k, "k"), V = heads_in(v, "v");
  const Problem p = make_problem(q, k, v, lengths, spec);
  const HeadsT QT = transposed(Q, p.B, p.H, p.N, p.d);  // Note [key-major forward]
  const Gathered gk = gather_keys(p, K, V, false);
  HeadsOut O = heads_out(p.B, p.H, p.N, p.d, false);
  Tensor lse = Tensor::empty({p.B, p.H, p.N});
  float* lse_p = lse.data<float>();
  const int64_t tasks = p.B * p.H * p.q_tiles;
  parallel_for(tasks, 1, [&](int64_t t0, int64_t t1) {
    Scratch s(p);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t r = t % p.q_tiles, h = (t / p.q_tiles) % p.H, b = t / (p.q_tiles * p.H);
      forward_tile(p, QT, K, V, gk, O, lse_p, b, h, r, s);
    }
  });
  return {O.t, lse};
}

Gradients backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o,
                   const Tensor& lse, const Tensor& d_o, const Tensor& lengths, const Spec& spec) {
  HeadsIn Q = heads_in(q, "q"), K = heads_in(k, "k"), V = heads_in(v, "v");
  const Problem p = make_problem(q, k, v, lengths, spec);
  HeadsIn O = heads_in(o, "o"), dO = heads_in(d_o, "the output gradient");
  LRA_CHECK(o.shape() == q.shape() && d_o.shape() == q.shape(), ShapeError,
            "block-sparse attention backward: o and dO must have q's shape ", q.shape().str());
  const Tensor lse_c = lse.contiguous();
  const float* lse_p = lse_c.data<float>();
  const HeadsT KT = transposed(K, p.B, p.H, p.Nk, p.d), VT = transposed(V, p.B, p.H, p.Nk, p.d);
  const Gathered gk = gather_keys(p, K, V, true);

  HeadsOut dQ = heads_out(p.B, p.H, p.N, p.d, false);
  HeadsOut dK = heads_out(p.B, p.H, p.Nk, p.d, true);
  HeadsOut dV = heads_out(p.B, p.H, p.Nk, p.d, true);
  const int64_t bh = p.B * p.H;
  const int64_t slots = std::clamp<int64_t>((kMinTasks + bh - 1) / bh, 1, p.q_tiles);

  // Compact partial sums (Note [slots]): for each task (b, h, slot), the key tiles its query
  // tiles visit, each given rows in the task's buffer; tiles a task never visits cost nothing.
  std::vector<std::vector<int64_t>> tile_row;  // per plan: key tile -> first row, or -1
  std::vector<int64_t> plan_rows;              // per plan: rows of its buffer
  std::vector<int64_t> plan_of_task, offset_of_task;
  Tensor part;  // the buffers of every task: (2, rows, d) each, dK then dV
  if (slots > 1) {
    std::map<std::tuple<const BlockLayout*, int64_t, int64_t>, int64_t> plans;
    int64_t total = 0;
    for (int64_t t = 0; t < bh * slots; ++t) {
      const int64_t slot = t % slots, h = (t / slots) % p.H, b = t / (slots * p.H);
      const BlockLayout& lay = p.layout(b);
      const int64_t g = lay.heads == 1 ? 0 : h;
      auto [it, fresh] = plans.try_emplace({&lay, g, slot}, int64_t(tile_row.size()));
      if (fresh) {
        std::vector<int64_t> rows_of(size_t(lay.key_tiles()), -1);
        int64_t rows = 0;
        const int64_t r0 = slot * p.q_tiles / slots, r1 = (slot + 1) * p.q_tiles / slots;
        for (int64_t e = lay.row_start[g * p.q_tiles + r0]; e < lay.row_start[g * p.q_tiles + r1];
             ++e) {
          const int32_t kt = lay.col[e];
          if (rows_of[size_t(kt)] >= 0) continue;
          rows_of[size_t(kt)] = rows;
          rows += lay.key_start[kt + 1] - lay.key_start[kt];
        }
        tile_row.push_back(std::move(rows_of));
        plan_rows.push_back(rows);
      }
      plan_of_task.push_back(it->second);
      offset_of_task.push_back(total);
      total += plan_rows[size_t(it->second)] * 2 * p.d;
    }
    part = Tensor::zeros({std::max<int64_t>(total, 1)});
  }

  parallel_for(bh * slots, 1, [&](int64_t t0, int64_t t1) {
    Scratch s(p);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t slot = t % slots, h = (t / slots) % p.H, b = t / (slots * p.H);
      KVGradTarget tgt;
      if (slots == 1) {
        tgt = {dK.row(b, h, 0), dV.row(b, h, 0), dK.sn, nullptr};
      } else {
        const int64_t plan = plan_of_task[size_t(t)];
        const std::vector<int64_t>& rows_of = tile_row[size_t(plan)];
        const int64_t rows = plan_rows[size_t(plan)];
        float* base = part.data<float>() + offset_of_task[size_t(t)];
        tgt = {base, base + rows * p.d, p.d, rows_of.data()};
      }
      const int64_t r0 = slot * p.q_tiles / slots, r1 = (slot + 1) * p.q_tiles / slots;
      for (int64_t r = r0; r < r1; ++r)
        backward_tile(p, Q, K, V, KT, VT, gk, O, dO, lse_p, dQ, tgt, b, h, r, s);
    }
  });
  if (slots > 1) {  // dK, dV = the partial sums, added in (slot, key tile) order per (b, h)
    const float* pp = part.data<float>();
    parallel_for(bh, 1, [&](int64_t x0, int64_t x1) {
      for (int64_t x = x0; x < x1; ++x) {
        const int64_t h = x % p.H, b = x / p.H;
        const BlockLayout& lay = p.layout(b);
        const int64_t len = p.key_len[size_t(b)];
        for (int64_t slot = 0; slot < slots; ++slot) {
          const int64_t t = x * slots + slot;
          const int64_t plan = plan_of_task[size_t(t)];
          const std::vector<int64_t>& rows_of = tile_row[size_t(plan)];
          const int64_t rows = plan_rows[size_t(plan)];
          const float* dk_part = pp + offset_of_task[size_t(t)];
          const float* dv_part = dk_part + rows * p.d;
          for (size_t kt = 0; kt < rows_of.size(); ++kt) {
            if (rows_of[kt] < 0) continue;
            for (int64_t c = lay.key_start[kt]; c < lay.key_start[kt + 1]; ++c) {
              const int64_t j = lay.key_pos[size_t(c)];
              if (j >= len) continue;
              const int64_t src = (rows_of[kt] + c - lay.key_start[kt]) * p.d;
              float* dk = dK.row(b, h, j);
              float* dv = dV.row(b, h, j);
              for (int64_t z = 0; z < p.d; ++z)
                dk[z] += dk_part[src + z], dv[z] += dv_part[src + z];
            }
          }
        }
      }
    });
  }
  return {dQ.t, dK.t, dV.t};
}

Var attention(const Var& q, const Var& k, const Var& v, const Tensor& lengths, const Spec& spec) {
  ForwardResult f = forward(q.data(), k.data(), v.data(), lengths, spec);
  // Saved for backward: the inputs, the output and LSE (O(N·d)); the spec's layouts are shared,
  // immutable index lists.
  auto saved_spec = std::make_shared<const Spec>(spec);
  return make_result(f.o, "block_sparse_attention", {q, k, v},
                     [qd = q.data(), kd = k.data(), vd = v.data(), o = f.o, lse = f.lse, lengths,
                      saved_spec](const Tensor& g, InputGrads& in) {
                       Gradients gr = backward(qd, kd, vd, o, lse, g, lengths, *saved_spec);
                       if (in.needs(0)) in.set(0, gr.dq);
                       if (in.needs(1)) in.set(1, gr.dk);
                       if (in.needs(2)) in.set(2, gr.dv);
                     });
}

Spec layer_spec(std::vector<std::shared_ptr<const BlockLayout>> layouts, float scale, float rate,
                const nn::ForwardContext& ctx, const std::string& dropout_path) {
  Spec spec;
  spec.layouts = std::move(layouts);
  spec.scale = scale;
  spec.dropout = ctx.training ? rate : 0.0f;
  spec.dropout_key = ctx.key(dropout_path);
  spec.row0 = ctx.row0;
  return spec;
}

// ---- choosing this kernel ----------------------------------------------------------------

const ParamSpec kKernel{
    "kernel", "flash",
    "flash (tiled online softmax, weights not stored) or plain (matmul + softmax)"};
const ParamSpec kTile{"tile", "64", "rows per query/key tile of the flash kernel"};

KernelChoice kernel_choice(const MechanismOptions& o, const char* mechanism) {
  const std::string kernel = o.get_string(kKernel);
  LRA_CHECK(kernel == "flash" || kernel == "plain", ConfigError, mechanism, ": kernel=", kernel,
            " is not one of flash, plain");
  KernelChoice c;
  c.flash = kernel == "flash";
  c.tile = o.get_int(kTile);
  LRA_CHECK(c.tile >= 1 && c.tile <= 1024, ConfigError, mechanism, ": tile=", c.tile,
            " must be in [1, 1024]");
  return c;
}

}  // namespace lra::attn::bsa
