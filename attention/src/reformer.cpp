// Reformer: LSH attention (Kitaev, Kaiser & Levskaya 2020, "Reformer: The Efficient Transformer").
//
// Idea: softmax weights are dominated by the few keys most similar to the query. Hash every
// vector so that similar vectors tend to share a bucket, sort by bucket, cut the sorted sequence
// into chunks, and let each query attend only inside its chunk and the chunk before it.
//
// Per head (q, v: (B, H, N, d); the key projection is not used: shared-QK):
//   k̂_j   = q_j / ‖q_j‖                                  keys are the normalised queries  (N, d)
//   for each hash round r = 1 .. n_h (a fresh random rotation R_r per forward pass):
//     R_r    ~ N(0, 1)                                    (d, n_b/2), keyed (seed, step, layer, r)
//     h_r(i) = argmax([q_i R_r ; −q_i R_r])  ∈ [0, n_b)   angular LSH (padded i: bucket n_b)
//     σ_r    = stable sort of positions by (h_r(i), i)   N → N' = n_chunks·c slots
//     chunk  = c consecutive sorted slots; chunk k sees chunks {k, k−1}   (2c keys)
//     S_ij   = q_i·k̂_j /√d      for j in i's window        (c, 2c) per chunk
//              −5e4 if j = i (a token does not attend to itself unless nothing else is visible)
//              −1e9 if j is padding (weight exactly 0)
//              − log(#rounds whose window also holds j for i)   (dedup: attend to the union once)
//     O_r(i) = Σ_j softmax_j(S_ij) v_j,   lse_r(i) = log Σ_j exp S_ij
//   O(i) = Σ_r exp(lse_r(i) − logsumexp_r lse_r(i)) · O_r(i)      softmax over rounds
// With dedup the rounds combine to exactly softmax over the union of the rounds' windows, which
// is what the dense face materialises (B, H, N, N); with n_buckets = 1 it is full shared-QK
// attention.
//
// Fast path: one fused op (lsh_attention below). Hashing, sort and chunk layout carry no
// gradient (integer tensors in an LshPlan, computed once per forward and reused by backward).
// Forward per (round, head, chunk): gather c queries and the window's keys/values by sorted
// position, two GEMMs (c×d·d×2c, c×2c·2c×d), masked row softmax, scatter the c output rows to
// their original positions (each position is in exactly one chunk per round, so no conflicts).
// Backward recomputes S and P from q and the saved lse (as FlashAttention does): nothing of size
// N·c is kept between forward and backward. dS = P∘(dP − D), D_i = w_r(i)·(dO_i·O_i) (this
// already includes the gradient through lse and the round weights); key/value gradients of the
// own chunk and of the looked-back chunk go to two sorted-order buffers, then are un-sorted
// (the inverse permutation: no scatter conflicts) and pushed through the normalisation
// k̂ = q/‖q‖: dq += (dk̂ − k̂(k̂·dk̂))/‖q‖. Attention dropout (training) multiplies P by a mask
// drawn from a counter stream indexed by (round, head, slot, key), regenerated in backward.
//
// Cost: time O(n_h·N·c·d) for attention + O(n_h·N·d·n_b) hashing + O(n_h·N log N) sort; memory
// O(n_h·N·d) kept for backward (per-round outputs when n_h > 1, lse, k̂) — independent of c.
// The chunk size decides the sub-quadratic claim: with the LRA default n_buckets = 10 the chunk
// is L/10 and the work is still ∝ N²/5; give bucket_size (the paper's 64) for O(N·c·d). (Then
// n_b = N/c grows with N and hashing, N·d·n_b/2 per round, is N²d/(2c): below the attention's
// 4N·c·d while N < 8c², i.e. N < 32K for c = 64.)
//
// Hyper-parameters (overridable: --attn n_hashes=4,bucket_size=64):
//   n_hashes    = 1   LRA (paper: 2-8; more rounds lower the chance a neighbour is missed)
//   n_buckets   = 10  LRA; chunk c = ceil(L / n_buckets), sequence padded to a multiple of c
//   bucket_size = 0   > 0: c = bucket_size and n_buckets = ceil(L / c) rounded up to even
// L is the configured max_len (the model's length), not the batch's N: n_b and c are fixed
// hyper-parameters of the model in the paper (n_b = L / c for the training length L) and in LRA
// (every batch is padded to max_len, so its chunk is max_len / n_buckets). Since the valid tokens
// sort before the padding and the rotations do not depend on N, a sequence gets the same
// buckets, chunks and outputs alone at its own length or padded in a longer batch
// (tests/attention/test_batch_invariance.cpp). A batch longer than L just has more chunks.
//   self_mask   = true  own position at −5e4 (paper, trax); false: scored as any key (LRA's code)
//   logit_scale = 0     multiplier of q·k̂, 0: 1/√d (paper, trax); LRA's code: √d (5.66 at d 32)
//   wrap        = true  chunk 0 looks back to the last chunk holding valid tokens (trax, LRA);
//                 false: the paper's text, chunk 0 sees only itself
//   dedup       = true  a key found by several rounds counts once (the union P_i = ∪_r P_i^r of
//                 the paper); false: it counts once per round
//
// Padding (docs/mechanisms.md section 2): padded positions are hashed to an extra bucket n_b that
// sorts last, so the sorted order and chunks of the valid tokens never depend on padded inputs;
// padded keys get −1e9 by their original position (carried through the sort); chunks with no
// valid token look back nowhere; wrap goes to the last chunk holding a valid token. A padded
// query whose window holds no valid key spreads its weight uniformly over the padded keys it
// sees (logit 0, not −1e9: −1e9 + log 2 rounds to −1e9 in f32 and would spoil its lse).
// Key mask (mask_zero_tokens): a hidden key is treated as padding inside the windows (−1e9: no
// weight in the in-chunk softmax), but its token is still hashed and sorted as a query (its own
// output attends to the visible keys it meets), so hidden tokens do shape the chunk boundaries,
// as any token does. A valid query with no visible key in a round's window gets lse −inf there
// (that round carries no weight), and output 0 when no round shows it a visible key.
//
// Where the released LRA code differs (quirks, documented and not copied;
// models/reformer/reformer_attention.py, docs/mechanisms.md section 10): the rotations come from a
// fixed PRNGKey(0), so the hash never changes across steps, layers or heads (here: fresh per
// forward, keyed per step, layer and round); keys are not normalised; no self-mask and no padding
// mask (pads are sorted among valid tokens and get weight); logits are multiplied by √d instead of
// divided; qkv width forced to the model width; no output projection; chunks are cut from the
// concatenation of all rounds (n_h·n_b chunks, as in trax), so with n_h > 1 chunk 0 of round r
// would look back into round r−1 (here rounds are separate and the look-back wraps within a
// round). The shared W_k of MultiHeadAttention is built but unused here (shared-QK): it never
// receives a gradient.
//
// Reversible layers (the paper's section 3) are a model option for any mechanism, not part of
// this mixer: `--reversible true` (settings key `reversible`, nn/reversible.hpp) runs the
// encoder as RevNet couplings y1 = x1 + Attn(LN(x2)), y2 = x2 + FF(LN(y1)) and recomputes each
// layer's inputs in backward (x2 = y2 − FF(LN(y1)), x1 = y1 − Attn(LN(x2))), so activation
// memory stops growing with depth, at the cost of one extra forward of every layer in backward.
// The LSH rotations and dropout masks are keyed by (ctx, layer, path): the recomputation hashes
// exactly as the forward did. Off by default and in every preset, as in LRA (whose Reformer has
// no reversible layers). The chunked feed-forward is not implemented.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "key_mask.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/error.hpp"
#include "lra/core/fast_exp.hpp"
#include "lra/core/kernels.hpp"
#include "lra/core/rng.hpp"
#include "lra/core/threading.hpp"
#include "mechanisms.hpp"

