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
#include <utility>
#include <vector>

namespace lra {

struct SettingSpec {
  std::string key;
  std::string default_value;
  std::string help;
};

// The schema of every run setting (train/eval/bench share it).
const std::vector<SettingSpec>& setting_schema();

// The (key, value) pairs of a TOML settings file, in file order, validated as load_toml
// describes (ConfigError otherwise). Used to read `task` and `preset` before the preset layer.
std::vector<std::pair<std::string, std::string>> read_settings_toml(const std::string& path);

// Throws ConfigError "<source>: <key> = '<value>' is out of range; expected <range>" when a
// numeric or boolean setting is not a number of its kind in its valid range (e.g. lr > 0 and
// finite, dropout in [0, 1), seed >= 0). Settings::set calls it for every value.
void check_setting(const std::string& key, const std::string& value, const std::string& source);

// The names closest to `word` in edit distance ("a or b" on a tie), for "did you mean" hints.
std::string nearest_name(const std::string& word, const std::vector<std::string>& names);

// A setting's value type for help texts: "INT", "FLOAT", "BOOL" or "TEXT".
std::string setting_type(const std::string& key);

// The schema keys closest to `key` (nearest_name over the schema).
std::string nearest_settings(const std::string& key);

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

  // Applies a TOML file of settings with source "config <path>". Keys are the schema's
  // (flat `key = value`); `attn` may also be a table (`[attn]  block = 64`). Strings, integers,
  // floats and booleans are accepted. An unknown key, a table or array elsewhere, or a syntax
  // error throws ConfigError naming the file, the line and the key; nothing is applied then.
  void load_toml(const std::string& path);

  struct Entry {
    std::string value, source;
  };
  const std::map<std::string, Entry>& entries() const { return entries_; }

 private:
  std::map<std::string, Entry> entries_;
};

}  // namespace lra
