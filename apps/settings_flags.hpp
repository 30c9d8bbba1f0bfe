// Every run setting of lra::setting_schema() as a command-line flag (--eval-every for
// eval_every), applied over the task preset with the flag named as its source.
#pragma once
#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <string>

#include "lra/lra/tasks/settings.hpp"

namespace lra::app {

class SettingFlags {
 public:
  void add_to(CLI::App& cmd);
  // defaults < preset of the chosen task < --config FILE (TOML, when given) < flags
  Settings resolve(const std::string& config_path = "") const;
  // The settings given as flags (key -> value), e.g. to check them against a resumed run.
  const std::map<std::string, std::string>& given() const { return *given_; }

 private:
  std::shared_ptr<std::map<std::string, std::string>> given_ =
      std::make_shared<std::map<std::string, std::string>>();
  CLI::App* cmd_ = nullptr;
};

std::string flag_name(const std::string& key);  // eval_every -> --eval-every

}  // namespace lra::app
