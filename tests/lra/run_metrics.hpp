// A run folder's metrics.jsonl as JSON objects, without the fields that measure time or memory:
// what two runs that should be the same run (a resume, a repeat, a suite cell) must agree on.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lra/lra/train/run.hpp"

namespace lra_test {

inline std::vector<nlohmann::json> stable_metrics(const std::filesystem::path& dir) {
  std::vector<nlohmann::json> out;
  for (const std::string& line : lra::read_metrics_lines(dir.string())) {
    nlohmann::json j = nlohmann::json::parse(line);
    for (const char* k :
         {"steps_per_s", "elapsed_s", "eval_seconds", "peak_bytes", "peak_rss_bytes"})
      j.erase(k);
    out.push_back(j);
  }
  return out;
}

}  // namespace lra_test
