// FLOPs of one layer's attention core, forward, from the sizes and the mechanism's parameters
// (attention/src/flops.cpp has the formulas). The benchmark counts a step's work with it and
// the trainer's memory check reads the keys each query sees from it (flops / 4 B N D).
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace lra::attn {

// `params` overrides the registry's defaults. ConfigError for a mechanism without a count.
double attention_flops(const std::string& mechanism,
                       const std::map<std::string, std::string>& params, int64_t batch,
                       int64_t seq_len, int64_t dim, int64_t heads);

// FLOPs of one layer's Q, K, V and output projections, forward: 4 x 2BND^2, except Linformer,
// whose W_K and W_V project the k rows of E X: 2 x 2BND^2 + 2 x 2BkD^2.
double projection_flops(const std::string& mechanism,
                        const std::map<std::string, std::string>& params, int64_t batch,
                        int64_t seq_len, int64_t dim);

}  // namespace lra::attn