namespace lra::attn {
namespace {

constexpr float kPadLogit = -1e9f;   // padded key: exp underflows to exactly 0
constexpr float kSelfLogit = -5e4f;  // own position: ~0 weight unless no other key is visible
constexpr float kNormEps = 1e-6f;    // ‖q‖ floor in k̂ = q / max(‖q‖, eps)

const ParamSpec kHashes{"n_hashes", "1", "hash rounds n_h (LRA 1; paper 2-8)"};
const ParamSpec kBuckets{
    "n_buckets", "10", "buckets per round (LRA 10; 1 or even); chunk = ceil(max_len / n_buckets)"};
const ParamSpec kBucketSize{
    "bucket_size", "0", "if > 0: chunk size c (paper 64), n_buckets = max_len / c rounded to even"};
const ParamSpec kWrap{"wrap", "true",
                      "chunk 0 also looks back to the last valid chunk (trax/LRA); false: not"};
const ParamSpec kDedup{"dedup", "true",
                       "a key found by several rounds counts once (union); false: per round"};
const ParamSpec kSelfMask{"self_mask", "true",
                          "a token attends to itself only when nothing else is visible (paper); "
                          "false: as any key (the LRA code)"};
const ParamSpec kLogitScale{"logit_scale", "0",
                            "multiplier of q·k̂ (0: 1/√d, the paper's; the LRA code uses √d)"};

struct LshConfig {
  int64_t n_hashes = 1, n_buckets = 10, bucket_size = 0;
  int64_t max_len = 1;  // the configured length L (MechanismOptions::max_len) chunks derive from
  bool wrap = true, dedup = true, self_mask = true;
  float logit_scale = 0.0f;  // 0: 1/√d
};

// The multiplier of q·k̂: 1/√d unless logit_scale gives one (the LRA code: √d, docs/mechanisms.md
// section 10).
float logit_scale(const LshConfig& cfg, int64_t d) {
  return cfg.logit_scale > 0.0f ? cfg.logit_scale : 1.0f / std::sqrt(float(d));
}

// Everything the hash decided in one forward pass: integers only, no gradient. Shared by the
// fast path (forward and backward) and the dense face.
struct LshPlan {
  int64_t batch = 0, heads = 0, n = 0;
  int64_t rounds = 1, buckets = 1, chunk = 1, chunks = 1, padded = 0;  // padded = chunks·chunk
  bool wrap = true, dedup = true, self_mask = true;
  std::vector<int32_t> len;          // (B) valid positions [0, len)
  std::vector<int32_t> live_chunks;  // (B) chunks that hold a valid position: ceil(len / chunk)
  std::vector<uint8_t> visible;      // (B, N) key mask (0 = hidden key); empty: none hidden
  std::vector<float> log_count;      // log(max(1, 0 .. rounds)): log_count[k] = log k, [0] = 0
  Tensor perm;  // i32 (rounds, B·H, padded): original position in each sorted slot (>= n: filler)
  Tensor slot;  // i32 (rounds, B·H, n): sorted slot of each original position

