// Data-parallel pieces of a global batch, their gradient sum, and sharded evaluation
// (math and layout: lra/lra/distributed.hpp).
#include "lra/lra/train/distributed.hpp"

#include <algorithm>
#include <cstring>

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

GradientSync::GradientSync(std::vector<Var> params, Communicator& comm)
    : params_(std::move(params)), comm_(comm) {}

void GradientSync::reduce() {
  if (comm_.size() == 1) return;
  std::vector<float> defined(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) defined[i] = params_[i].grad().defined() ? 1 : 0;
  comm_.allreduce_sum(defined.data(), int64_t(defined.size()));
  int64_t total = 0;
  for (size_t i = 0; i < params_.size(); ++i)
    if (defined[i] > 0) total += params_[i].data().numel();
  flat_.assign(size_t(total), 0.0f);
  int64_t at = 0;
  for (size_t i = 0; i < params_.size(); ++i) {  // gather
    if (defined[i] == 0) continue;
    const Tensor& g = params_[i].grad();
    const int64_t n = params_[i].data().numel();
    if (g.defined()) std::memcpy(flat_.data() + at, g.contiguous().data<float>(), size_t(n) * 4);
    at += n;
  }
  constexpr int64_t kBucket = int64_t(1) << 22;  // floats per MPI call (16 MiB)
  for (int64_t b = 0; b < total; b += kBucket)
    comm_.allreduce_sum(flat_.data() + b, std::min(kBucket, total - b));
  at = 0;
  for (size_t i = 0; i < params_.size(); ++i) {  // scatter
    if (defined[i] == 0) continue;
    Tensor& g = params_[i].grad();
    const int64_t n = params_[i].data().numel();
    if (!g.defined() || !g.is_contiguous()) g = Tensor::empty(params_[i].data().shape());
    std::memcpy(g.data<float>(), flat_.data() + at, size_t(n) * 4);
    at += n;
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
    const data::Batch piece = batch_rows(whole, p.begin, p.end);
    nn::ForwardContext pc = ctx;
    pc.row0 = p.begin;
    pc.rows = p.end - p.begin;
    nn::LossOut lo = nn::classification_loss(model.forward(piece, pc), piece.labels);
    const float weight = float(double(pc.rows) / double(batch));
    sums[0] += double(weight) * double(lo.loss.item());
    sums[1] += double(lo.correct);
    lo.loss.backward(Tensor::scalar(weight));
  }
  sync.reduce();
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
