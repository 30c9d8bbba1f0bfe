#include "settings_flags.hpp"

#include "lra/lra/tasks/task.hpp"

namespace lra::app {

std::string flag_name(const std::string& key) {
  std::string f = "--" + key;
  for (char& c : f)
    if (c == '_') c = '-';
  return f;
}

namespace {

// What a setting's help says about its value when no flag gives it: the default task's default
// preset value when that preset sets it ("[preset; listops/cpu: 3000]"), else the default.
std::string value_note(const SettingSpec& s) {
  const Settings defaults;
  const TaskInfo& task = find_task(defaults.get("task"));
  const Preset& preset = task.preset(defaults.get("preset"));
  for (const auto& [k, v] : preset.settings)
    if (k == s.key) return " [preset; " + task.name + "/" + preset.name + ": " + v + "]";
  bool in_a_preset = false;
  for (const TaskInfo& t : tasks())
    for (const Preset& p : t.presets)
      for (const auto& kv : p.settings) in_a_preset = in_a_preset || kv.first == s.key;
  if (s.default_value.empty()) return in_a_preset ? " [preset]" : "";
  return " [default " + s.default_value + (in_a_preset ? "; some presets set it]" : "]");
}

}  // namespace

void SettingFlags::add_to(CLI::App& cmd) {
  cmd_ = &cmd;
  for (const SettingSpec& s : setting_schema()) {
    auto given = given_;
    std::string key = s.key;
    const std::string type = setting_type(key);
    const bool boolean = type == "BOOL";
    CLI::Option* opt = cmd.add_option_function<std::string>(
        flag_name(key),
        [given, key, boolean](const std::string& v) {
          (*given)[key] = boolean && v.empty() ? "true" : v;  // `--reversible` alone: true
        },
        s.help + value_note(s));
    if (boolean)
      opt->expected(0, 1)->type_name("[=true|false]");  // a flag; a value is optional
    else
      opt->type_name(type);
  }
  cmd.footer(
      "[preset; listops/cpu: V]: the value comes from the task's --preset (the default task is "
      "listops, the default preset cpu); `lra_cpu tasks` lists every preset's values. Values "
      "are checked before any work; config.json of the run records each value and its source.");
}

Settings SettingFlags::resolve(const std::string& config_path) const {
  Settings s;
  auto flag = [&](const std::string& key) { return "flag " + flag_name(key); };
  std::vector<std::pair<std::string, std::string>> config;
  if (!config_path.empty()) config = read_settings_toml(config_path);
  // task and preset decide which preset applies, so they are read first
  for (const char* key : {"task", "preset"}) {
    for (const auto& [k, v] : config)
      if (k == key) s.set(k, v, "config " + config_path);
    if (given_->count(key)) s.set(key, given_->at(key), flag(key));
  }
  const TaskInfo& task = find_task(s.get("task"));
  const Preset& preset = task.preset(s.get("preset"));
  for (const auto& [k, v] : preset.settings) s.set(k, v, "preset " + task.name + "/" + preset.name);
  for (const auto& [k, v] : config) s.set(k, v, "config " + config_path);
  for (const auto& [k, v] : *given_) s.set(k, v, flag(k));
  return s;
}

}  // namespace lra::app
