// Checked checkpoint metadata and the resumable state record (lra/lra/train/checkpoint_record.hpp).
#include "lra/lra/train/checkpoint_record.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "lra/core/error.hpp"
#include "lra/core/text.hpp"

namespace lra {
namespace {

using json = nlohmann::json;
constexpr const char* kMetaSums = "lra.meta_checksums";
constexpr const char* kState = "lra.state";
constexpr const char* kStateSum = "lra.state_checksum";

// Reads the fields of one JSON object, each with its type checked, naming the field at fault.
struct Fields {
  const std::string& path;
  const json& obj;
  std::string prefix;  // "interval." for nested fields

  [[noreturn]] void bad(const std::string& key, const std::string& want) const {
    const std::string got = obj.contains(key) ? "is " + obj.at(key).dump() : "is missing";
    throw CheckpointError("checkpoint " + path + ": field " + prefix + key + " of its " + kState +
                          " record " + got + " (expected " + want +
                          "; the file was edited or is damaged); use another checkpoint or "
                          "retrain");
  }
  int64_t integer(const std::string& key, int64_t lo, int64_t hi) const {
    const std::string want =
        "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    if (!obj.contains(key) || !obj.at(key).is_number_integer()) bad(key, want);
    const json& v = obj.at(key);
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) bad(key, want);
    const int64_t x = v.get<int64_t>();
    if (x < lo || x > hi) bad(key, want);
    return x;
  }
  double number(const std::string& key, double lo, double hi) const {
    const std::string want = "a number in [" + json(lo).dump() + ", " + json(hi).dump() + "]";
    if (!obj.contains(key) || !obj.at(key).is_number()) bad(key, want);
    const double x = obj.at(key).get<double>();
    if (!(x >= lo && x <= hi)) bad(key, want);
    return x;
  }
  void string(const std::string& key) const {
    if (!obj.contains(key) || !obj.at(key).is_string()) bad(key, "a string");
  }
  const json& object(const std::string& key) const {
    if (!obj.contains(key) || !obj.at(key).is_object()) bad(key, "an object");
    return obj.at(key);
  }
};

// A recorded setting as an integer (the record keeps settings as flag text).
int64_t setting_int(const Fields& settings, const std::string& key, int64_t lo) {
  settings.string(key);
  const std::optional<int64_t> v = parse_int(settings.obj.at(key).get_ref<const std::string&>());
  if (!v || *v < lo) settings.bad(key, "an integer >= " + std::to_string(lo) + " as text");
  return *v;
}

}  // namespace

std::string bytes_checksum(std::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
  return buf;
}

void add_metadata_checksums(std::map<std::string, std::string>& meta) {
  json sums = json::object();
  for (const auto& [k, v] : meta)
    if (k != kMetaSums && k != kState) sums[k] = bytes_checksum(v);
  meta[kMetaSums] = sums.dump();
}

void check_metadata(const std::string& path, const std::map<std::string, std::string>& meta) {
  if (auto it = meta.find("step"); it != meta.end()) {
    const std::string& s = it->second;
    const bool digits =
        !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos;
    LRA_CHECK(digits, CheckpointError, "checkpoint ", path, ": metadata field step is '", s,
              "' (expected a step number; the file was edited); use another checkpoint or "
              "retrain");
  }
  auto it = meta.find(kMetaSums);
  if (it == meta.end()) return;  // written by a version without metadata checksums
  json sums;
  try {
    sums = json::parse(it->second);
  } catch (const json::exception&) {
  }
  LRA_CHECK(sums.is_object(), CheckpointError, "checkpoint ", path, ": metadata field ", kMetaSums,
            " is not a JSON object (the file was edited)");
  for (const auto& [k, v] : meta) {
    if (k == kMetaSums || k == kState) continue;
    LRA_CHECK(
        sums.contains(k) && sums[k].is_string() && sums[k].get<std::string>() == bytes_checksum(v),
        CheckpointError, "checkpoint ", path, ": metadata field ", k,
        " does not match its checksum (the file was edited); use another checkpoint or "
        "retrain");
  }
  for (const auto& [k, v] : sums.items())
    LRA_CHECK(meta.count(k), CheckpointError, "checkpoint ", path, ": metadata field ", k,
              " is missing (the file was edited); use another checkpoint or retrain");
}

void add_state_record(std::map<std::string, std::string>& meta, const json& record) {
  meta[kState] = record.dump();
  meta[kStateSum] = bytes_checksum(meta[kState]);
}

json read_state_record(const std::string& path, const std::map<std::string, std::string>& meta) {
  json st;
  if (auto it = meta.find(kState); it != meta.end()) {
    try {
      st = json::parse(it->second);
    } catch (const json::exception&) {
    }
  }
  LRA_CHECK(st.is_object(), CheckpointError, "checkpoint ", path, ": no valid ", kState,
            " record (a JSON object) in its metadata; use another checkpoint or retrain");
  const Fields f{path, st, ""};
  const Fields settings{path, f.object("settings"), "settings."};
  for (const auto& [k, v] : settings.obj.items()) settings.string(k);
  const int64_t steps = setting_int(settings, "steps", 1);
  const int64_t batch = setting_int(settings, "batch", 1);
  const int64_t step = f.integer("step", 0, steps);
  const int64_t n_train = f.integer("n_train", 1, INT64_MAX);
  const int64_t cursor = f.integer("cursor", 0, n_train);
  int64_t taken = 0;  // examples taken by `step`: epoch x n_train + cursor of them
  if (__builtin_mul_overflow(step, batch, &taken)) f.bad("step", "a step of the recorded run");
  const int64_t epoch = f.integer("epoch", 0, taken / n_train);
  if (epoch * n_train + cursor != taken)
    f.bad("cursor", "epoch x n_train + cursor = step x batch, the examples taken by step " +
                        std::to_string(step));
  f.integer("adam_steps", step, step);
  f.integer("best_step", 0, step);
  if (!st.contains("seed") || !st["seed"].is_number_integer()) f.bad("seed", "an integer");
  f.string("data_fingerprint");
  const double best = f.number("best_val_accuracy", -1.0, 1.0);
  if (best < 0.0 && best != -1.0) f.bad("best_val_accuracy", "-1 (none yet) or in [0, 1]");
  f.number("best_val_loss", 0.0, HUGE_VAL);
  f.number("final_train_loss", 0.0, HUGE_VAL);
  f.number("elapsed_seconds", 0.0, HUGE_VAL);
  const Fields iv{path, f.object("interval"), "interval."};
  const int64_t iv_steps = iv.integer("steps", 0, step);
  const int64_t seen = iv.integer("seen", iv_steps * batch, iv_steps * batch);
  iv.integer("correct", 0, seen);
  iv.number("loss_sum", 0.0, HUGE_VAL);
  iv.number("gnorm_sum", 0.0, HUGE_VAL);
  if (auto it = meta.find(kStateSum); it != meta.end())
    LRA_CHECK(it->second == bytes_checksum(meta.at(kState)), CheckpointError, "checkpoint ", path,
              ": its ", kState,
              " record does not match its checksum (a field was edited); use another checkpoint "
              "or retrain");
  return st;
}

}  // namespace lra
