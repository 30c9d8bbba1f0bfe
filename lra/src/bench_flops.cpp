// The work of one bench configuration in floating-point operations, counted from the model's
// sizes (a multiply-add is 2 FLOPs; elementwise passes, softmax and layer norm are not counted).
// Per layer, forward, with B batch, N tokens, D width, M MLP width, d = D / H per head:
//   projections  Q, K, V, output:         4 x 2BND^2
//   MLP          D -> M -> D:             2 x 2BNDM
//   attention    scores + weighted sum:   2 x 2BN S D, S = the keys each query sees
//                transformer, synthesizer S = N; local S = block; longformer S = window;
//                sparse S = block + summary N/block; bigbird S = (window + 2 + random) block;
//                sinkhorn S = 2 block; reformer S = 2 chunk x rounds (all capped at N)
//                linformer: + E K and F V (2 x 2BNkD), S = k
//                linear (elu+1 features): phi(K)^T V and phi(Q)(.): 2 x 2BNDd
//                performer: features of Q and K (2 x 2BNmD) + 2 x 2BNmD, m features
// A training step counts 3x the forward (backward = twice the forward's products), the
// usual convention; an inference step 1x.
#include <algorithm>
#include <cmath>
#include <string>

#include "lra/attention/registry.hpp"
#include "lra/core/error.hpp"
#include "lra/lra/bench.hpp"

namespace lra::bench {
namespace {

// A mechanism parameter as the configuration sets it, else the registry's default.
double param(const Config& c, const std::string& name) {
  auto it = c.params.find(name);
  if (it != c.params.end()) return std::stod(it->second);
  for (const attn::ParamSpec& p : attn::find_mechanism(c.model).params)
    if (p.name == name) return std::stod(p.default_value);
  throw ConfigError("bench FLOPs: mechanism " + c.model + " has no parameter " + name);
}

}  // namespace

double attention_flops(const Config& c) {
  const double B = double(c.batch), N = double(c.seq_len), D = double(c.dim);
  const double d = D / double(std::max<int64_t>(1, c.heads));
  const std::string& m = c.model;
  auto keys = [&](double s) { return 4.0 * B * N * std::min(s, N) * D; };
  if (m == "transformer" || m == "synthesizer") return keys(N);
  if (m == "local") return keys(param(c, "block"));
  if (m == "longformer") return keys(param(c, "window"));
  if (m == "sparse") {
    const double b = param(c, "block");
    return keys(b + param(c, "summary") * N / b);
  }
  if (m == "bigbird")
    return keys((param(c, "window") + 2.0 + param(c, "random")) * param(c, "block"));
  if (m == "sinkhorn") return keys(2.0 * param(c, "block"));
  if (m == "reformer") {
    const double size = param(c, "bucket_size");
    const double chunk = size > 0 ? size : std::ceil(N / param(c, "n_buckets"));
    return param(c, "n_hashes") * keys(2.0 * chunk);
  }
  if (m == "linformer") {
    const double k = std::min(param(c, "k"), N);
    return 4.0 * B * N * k * D + keys(k);
  }
  if (m == "linear") return 4.0 * B * N * D * d;
  if (m == "performer") return 8.0 * B * N * param(c, "features") * D;
  throw ConfigError("bench FLOPs: no count for mechanism " + m);
}

double flops_per_step(const Config& c) {
  const double B = double(c.batch), N = double(c.seq_len), D = double(c.dim);
  const double layer =
      8.0 * B * N * D * D + 4.0 * B * N * D * double(c.mlp_dim) + attention_flops(c);
  return double(c.layers) * layer * (c.inference ? 1.0 : 3.0);
}

}  // namespace lra::bench