  int64_t bh_count() const { return batch * heads; }
  // May queries see key position j of batch entry b (valid and not hidden)?
  bool key_ok(int64_t b, int64_t j) const {
    return j < len[size_t(b)] && (visible.empty() || visible[size_t(b * n + j)] != 0);
  }
  const int32_t* perm_row(int64_t r, int64_t bh) const {
    return perm.data<int32_t>() + (r * bh_count() + bh) * padded;
  }
  const int32_t* slot_row(int64_t r, int64_t bh) const {
    return slot.data<int32_t>() + (r * bh_count() + bh) * n;
  }
  // The chunk that chunk ch of sequence b looks back at, or -1 (its own chunk only).
  int64_t prev_chunk(int64_t b, int64_t ch) const {
    const int64_t live = live_chunks[size_t(b)];
    if (ch >= live) return -1;  // padding-only chunk: its (padded) queries see only padding
    if (ch > 0) return ch - 1;
    return (wrap && live > 1) ? live - 1 : -1;
  }
  // Number of rounds whose window shows key position j to query position i (both < n).
  int count_rounds(int64_t bh, int64_t i, int64_t j) const {
    const int64_t b = bh / heads;
    int count = 0;
    for (int64_t r = 0; r < rounds; ++r) {
      const int32_t* s = slot_row(r, bh);
      const int64_t cq = s[i] / chunk, ck = s[j] / chunk;
      count += (ck == cq || ck == prev_chunk(b, cq)) ? 1 : 0;
    }
    return count;
  }
};

// Hash q (B, H, N, d) n_h times and sort: the plan of one forward pass. `key` seeds the rounds.
std::shared_ptr<LshPlan> make_plan(const LshConfig& cfg, const Tensor& q, const Tensor& lengths,
                                   uint64_t key, const Tensor& key_mask) {
  LRA_CHECK(q.dim() == 4, ShapeError, "reformer: q must be (B, H, N, d), got ", q.describe());
  auto p = std::make_shared<LshPlan>();
  p->batch = q.size(0), p->heads = q.size(1), p->n = q.size(2);
  const int64_t d = q.size(3), n = p->n, bh_count = p->batch * p->heads;
  p->rounds = cfg.n_hashes, p->wrap = cfg.wrap, p->dedup = cfg.dedup;
  p->self_mask = cfg.self_mask;
  // Buckets and chunk size come from the configured length, never from this batch's N: a
  // sequence then hashes and chunks the same whatever it is batched (and padded) with.
  const int64_t max_len = cfg.max_len;
  if (cfg.bucket_size > 0) {
    p->chunk = cfg.bucket_size;
    p->buckets = std::max<int64_t>(1, (max_len + p->chunk - 1) / p->chunk);
    if (p->buckets > 1) p->buckets += p->buckets % 2;
  } else {
    p->buckets = cfg.n_buckets;
    p->chunk = std::max<int64_t>(1, (max_len + p->buckets - 1) / p->buckets);
  }
  p->chunks = std::max<int64_t>(1, (n + p->chunk - 1) / p->chunk);
  p->padded = p->chunks * p->chunk;
  LRA_CHECK(p->buckets * p->padded < INT32_MAX, ShapeError, "reformer: N = ", n, " too long");

  LRA_CHECK(lengths.dtype() == DType::I32 && lengths.dim() == 1 && lengths.size(0) == p->batch,
            ShapeError, "reformer: lengths must be i32 (B = ", p->batch, "), got ",
            lengths.describe());
  for (int32_t l : lengths.to_ints()) {
    const int32_t len = std::clamp<int32_t>(l, 0, int32_t(n));
    p->len.push_back(len);
    p->live_chunks.push_back(int32_t((len + p->chunk - 1) / p->chunk));
  }
  if (key_mask.defined())
    p->visible.assign(key_mask.data<int32_t>(), key_mask.data<int32_t>() + p->batch * n);
  for (int64_t c = 0; c <= p->rounds; ++c)
    p->log_count.push_back(std::log(float(std::max<int64_t>(c, 1))));

  // Sort keys: bucket · padded + position; padded and filler positions go to bucket n_b.
  Tensor keys = Tensor::empty({p->rounds, bh_count, p->padded}, DType::I32);
  const int64_t half = p->buckets / 2;
  for (int64_t r = 0; r < p->rounds; ++r) {
    Tensor rot;  // (B, H, N, n_b/2) projections on the random rotation
    if (p->buckets > 1) {
      Tensor rotation = Tensor::empty({p->heads, d, half});
      fill_normal(rotation, rng_key(key, {uint64_t(r)}), 0.0f, 1.0f);
      rot = kern::matmul(q, rotation.unsqueeze(0));
    }
    const float* pr = p->buckets > 1 ? rot.data<float>() : nullptr;
    int32_t* pk = keys.data<int32_t>() + r * bh_count * p->padded;
    parallel_for(bh_count, 1, [&](int64_t bh0, int64_t bh1) {
      for (int64_t bh = bh0; bh < bh1; ++bh) {
        const int64_t len = p->len[size_t(bh / p->heads)];
        for (int64_t i = 0; i < p->padded; ++i) {
          int64_t bucket = p->buckets;  // padding and filler sort last
          if (i < len) {
            bucket = 0;
            if (pr) {  // argmax over [x R ; −x R], the first maximum
              const float* x = pr + (bh * n + i) * half;
              float best = x[0];
              for (int64_t j = 1; j < half; ++j)
                if (x[j] > best) best = x[j], bucket = j;
              for (int64_t j = 0; j < half; ++j)
                if (-x[j] > best) best = -x[j], bucket = half + j;
            }
          }
          pk[bh * p->padded + i] = int32_t(bucket * p->padded + i);
        }
      }
    });
  }
  p->perm = kern::argsort(keys);  // stable; (bucket, position) order
  p->slot = Tensor::empty({p->rounds, bh_count, n}, DType::I32);
  for (int64_t r = 0; r < p->rounds; ++r)
    for (int64_t bh = 0; bh < bh_count; ++bh) {
      const int32_t* pm = p->perm_row(r, bh);
      int32_t* ps = p->slot.data<int32_t>() + (r * bh_count + bh) * n;
      for (int64_t s = 0; s < p->padded; ++s)
        if (pm[s] < n) ps[pm[s]] = int32_t(s);
    }
  return p;
}

// Row access to a (B, H, N, d) tensor with unit last stride (views from split_heads qualify).
struct Rows {
  const float* base = nullptr;
  int64_t heads = 1, sb = 0, sh = 0, si = 0;
  explicit Rows(const Tensor& t)
      : base(t.data<float>()),
        heads(t.size(1)),
        sb(t.stride(0)),
        sh(t.stride(1)),
        si(t.stride(2)) {}
  const float* row(int64_t bh, int64_t i) const {
    return base + (bh / heads) * sb + (bh % heads) * sh + i * si;
  }
};

Tensor unit_last_stride(const Tensor& t) {
  return t.stride(3) == 1 ? t : t.contiguous();
}

// dst row t = src row pos[t] of head bh (zero rows for filler positions >= n).
void gather(float* dst, const Rows& src, int64_t bh, const int32_t* pos, int64_t count, int64_t n,
            int64_t d) {
  for (int64_t t = 0; t < count; ++t) {
    if (pos[t] < n)
      std::memcpy(dst + t * d, src.row(bh, pos[t]), size_t(d) * sizeof(float));
    else
      std::memset(dst + t * d, 0, size_t(d) * sizeof(float));
  }
}

// What lsh_forward leaves for lsh_backward (tensors and plain values only).
struct LshSaved {
  std::shared_ptr<const LshPlan> plan;
  Tensor q, v;       // (B, H, N, d) inputs, unit last stride
  Tensor khat;       // (B·H, N, d) normalised q
  Tensor rnorm;      // (B·H, N) 1 / max(‖q‖, eps)
  Tensor out;        // (B, H, N, d) combined output
  Tensor out_round;  // (n_h, B·H, N, d) per-round outputs (the output itself when n_h = 1)
  Tensor lse;        // (n_h, B·H, N) per-round log-normalisers
  float scale = 1.0f, drop = 0.0f;
  uint64_t drop_key = 0;
};

// Note [chunk scratch]: a round has B·H·chunks chunk jobs of small tiles (c x w, c = 32..64);
// each thread keeps its jobs' buffers here and reuses them, and a job's products are
// single-threaded kern::sgemm calls (no tensor per tile through the allocator's lock, no nested
// parallel_for: a job never waits, so no other job can run on its thread mid-way and reuse
// these buffers). kern::sgemm sums each element as kern::matmul does: the same results.
struct ChunkScratch {
  std::vector<float> qc, kw, vw, s, keep, pd, go, dr, gs, o, gvw, gqc, gkw;
  std::vector<int32_t> kpos, kch, qch, qprev, count;
  std::vector<uint8_t> fixed, key_ok, empty;
};

ChunkScratch& chunk_scratch() {
  thread_local ChunkScratch scratch;
  return scratch;
}

template <typename T>
T* grab(std::vector<T>& buffer, int64_t count) {
  if (buffer.size() < size_t(count)) buffer.resize(size_t(count));
  return buffer.data();
}

// One chunk of one round: the query slots, the window's positions and the masked logits, in
// the calling thread's scratch (Note [chunk scratch]).
struct ChunkJob {
  const LshSaved& st;
  ChunkScratch& sc = chunk_scratch();
  int64_t r, bh, ch;
  int64_t c = 0, w = 0, prev = -1, d = 0;
  const int32_t* qpos = nullptr;  // (c) original positions of the chunk's queries
  int32_t* kpos = nullptr;        // (w) own chunk then the looked-back chunk
  uint8_t* fixed = nullptr;       // (c, w) 1 where S is a constant (padding, self): no gradient
  uint8_t* key_ok = nullptr;      // (w) the window's key is valid and not hidden
  uint8_t* empty = nullptr;       // (c) 1: a valid query whose window has no visible key (output 0)
  float *qc = nullptr, *kw = nullptr, *vw = nullptr,
        *s = nullptr;  // (c, d), (w, d), (w, d), (c, w)

