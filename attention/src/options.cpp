#include "lra/attention/options.hpp"

#include <sstream>

#include "lra/core/error.hpp"
#include "lra/core/text.hpp"

namespace lra::attn {
namespace {
const std::string* lookup(const MechanismOptions& o, const ParamSpec& spec) {
  auto it = o.params.find(spec.name);
  return it == o.params.end() ? &spec.default_value : &it->second;
}
}  // namespace

int64_t MechanismOptions::get_int(const ParamSpec& spec) const {
  return to_int(*lookup(*this, spec), "attention parameter " + spec.name);
}

double MechanismOptions::get_float(const ParamSpec& spec) const {
  return to_number(*lookup(*this, spec), "attention parameter " + spec.name);
}

bool MechanismOptions::get_bool(const ParamSpec& spec) const {
  const std::string& s = *lookup(*this, spec);
  if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
  if (s == "0" || s == "false" || s == "no" || s == "off") return false;
  throw ConfigError("attention parameter " + spec.name + "=" + cut_for_message(s) +
                    " is not a boolean (use true/false)");
}

std::string MechanismOptions::get_string(const ParamSpec& spec) const {
  return *lookup(*this, spec);
}

void MechanismOptions::check_known(const std::string& mechanism,
                                   const std::vector<ParamSpec>& specs) const {
  for (const auto& [name, value] : params) {
    bool known = false;
    for (const ParamSpec& s : specs) known = known || s.name == name;
    if (known) continue;
    std::ostringstream valid;
    for (const ParamSpec& s : specs) valid << " " << s.name;
    throw ConfigError("unknown parameter '" + cut_for_message(name) + "' for attention '" +
                      mechanism +
                      "'; valid:" + (specs.empty() ? std::string(" (none)") : valid.str()));
  }
}

std::map<std::string, std::string> parse_param_list(const std::string& text) {
  std::map<std::string, std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    auto eq = item.find('=');
    LRA_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < item.size(), ConfigError,
              "attention parameter '", cut_for_message(item), "' is not of the form name=value");
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

}  // namespace lra::attn
