// Data-parallel pieces of a global batch, their gradient sum, and sharded evaluation
// (math and layout: lra/lra/distributed.hpp).
#include "lra/lra/train/distributed.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "lra/autograd/ops.hpp"
#include "lra/lra/train/model.hpp"
#include "lra/lra/train/trainer.hpp"
#include "lra/nn/loss.hpp"

namespace lra {

std::vector<Piece> batch_pieces(int64_t batch, int ranks, int rank, int64_t accumulate) {
  LRA_CHECK(ranks >= 1 && rank >= 0 && rank < ranks, Error, "batch_pieces: rank ", rank, " of ",
            ranks);
  LRA_CHECK(accumulate >= 1, ConfigError, "--accumulate ", accumulate, ": use 1 or more");
  const int64_t parts = int64_t(ranks) * accumulate;
  LRA_CHECK(batch % parts == 0, ConfigError, "--batch ", batch, " does not split into ", ranks,
            " rank", ranks == 1 ? "" : "s", " x ", accumulate,
            " micro-batches (--accumulate): use a --batch that is a multiple of ", parts,
            (ranks > 1 ? " or another number of MPI ranks (mpirun -np)" : ""));
  const int64_t rows = batch / parts;
  std::vector<Piece> out;
  for (int64_t m = 0; m < accumulate; ++m) {
    const int64_t p = int64_t(rank) * accumulate + m;
    out.push_back({p * rows, (p + 1) * rows});
  }
  return out;
}

data::Batch batch_rows(const data::Batch& b, int64_t begin, int64_t end) {
  auto rows = [&](const Tensor& t) {
    return t.defined() ? t.slice(0, begin, end).contiguous() : Tensor();
  };
  return {rows(b.tokens), rows(b.lengths), rows(b.labels), rows(b.tokens2), rows(b.lengths2)};
}

// ---- gradient sum -------------------------------------------------------------------------

GradientSync::GradientSync(std::vector<Var> params, Communicator& comm, int64_t bucket_bytes)
    : params_(std::move(params)),
      comm_(comm),
      bucket_of_(params_.size()),
      slot_(params_.size()),
      flag_(params_.size()),
      final_(params_.size()) {
  LRA_CHECK(bucket_bytes > 0, ConfigError, "gradient bucket of ", bucket_bytes,
            " bytes: use a positive size");
  const int64_t cap = std::max<int64_t>(1, bucket_bytes / int64_t(sizeof(float)));
  std::vector<std::vector<size_t>> members;
  int64_t filled = cap;
  for (size_t i = params_.size(); i-- > 0;) {  // last registered first
    if (filled >= cap) members.emplace_back(), filled = 0;
    members.back().push_back(i);
    filled += params_[i].data().numel();
    index_[params_[i].impl()] = i;
  }
  int64_t at = 0;
  for (const std::vector<size_t>& m : members) {
    Bucket b;
    b.begin = at;
    for (size_t i : m) slot_[i] = at, at += params_[i].data().numel();
    for (size_t i : m) flag_[i] = at++;
    b.floats = at - b.begin;
    for (size_t i : m) bucket_of_[i] = buckets_.size();
    buckets_.push_back(b);
  }
  flat_.assign(size_t(at), 0.0f);  // never reallocated: started sums point into it
}

GradReadyScope GradientSync::watch(const Var& loss) {
  if (comm_.size() == 1) return GradReadyScope({});
  comm_.wait_all();  // nothing should be pending; never reuse a buffer in flight
  std::fill(final_.begin(), final_.end(), 0);
  for (Bucket& b : buckets_) b.waiting = 0;
  for (size_t i = 0; i < params_.size(); ++i) ++buckets_[bucket_of_[i]].waiting;
  next_ = started_in_backward_ = 0;
  std::vector<char> reached(params_.size(), 0);
  for (VarImpl* leaf : graph_leaves(loss))
    if (auto it = index_.find(leaf); it != index_.end()) reached[it->second] = 1;
  for (size_t i = 0; i < params_.size(); ++i)
    if (!reached[i]) gradient_final(i);  // this backward leaves it as it is
  return GradReadyScope([this](VarImpl& leaf) {
    auto it = index_.find(&leaf);
    if (it == index_.end()) return;  // an input, not a parameter
    gradient_final(it->second);
    start_ready();
    started_in_backward_ = next_;
    comm_.test_all();  // progress for the buckets in flight
  });
}

void GradientSync::gradient_final(size_t i) {
  if (final_[i]) return;
  final_[i] = 1;
  const Tensor& g = params_[i].grad();
  const int64_t n = params_[i].data().numel();
  float* slot = flat_.data() + slot_[i];
  if (g.defined())
    std::memcpy(slot, g.contiguous().data<float>(), size_t(n) * sizeof(float));
  else
    std::fill(slot, slot + n, 0.0f);
  flat_[size_t(flag_[i])] = g.defined() ? 1.0f : 0.0f;
  --buckets_[bucket_of_[i]].waiting;
}

void GradientSync::start_ready() {
  for (; next_ < buckets_.size() && buckets_[next_].waiting == 0; ++next_)
    comm_.start_allreduce_sum(flat_.data() + buckets_[next_].begin, buckets_[next_].floats);
}

void GradientSync::finish() {
  if (comm_.size() == 1) return;
  for (size_t i = 0; i < params_.size(); ++i) gradient_final(i);  // if backward did not report it
  start_ready();
  comm_.wait_all();
  for (size_t i = 0; i < params_.size(); ++i) {     // scatter
    if (flat_[size_t(flag_[i])] == 0.0f) continue;  // undefined on every rank
    Tensor& g = params_[i].grad();
    const int64_t n = params_[i].data().numel();
    if (!g.defined() || !g.is_contiguous() || g.storage().use_count() > 1)
      g = Tensor::empty(params_[i].data().shape());
    std::memcpy(g.data<float>(), flat_.data() + slot_[i], size_t(n) * sizeof(float));
  }
}

StepLoss forward_backward(LraModel& model, const data::Batch& whole,
                          const std::vector<Piece>& pieces, const nn::ForwardContext& ctx,
                          GradientSync& sync, Communicator& comm) {
  const int64_t batch = whole.labels.numel();
  if (comm.size() == 1 && pieces.size() == 1 && pieces[0].begin == 0 && pieces[0].end == batch) {
    nn::LossOut lo = nn::classification_loss(model.forward(whole, ctx), whole.labels);
    lo.loss.backward();
    return {lo.loss.item(), lo.correct};
  }
  double sums[2] = {0.0, 0.0};  // loss, correct
  for (const Piece& p : pieces) {
    const bool last = &p == &pieces.back();  // its backward finishes the gradients
    const data::Batch piece = batch_rows(whole, p.begin, p.end);
    nn::ForwardContext pc = ctx;
    pc.row0 = p.begin;
    pc.rows = p.end - p.begin;
    nn::LossOut lo = nn::classification_loss(model.forward(piece, pc), piece.labels);
    const float weight = float(double(pc.rows) / double(batch));
    sums[0] += double(weight) * double(lo.loss.item());
    sums[1] += double(lo.correct);
    if (last) {
      const GradReadyScope overlap = sync.watch(lo.loss);  // buckets start during this backward
      lo.loss.backward(Tensor::scalar(weight));
    } else {
      lo.loss.backward(Tensor::scalar(weight));
    }
  }
  sync.finish();
  comm.allreduce_sum(sums, 2);
  return {float(sums[0]), int64_t(sums[1])};
}

// ---- evaluation ---------------------------------------------------------------------------

EvalResult evaluate_sharded(LraModel& model, const data::Split& split, int64_t batch_size,
                            int64_t max_len, int64_t max_batches, Communicator& comm,
                            const std::function<void(size_t, size_t)>& progress) {
  if (comm.size() == 1) return evaluate(model, split, batch_size, max_len, max_batches, progress);
  NoGradGuard no_grad;
  nn::ForwardContext ctx;  // eval: no dropout
  int64_t n = int64_t(split.examples.size());
  if (max_batches > 0) n = std::min(n, max_batches * batch_size);
  double sums[3] = {0.0, 0.0, 0.0};  // loss x examples, correct, examples
  std::vector<int64_t> idx;
  int64_t j = 0;
  for (int64_t start = 0; start < n; start += batch_size, ++j) {
    if (j % comm.size() != comm.rank()) continue;
    idx.clear();
    for (int64_t i = start; i < std::min(n, start + batch_size); ++i) idx.push_back(i);
    data::Batch b = data::make_batch(split.examples, idx, max_len, false);
    nn::LossOut lo = nn::classification_loss(model.forward(b, ctx), b.labels);
    sums[0] += double(lo.loss.item()) * double(idx.size());
    sums[1] += double(lo.correct);
    sums[2] += double(idx.size());
    if (progress) progress(std::min(size_t(n), size_t(sums[2]) * size_t(comm.size())), size_t(n));
  }
  comm.allreduce_sum(sums, 3);
  EvalResult r;
  r.examples = int64_t(sums[2]);
  if (r.examples > 0) {
    r.loss = sums[0] / sums[2];
    r.accuracy = sums[1] / sums[2];
  }
  return r;
}

}  // namespace lra