  ChunkJob(const LshSaved& saved, int64_t round, int64_t bhi, int64_t chunk_id)
      : st(saved), r(round), bh(bhi), ch(chunk_id) {
    const LshPlan& p = *st.plan;
    c = p.chunk, d = st.q.size(3);
    prev = p.prev_chunk(bh / p.heads, ch);
    w = prev >= 0 ? 2 * c : c;
    const int32_t* pm = p.perm_row(r, bh);
    qpos = pm + ch * c;
    kpos = grab(sc.kpos, w);
    std::copy(qpos, qpos + c, kpos);
    if (prev >= 0) std::copy(pm + prev * c, pm + prev * c + c, kpos + c);
  }

  // Gathers Qc, Kw, Vw and computes S = scale·Qc Kwᵀ with the masking rules applied.
  void logits() {
    const LshPlan& p = *st.plan;
    const int64_t n = p.n, b = bh / p.heads, len = p.len[size_t(b)];
    qc = grab(sc.qc, c * d), kw = grab(sc.kw, w * d), vw = grab(sc.vw, w * d);
    s = grab(sc.s, c * w);
    gather(qc, Rows(st.q), bh, qpos, c, n, d);
    gather(kw, Rows(st.khat.unsqueeze(0)), bh, kpos, w, n, d);
    gather(vw, Rows(st.v), bh, kpos, w, n, d);
    kern::sgemm(false, true, c, w, d, st.scale, qc, d, kw, d, 0.0f, s, w);  // S = scale·Qc Kwᵀ
    fixed = grab(sc.fixed, c * w);
    std::fill(fixed, fixed + c * w, uint8_t(0));
    // A window without any valid key (padded queries only) spreads its weight uniformly over
    // its padded keys: logit 0 rather than -1e9, so that lse = log(count) keeps its precision
    // (-1e9 + log 2 rounds back to -1e9 in f32). Filler slots (>= n) always get -1e9.
    // Keys a key mask hides count as padding; a valid query whose window then holds no visible
    // key (possible only with a key mask) marks its row empty: output 0, lse −inf.
    bool any_valid = false;
    key_ok = grab(sc.key_ok, w);
    for (int64_t t = 0; t < w; ++t) {
      key_ok[size_t(t)] = p.key_ok(b, kpos[size_t(t)]);
      any_valid = any_valid || key_ok[size_t(t)];
    }
    empty = grab(sc.empty, c);
    float* ps = s;
    for (int64_t i = 0; i < c; ++i) {
      const int32_t qp = qpos[i];
      empty[size_t(i)] = !any_valid && qp < len;
      for (int64_t t = 0; t < w; ++t) {
        const int32_t kp = kpos[size_t(t)];
        float& x = ps[i * w + t];
        const bool ok = key_ok[size_t(t)];
        if (kp >= n || (!ok && (any_valid || empty[size_t(i)])))
          x = kPadLogit, fixed[size_t(i * w + t)] = 1;
        else if (!ok)
          x = 0.0f, fixed[size_t(i * w + t)] = 1;
        else if (kp == qp && p.self_mask)
          x = kSelfLogit, fixed[size_t(i * w + t)] = 1;
      }
    }
    if (p.dedup && p.rounds > 1) subtract_log_counts();
  }

