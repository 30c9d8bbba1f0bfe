// Private helpers shared by the bench files (bench*.cpp): number formatting, medians, lookups
// in a sweep, the synthetic batches and the JSON form of configurations and results.
#pragma once
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lra/lra/data/dataset.hpp"
#include "lra/lra/measure/bench.hpp"

namespace lra::bench {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0);
double median(std::vector<double> v);
std::string fmt(const char* f, double v);  // printf of one number
std::string sig3(double v);                // 3 significant digits, no exponent: 12.3, 0.123, 123
std::string length_label(int64_t n);       // 4096 -> "4K", 1000 -> "1000"

// A batch of random byte tokens and labels, no padding (the twin's data), for batch `index`.
data::Batch random_batch(const Config& c, uint64_t index);

// JSON of a configuration and a result, and back (bench_json.cpp).
Json config_j(const Config& c);
Config config_from(const Json& j);
Json result_j(const Result& r);
Result result_from(const Json& j);

// The result of (model, len) in s, nullptr when absent; the models in run order; the lengths
// ascending.
const Result* find_result(const Sweep& s, const std::string& model, int64_t len);
std::vector<std::string> sweep_models(const Sweep& s);
std::vector<int64_t> sweep_lengths(const Sweep& s);

}  // namespace lra::bench
