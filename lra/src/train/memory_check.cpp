// The early memory check (lra/lra/train/memory_check.hpp). Floats per training step, with B batch,
// N tokens (CLS included), L layers, D width, Q = qkv width, M MLP width, H heads, V vocab:
//   parameters   (V + 1) D  [+ (N + 1) D learned positions]
//                + L (4 D Q + 3 Q + 2 D M + M + 6 D)              Q/K/V/out, MLP, 2 norms
//   optimiser    3 x parameters                                  gradient, Adam m and v
//   activations  B N L (8 D + 4 Q + 2 M)                         saved for backward
//                (reversible: B N (2 L D) + one layer's worth: it recomputes the rest)
//   attention    B H N S x L, S the keys a query sees (the attention FLOPs / 4 B N D:
//                N dense, 2 chunks for Reformer, k for Linformer, features for Performer,
//                d for linear): the weights or features each layer keeps for backward;
//                none for the tiled kernels (transformer's flash, local, sparse, longformer,
//                bigbird keep O(B H N)); 2-3 copies for transformer kernel=plain (S, P,
//                dropped P)
// B is the rows one forward and backward hold: batch / (ranks x accumulate) (rows_held).
// These are lower estimates (no temporaries of the kernels, no allocator cache): a refused
// configuration cannot fit; one that passes may still be tight.
#include "lra/lra/train/memory_check.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "lra/attention/flops.hpp"
#include "lra/core/error.hpp"

namespace lra {
namespace {

std::string gib(double bytes) {
  char buf[32];
  if (bytes >= 1073741824.0)
    std::snprintf(buf, sizeof buf, "%.1f GiB", bytes / 1073741824.0);
  else
    std::snprintf(buf, sizeof buf, "%.0f MiB", bytes / 1048576.0);
  return buf;
}

// The first number in a file (0 when missing or not a number, e.g. cgroup's "max").
double read_number(const std::string& path) {
  std::ifstream in(path);
  double v = 0;
  return in >> v ? v : 0;
}

// This process's cgroup v2 folder (from /proc/self/cgroup "0::/path"), else the root.
std::string cgroup_dir() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("0::", 0) == 0) return "/sys/fs/cgroup" + line.substr(3);
  return "/sys/fs/cgroup";
}

// Copies of the (B, H, N, S) weights a layer keeps for backward.
double attention_copies(const ModelConfig& c) {
  const std::string& m = c.mechanism;
  if (m == "transformer" || m == "linformer") {
    auto k = c.mechanism_params.find("kernel");
    if (k == c.mechanism_params.end() || k->second != "plain") return 0.0;  // flash
    return c.attn_dropout > 0 ? 3.0 : 2.0;
  }
  if (m == "local" || m == "sparse" || m == "longformer" || m == "bigbird") return 0.0;  // tiled
  return 1.0;
}

}  // namespace

MemoryEstimate estimate_training_memory(const ModelConfig& c, int64_t batch) {
  const double B = double(batch), N = double(c.encoder_len()), L = double(c.layers);
  const double D = double(c.dim), Q = double(c.qkv_dim), M = double(c.mlp_dim);
  const double H = double(c.heads), towers = c.dual ? 2.0 : 1.0;
  MemoryEstimate e;
  double params = (double(c.vocab) + 1.0) * D + L * (4 * D * Q + 3 * Q + 2 * D * M + M + 6 * D);
  if (c.positions == nn::Positions::Learned) params += (N + 1.0) * D;
  e.parameters = 4.0 * params;
  e.optimiser = 3.0 * e.parameters;
  const double per_token =
      c.reversible ? 2.0 * L * D + (8 * D + 4 * Q + 2 * M) : L * (8 * D + 4 * Q + 2 * M);
  e.activations = 4.0 * towers * B * N * per_token;
  // keys per query, from the mechanism's FLOP count (4 B N S D for S keys)
  const int64_t n = int64_t(std::min(N, 9e15));
  double keys = 0;
  try {
    keys = attn::attention_flops(c.mechanism, c.mechanism_params, 1, n, 1, 1) / (4.0 * double(n));
  } catch (const std::exception&) {
    keys = 0;  // an unknown mechanism or parameter: the model builder names it
  }
  if (c.mechanism == "linear") keys = 2.0 * Q / H;  // features of Q and K, d per head
  e.attention = 4.0 * towers * B * H * N * keys * L * attention_copies(c);
  return e;
}

size_t available_memory_bytes(std::string* source) {
  double best = 0;
  std::string from;
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") {
      best = kb * 1024.0;
      from = "MemAvailable in /proc/meminfo";
      break;
    }
  const std::string cg = cgroup_dir();
  double limit = read_number(cg + "/memory.max"), used = read_number(cg + "/memory.current");
  if (limit <= 0) {  // cgroup v1
    limit = read_number("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    used = read_number("/sys/fs/cgroup/memory/memory.usage_in_bytes");
  }
  if (limit > 0 && limit < 1e18 && (best <= 0 || limit - used < best)) {
    best = std::max(0.0, limit - used);
    from = "the cgroup memory limit";
  }
  if (source) *source = from;
  return size_t(best);
}

int64_t rows_held(int64_t batch, int ranks, int64_t accumulate) {
  const int64_t parts = std::max<int64_t>(1, int64_t(ranks) * std::max<int64_t>(1, accumulate));
  return (batch + parts - 1) / parts;
}

std::string check_memory(const ModelConfig& c, int64_t batch, int ranks, int64_t accumulate) {
  std::string source;
  const size_t available = available_memory_bytes(&source);
  check_memory(c, batch, available, source, ranks, accumulate);
  const int64_t rows = rows_held(batch, ranks, accumulate);
  std::string line = "memory: this configuration needs at least " +
                     gib(estimate_training_memory(c, rows).total()) + " to train";
  if (rows != batch) line += " (" + std::to_string(rows) + " rows at a time)";
  if (available > 0) line += "; " + source + " is " + gib(double(available));
  return line;
}

void check_memory(const ModelConfig& c, int64_t batch, size_t available, const std::string& source,
                  int ranks, int64_t accumulate) {
  if (available == 0) return;
  const int64_t rows = rows_held(batch, ranks, accumulate);
  const MemoryEstimate e = estimate_training_memory(c, rows);
  if (e.total() <= double(available)) return;
  std::ostringstream os;
  os << "this configuration needs at least " << gib(e.total()) << " to train but " << source
     << " is " << gib(double(available)) << " (parameters " << gib(e.parameters)
     << ", gradients and Adam moments " << gib(e.optimiser) << ", activations "
     << gib(e.activations) << " for batch " << batch;
  if (rows != batch)
    os << " (" << rows << " rows at a time: " << ranks << " rank" << (ranks == 1 ? "" : "s")
       << " x " << accumulate << " micro-batch" << (accumulate == 1 ? "" : "es") << ")";
  os << " x max_len " << c.max_len << " x " << c.layers << " layers, " << c.mechanism
     << " attention " << gib(e.attention) << "); lower --layers (" << c.layers << "), --dim ("
     << c.dim << "), --max-len (" << c.max_len << ") or --batch (" << batch
     << "), or raise --accumulate (" << accumulate << ": micro-batches of batch / accumulate rows)";
  throw ConfigError(os.str());
}

}  // namespace lra