  // Dedup: S_it −= log(number of rounds whose window also shows key t to query i), so that the
  // rounds combine to one softmax over the union. Per round: each key's chunk, and each
  // query's chunk and look-back chunk (the own round counts too: always a match).
  void subtract_log_counts() {
    const LshPlan& p = *st.plan;
    const int64_t n = p.n, rounds = p.rounds;
    int32_t* kch = grab(sc.kch, rounds * w);
    int32_t* qch = grab(sc.qch, rounds * c);
    int32_t* qprev = grab(sc.qprev, rounds * c);
    for (int64_t r2 = 0; r2 < rounds; ++r2) {
      const int32_t* sl = p.slot_row(r2, bh);
      for (int64_t t = 0; t < w; ++t) {
        const int32_t kp = kpos[size_t(t)];
        kch[size_t(r2 * w + t)] = kp < n ? int32_t(sl[kp] / p.chunk) : -2;
      }
      for (int64_t i = 0; i < c; ++i) {
        const int32_t qp = qpos[i];
        const int64_t cq = qp < n ? sl[qp] / p.chunk : -3;
        qch[size_t(r2 * c + i)] = int32_t(cq);
        const int64_t prev = qp < n ? p.prev_chunk(bh / p.heads, cq) : -1;
        qprev[size_t(r2 * c + i)] = prev >= 0 ? int32_t(prev) : -3;
      }
    }
    // Counted for every entry (vectorisable): a −1e9 entry minus log k stays −1e9, and a
    // filler key or query matches nothing (count 0, log_count[0] = 0).
    float* ps = s;
    int32_t* count = grab(sc.count, w);
    for (int64_t i = 0; i < c; ++i) {
      std::fill(count, count + w, 0);
      for (int64_t r2 = 0; r2 < rounds; ++r2) {
        const int32_t own = qch[size_t(r2 * c + i)], back = qprev[size_t(r2 * c + i)];
        const int32_t* k = kch + r2 * w;
        for (int64_t t = 0; t < w; ++t) count[size_t(t)] += (k[t] == own) | (k[t] == back);
      }
      for (int64_t t = 0; t < w; ++t) ps[i * w + t] -= p.log_count[size_t(count[size_t(t)])];
    }
  }

  // Inverted-dropout factors (c, w): 0 or 1 / (1 − p), from a counter stream (one Philox call
  // per 4 entries), so backward regenerates exactly the forward's mask.
  const float* keep_mask() const {
    const LshPlan& p = *st.plan;
    float* pm = grab(sc.keep, c * w);
    const float scale = 1.0f / (1.0f - st.drop);
    const uint64_t per_row = uint64_t((2 * c + 3) / 4);
    for (int64_t i = 0; i < c; ++i) {
      const uint64_t row = uint64_t((r * p.bh_count() + bh) * p.padded + ch * c + i);
      for (int64_t t = 0; t < w; t += 4) {
        const auto bits = philox4x32(st.drop_key, row * per_row + uint64_t(t / 4));
        for (int64_t k = 0; k < 4 && t + k < w; ++k) {
          const float u = float(bits[size_t(k)] >> 8) * (1.0f / 16777216.0f);
          pm[i * w + t + k] = u < st.drop ? 0.0f : scale;
        }
      }
    }
    return pm;
  }
};

// Forward: k̂, the per-round outputs and log-normalisers, and the combined output, from st.q and
// st.v (everything lsh_backward needs is left in st).
void lsh_forward(LshSaved& s) {
  const LshPlan& p = *s.plan;
  const int64_t n = p.n, d = s.q.size(3), bh_count = p.bh_count(), rounds = p.rounds;
  const float drop = s.drop;
  // k̂ = q / max(‖q‖, eps), once per position.
  s.khat = Tensor::empty({bh_count, n, d});
  s.rnorm = Tensor::empty({bh_count, n});
  {
    const Rows q(s.q);
    float* pk = s.khat.data<float>();
    float* pn = s.rnorm.data<float>();
    parallel_for(bh_count * n, 256, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const float* x = q.row(t / n, t % n);
        float ss = 0.0f;
        for (int64_t j = 0; j < d; ++j) ss += x[j] * x[j];
        const float rn = 1.0f / std::max(std::sqrt(ss), kNormEps);
        pn[t] = rn;
        for (int64_t j = 0; j < d; ++j) pk[t * d + j] = x[j] * rn;
      }
    });
  }

  s.out = Tensor::empty({p.batch, p.heads, n, d});
  s.out_round =
      rounds == 1 ? s.out.view({1, bh_count, n, d}) : Tensor::empty({rounds, bh_count, n, d});
  s.lse = Tensor::empty({rounds, bh_count, n});

