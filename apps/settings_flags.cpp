#include "settings_flags.hpp"

#include "lra/lra/tasks/task.hpp"

namespace lra::app {

std::string flag_name(const std::string& key) {
  std::string f = "--" + key;
  for (char& c : f)
    if (c == '_') c = '-';
  return f;
}

void SettingFlags::add_to(CLI::App& cmd) {
  cmd_ = &cmd;
  for (const SettingSpec& s : setting_schema()) {
    auto given = given_;
    std::string key = s.key;
    std::string help =
        s.help + (s.default_value.empty() ? "" : " [default " + s.default_value + "]");
    const bool boolean = s.default_value == "false" || s.default_value == "true";
    CLI::Option* opt = cmd.add_option_function<std::string>(
        flag_name(key),
        [given, key, boolean](const std::string& v) {
          (*given)[key] = boolean && v.empty() ? "true" : v;  // `--reversible` alone: true
        },
        help);
    if (boolean) opt->expected(0, 1);
  }
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
