// Settings: every knob of a run as a named value with the place it came from.
//
//   defaults  <  task preset  <  --config FILE  <  command-line flags
//
// Each layer overwrites the one before and records its source, so the resolved settings
// written to the run folder say where every number came from. Only keys of the schema are
// accepted: a typo is an error naming the key and the nearest valid ones, never ignored.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lra {

struct SettingSpec {
  std::string key;
  std::string default_value;
  std::string help;
};

// The schema of every run setting (train/eval/bench share it).
const std::vector<SettingSpec>& setting_schema();

class Settings {
 public:
  Settings();  // all schema defaults, source "default"

  // Throws ConfigError for a key outside the schema (naming the source, e.g. a flag or file).
  void set(const std::string& key, const std::string& value, const std::string& source);
  bool has(const std::string& key) const;

  const std::string& get(const std::string& key) const;
  const std::string& source(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  bool get_bool(const std::string& key) const;

  struct Entry {
    std::string value, source;
  };
  const std::map<std::string, Entry>& entries() const { return entries_; }

 private:
  std::map<std::string, Entry> entries_;
};

}  // namespace lra