  // Per (round, head, chunk): masked softmax over the window, rows scattered to positions.
  parallel_for(rounds * bh_count * p.chunks, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      ChunkJob job(s, t / (bh_count * p.chunks), (t / p.chunks) % bh_count, t % p.chunks);
      job.logits();
      const int64_t c = job.c, w = job.w;
      float* ps = job.s;
      float* lse = s.lse.data<float>() + (job.r * bh_count + job.bh) * n;
      const float* pkeep = drop > 0.0f ? job.keep_mask() : nullptr;
      for (int64_t i = 0; i < c; ++i) {
        float* row = ps + i * w;
        float m = row[0];
        for (int64_t k = 1; k < w; ++k) m = std::max(m, row[k]);
        float sum = 0.0f;
        for (int64_t k = 0; k < w; ++k) sum += (row[k] = exp_nonpos(row[k] - m));
        const float inv = 1.0f / sum;
        for (int64_t k = 0; k < w; ++k) row[k] *= inv;
        if (drop > 0.0f)
          for (int64_t k = 0; k < w; ++k) row[k] *= pkeep[i * w + k];
        if (job.empty[size_t(i)]) std::fill(row, row + w, 0.0f);
        if (job.qpos[i] < n)
          lse[job.qpos[i]] = job.empty[size_t(i)] ? -INFINITY : m + std::log(sum);
      }
      float* o = grab(job.sc.o, c * job.d);
      kern::sgemm(false, false, c, job.d, w, 1.0f, ps, w, job.vw, job.d, 0.0f, o, job.d);  // P Vw
      float* dst = s.out_round.data<float>() + (job.r * bh_count + job.bh) * n * d;
      for (int64_t i = 0; i < c; ++i)
        if (job.qpos[i] < n)
          std::memcpy(dst + job.qpos[i] * d, o + i * d, size_t(d) * sizeof(float));
    }
  });

  // Rounds combine by a softmax over their log-normalisers.
  if (rounds > 1) {
    const float* po = s.out_round.data<float>();
    const float* pl = s.lse.data<float>();
    float* out = s.out.data<float>();
    parallel_for(bh_count * n, 256, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        float m = pl[t];
        for (int64_t r = 1; r < rounds; ++r) m = std::max(m, pl[r * bh_count * n + t]);
        std::fill(out + t * d, out + t * d + d, 0.0f);
        if (m == -INFINITY) continue;  // no round saw a visible key: output 0
        float z = 0.0f;
        for (int64_t r = 0; r < rounds; ++r) z += std::exp(pl[r * bh_count * n + t] - m);
        for (int64_t r = 0; r < rounds; ++r) {
          const float wr = std::exp(pl[r * bh_count * n + t] - m) / z;
          const float* o = po + (r * bh_count * n + t) * d;
          for (int64_t j = 0; j < d; ++j) out[t * d + j] += wr * o[j];
        }
      }
    });
  }
}

// Backward: (dq, dv) from dO (B, H, N, d), recomputing each chunk's logits from the saved plan,
// q, k̂ and lse.
std::pair<Tensor, Tensor> lsh_backward(const LshSaved& s, const Tensor& g) {
  const LshPlan& p = *s.plan;
  const int64_t n = p.n, d = s.q.size(3), bh_count = p.bh_count(), rounds = p.rounds;
  const int64_t padded = p.padded;
  const Tensor go_all = g.contiguous();  // (B, H, N, d)
  const float* pg = go_all.data<float>();
  const float* pout = s.out.data<float>();
  const float* pl = s.lse.data<float>();

  // Round weights w_r(i) and D_i = dO_i·O_i.
  Tensor wts = Tensor::full({rounds, bh_count, n}, 1.0f);
  Tensor dot = Tensor::empty({bh_count, n});
  {
    float* pw = wts.data<float>();
    float* pd = dot.data<float>();
    parallel_for(bh_count * n, 256, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        float acc = 0.0f;
        for (int64_t j = 0; j < d; ++j) acc += pg[t * d + j] * pout[t * d + j];
        pd[t] = acc;
        if (rounds == 1) continue;
        float m = pl[t];
        for (int64_t r = 1; r < rounds; ++r) m = std::max(m, pl[r * bh_count * n + t]);
        float z = 0.0f;
        for (int64_t r = 0; r < rounds && m > -INFINITY; ++r)
          z += std::exp(pl[r * bh_count * n + t] - m);
        for (int64_t r = 0; r < rounds; ++r)
          pw[r * bh_count * n + t] =
              m > -INFINITY ? std::exp(pl[r * bh_count * n + t] - m) / z : 0.0f;
      }
    });
  }

  Tensor dq = Tensor::zeros({p.batch, p.heads, n, d});
  Tensor dv = Tensor::zeros({p.batch, p.heads, n, d});
  // Sorted-order gradient buffers of one round: queries, keys/values of the own chunk, and
  // keys/values reached as the looked-back chunk (each slot written at most once in each).
  Tensor gq = Tensor::empty({bh_count, padded, d});
  Tensor gk_own = Tensor::empty({bh_count, padded, d});
  Tensor gv_own = Tensor::empty({bh_count, padded, d});
  Tensor gk_prev = Tensor::empty({bh_count, padded, d});
  Tensor gv_prev = Tensor::empty({bh_count, padded, d});
  const int64_t c = p.chunk;

  for (int64_t r = 0; r < rounds; ++r) {
    gk_prev.zero_();
    gv_prev.zero_();
    const float* pw = wts.data<float>() + r * bh_count * n;
    parallel_for(bh_count * p.chunks, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        ChunkJob job(s, r, t / p.chunks, t % p.chunks);
        job.logits();
        const int64_t bh = job.bh, w = job.w;
        const float* lse = pl + (r * bh_count + bh) * n;
        // go = w_r dO (rows of the chunk's queries), Dr = w_r (dO·O).
        ChunkScratch& sc = job.sc;
        float* pgo = grab(sc.go, c * d);
        float* dr = grab(sc.dr, c);
        std::fill(dr, dr + c, 0.0f);
        float* ps = job.s;
        for (int64_t i = 0; i < c; ++i) {
          const int32_t qp = job.qpos[i];
          float* row = ps + i * w;
          if (qp >= n || job.empty[size_t(i)]) {  // filler or empty row: no output, no gradient
            std::fill(pgo + i * d, pgo + i * d + d, 0.0f);
            std::fill(row, row + w, 0.0f);
            continue;
          }
          const float wr = pw[bh * n + qp];
          for (int64_t j = 0; j < d; ++j) pgo[i * d + j] = wr * pg[(bh * n + qp) * d + j];
          dr[size_t(i)] = wr * dot.data<float>()[bh * n + qp];
          for (int64_t k = 0; k < w; ++k) row[k] = exp_nonpos(row[k] - lse[qp]);  // P
        }
        const float* pd = ps;  // P after dropout (what multiplied V)
        const float* pkeep = s.drop > 0.0f ? job.keep_mask() : nullptr;
        if (pkeep) {
          float* pp = grab(sc.pd, c * w);
          for (int64_t e = 0; e < c * w; ++e) pp[e] = ps[e] * pkeep[e];
          pd = pp;
        }
        float* gvw = grab(sc.gvw, w * d);
        kern::sgemm(true, false, w, d, c, 1.0f, pd, w, pgo, d, 0.0f, gvw, d);  // (w, d) = Pdᵀ go
        float* pgs = grab(sc.gs, c * w);
        kern::sgemm(false, true, c, w, d, 1.0f, pgo, d, job.vw, d, 0.0f, pgs, w);  // go Vwᵀ
        for (int64_t i = 0; i < c; ++i)
          for (int64_t k = 0; k < w; ++k) {
            const size_t e = size_t(i * w + k);
            const float dp = pkeep ? pgs[e] * pkeep[e] : pgs[e];
            pgs[e] = job.fixed[e] ? 0.0f : ps[e] * (dp - dr[size_t(i)]);
          }
        float* gqc = grab(sc.gqc, c * d);
        kern::sgemm(false, false, c, d, w, 1.0f, pgs, w, job.kw, d, 0.0f, gqc, d);  // (c, d)
        float* gkw = grab(sc.gkw, w * d);
        kern::sgemm(true, false, w, d, c, 1.0f, pgs, w, job.qc, d, 0.0f, gkw, d);  // (w, d)
        const int64_t own = job.ch * c;
        auto put = [&](Tensor& dst, int64_t slot0, const float* src, int64_t row0, float a) {
          float* pdst = dst.data<float>() + (bh * padded + slot0) * d;
          const float* psrc = src + row0 * d;
          for (int64_t e = 0; e < c * d; ++e) pdst[e] = a * psrc[e];
        };
        put(gq, own, gqc, 0, s.scale);
        put(gk_own, own, gkw, 0, s.scale);
        put(gv_own, own, gvw, 0, 1.0f);
        if (job.prev >= 0) {
          put(gk_prev, job.prev * c, gkw, c, s.scale);
          put(gv_prev, job.prev * c, gvw, c, 1.0f);
        }
      }
    });
    // Un-sort: each original position sits in one slot per round.
    const float* pq = gq.data<float>();
    const float* pko = gk_own.data<float>();
    const float* pkp = gk_prev.data<float>();
    const float* pvo = gv_own.data<float>();
    const float* pvp = gv_prev.data<float>();
    const float* pkh = s.khat.data<float>();
    const float* prn = s.rnorm.data<float>();
    float* pdq = dq.data<float>();
    float* pdv = dv.data<float>();
    parallel_for(bh_count * padded, 256, [&](int64_t t0, int64_t t1) {
      std::vector<float> gk(static_cast<size_t>(d));
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t bh = t / padded;
        const int32_t pos = p.perm_row(r, bh)[t % padded];
        if (pos >= n) continue;
        const int64_t e = bh * n + pos;
        float kg = 0.0f;  // k̂·dk̂
        for (int64_t j = 0; j < d; ++j) {
          gk[size_t(j)] = pko[t * d + j] + pkp[t * d + j];
          kg += pkh[e * d + j] * gk[size_t(j)];
        }
        // dq += dQ + (dk̂ − k̂ (k̂·dk̂)) / ‖q‖ (the projection term vanishes under the eps floor)
        const bool floor = prn[e] >= 1.0f / kNormEps;
        for (int64_t j = 0; j < d; ++j) {
          const float proj = floor ? 0.0f : pkh[e * d + j] * kg;
          pdq[e * d + j] += pq[t * d + j] + prn[e] * (gk[size_t(j)] - proj);
          pdv[e * d + j] += pvo[t * d + j] + pvp[t * d + j];
        }
      }
    });
  }
  return {dq, dv};
}

// Fused LSH attention: q, v (B, H, N, d) -> (B, H, N, d). See the banner.
Var lsh_attention(const Var& q_in, const Var& v_in, std::shared_ptr<const LshPlan> plan,
                  float scale, float drop, uint64_t drop_key) {
  auto st = std::make_shared<LshSaved>();
  st->plan = std::move(plan);
  st->q = unit_last_stride(q_in.data());
  st->v = unit_last_stride(v_in.data());
  st->scale = scale;
  st->drop = drop, st->drop_key = drop_key;
  lsh_forward(*st);
  return make_result(st->out, "lsh_attention", {q_in, v_in}, [st](const Tensor& g, InputGrads& in) {
    auto [dq, dv] = lsh_backward(*st, g);
    if (in.needs(0)) in.set(0, dq);
    if (in.needs(1)) in.set(1, dv);
  });
}

class ReformerAttention : public MultiHeadAttention {
 public:
  explicit ReformerAttention(const MechanismOptions& o) : MultiHeadAttention(o), layer_(o.layer) {
    cfg_.n_hashes = o.get_int(kHashes);
    cfg_.n_buckets = o.get_int(kBuckets);
    cfg_.bucket_size = o.get_int(kBucketSize);
    cfg_.wrap = o.get_bool(kWrap);
    cfg_.dedup = o.get_bool(kDedup);
    cfg_.self_mask = o.get_bool(kSelfMask);
    cfg_.logit_scale = float(o.get_float(kLogitScale));
    cfg_.max_len = std::max<int64_t>(1, o.max_len);
    LRA_CHECK(cfg_.n_hashes >= 1, ConfigError, "reformer: n_hashes=", cfg_.n_hashes,
              " must be >= 1");
    LRA_CHECK(cfg_.n_buckets == 1 || (cfg_.n_buckets >= 2 && cfg_.n_buckets % 2 == 0), ConfigError,
              "reformer: n_buckets=", cfg_.n_buckets,
              " must be 1 or even (angular LSH takes argmax over [xR; -xR])");
    LRA_CHECK(cfg_.logit_scale >= 0.0f, ConfigError, "reformer: logit_scale=", cfg_.logit_scale,
              " must be >= 0 (0: 1/sqrt(d))");
    LRA_CHECK(cfg_.bucket_size >= 0, ConfigError, "reformer: bucket_size=", cfg_.bucket_size,
              " must be >= 0 (0: use n_buckets)");
  }
  const char* name() const override { return "reformer"; }

  // k is unused: keys are the normalised queries (shared-QK).
  Var attend(const Var& q, const Var&, const Var& v, const Tensor& lengths,
             const nn::ForwardContext& ctx) override {
    auto plan = make_plan(cfg_, q.data(), lengths, hash_key(ctx), key_mask(ctx, q.data()));
    const float drop = ctx.training ? attn_dropout_ : 0.0f;
    return lsh_attention(q, v, plan, logit_scale(cfg_, q.data().size(3)), drop,
                         ctx.key(path() + ".attn_dropout"));
  }

  // Softmax over the union of each query's windows, for the buckets this input and ctx give.
  Tensor dense_weights(const Tensor& q, const Tensor&, const Tensor& lengths,
                       const nn::ForwardContext& ctx) override {
    auto plan = make_plan(cfg_, q, lengths, hash_key(ctx), key_mask(ctx, q));
    const LshPlan& p = *plan;
    const int64_t n = p.n, d = q.size(3);
    const Tensor qc = q.contiguous();
    const float* pq = qc.data<float>();
    const float scale = logit_scale(cfg_, d);
    Tensor w = Tensor::zeros({p.batch, p.heads, n, n});
    float* pw = w.data<float>();
    parallel_for(p.bh_count(), 1, [&](int64_t bh0, int64_t bh1) {
      std::vector<double> khat(static_cast<size_t>(n * d)), logit(static_cast<size_t>(n));
      std::vector<int> count(static_cast<size_t>(n));
      for (int64_t bh = bh0; bh < bh1; ++bh) {
        const float* x = pq + bh * n * d;
        const int64_t b = bh / p.heads, len = p.len[size_t(b)];
        for (int64_t j = 0; j < n; ++j) {
          double ss = 0.0;
          for (int64_t e = 0; e < d; ++e) ss += double(x[j * d + e]) * x[j * d + e];
          const double rn = 1.0 / std::max(std::sqrt(ss), double(kNormEps));
          for (int64_t e = 0; e < d; ++e) khat[size_t(j * d + e)] = x[j * d + e] * rn;
        }
        for (int64_t i = 0; i < n; ++i) {
          double m = -INFINITY;
          bool any_valid = false;  // else (a padded query) uniform over the padded keys seen
          for (int64_t j = 0; j < n; ++j) {
            count[size_t(j)] = p.count_rounds(bh, i, j);
            any_valid = any_valid || (count[size_t(j)] > 0 && p.key_ok(b, j));
          }
          if (!any_valid && i < len) continue;  // no visible key in any window: row 0
          for (int64_t j = 0; j < n; ++j) {
            if (count[size_t(j)] == 0) continue;
            double s = 0.0;
            for (int64_t e = 0; e < d; ++e) s += double(x[i * d + e]) * khat[size_t(j * d + e)];
            s = !p.key_ok(b, j)         ? (any_valid ? kPadLogit : 0.0)
                : j == i && p.self_mask ? kSelfLogit
                                        : s * scale;
            if (!p.dedup) s += std::log(double(count[size_t(j)]));
            logit[size_t(j)] = s;
            m = std::max(m, s);
          }
          double z = 0.0;
          for (int64_t j = 0; j < n; ++j)
            if (count[size_t(j)] > 0) z += std::exp(logit[size_t(j)] - m);
          float* row = pw + (bh * n + i) * n;
          for (int64_t j = 0; j < n; ++j)
            if (count[size_t(j)] > 0) row[j] = float(std::exp(logit[size_t(j)] - m) / z);
        }
      }
    });
    return w;
  }

  // Round 0's sorted positions (valid ones in bucket order, then the padding).
  Tensor display_order(const Tensor& q, const Tensor& lengths,
                       const nn::ForwardContext& ctx) override {
    auto plan = make_plan(cfg_, q, lengths, hash_key(ctx), key_mask(ctx, q));
    Tensor order = Tensor::empty({plan->batch, plan->heads, plan->n}, DType::I32);
    int32_t* po = order.data<int32_t>();
    for (int64_t bh = 0; bh < plan->bh_count(); ++bh) {
      const int32_t* perm = plan->perm_row(0, bh);
      for (int64_t s = 0; s < plan->padded; ++s)
        if (perm[s] < plan->n) *po++ = perm[s];
    }
    return order;
  }

 private:
  static Tensor key_mask(const nn::ForwardContext& ctx, const Tensor& q) {
    return keymask::checked(ctx, q.size(0), q.size(2), "reformer");
  }
  uint64_t hash_key(const nn::ForwardContext& ctx) const {
    return rng_key(ctx.key(path() + ".lsh"), {uint64_t(layer_)});
  }
  LshConfig cfg_;
  int layer_;
};

}  // namespace

MechanismInfo reformer_mechanism() {
  return {"reformer",
          "Reformer (LSH attention)",
          "shared-QK; angular-LSH buckets sorted into chunks, each sees itself + the previous "
          "chunk; n_h rounds combined; O(n_h N c d)",
          {kHashes, kBuckets, kBucketSize, kWrap, kDedup, kSelfMask, kLogitScale},
          [](const MechanismOptions& o) { return std::make_unique<ReformerAttention>(o); }};
}

}  // namespace lra::attn
