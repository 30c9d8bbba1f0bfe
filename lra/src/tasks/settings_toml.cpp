// Settings from a TOML file (`lra_cpu train --config FILE`), read with toml++ (header-only
// use: no link dependency). One flat table of schema keys:
//
//   task = "listops"
//   preset = "cpu"
//   lr = 1e-3
//   steps = 2000
//   [attn]            # mechanism parameters as a table, same as attn = "block=64"
//   block = 64
//
// Every key must be a schema key; a typo is an error naming the file, line and key.
#include <toml++/toml.h>

#include <charconv>
#include <sstream>

#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/lra/tasks/settings.hpp"

namespace lra {
namespace {

std::string where(const std::string& path, const toml::node& n) {
  std::ostringstream os;
  os << "config " << path;
  if (n.source().begin) os << ":" << n.source().begin.line;
  return os.str();
}

// Scalar -> the text a flag would carry; false for tables and arrays.
bool scalar_text(const toml::node& n, std::string& out) {
  if (auto v = n.as_string()) {
    out = v->get();
  } else if (auto v = n.as_integer()) {
    out = std::to_string(v->get());
  } else if (auto v = n.as_floating_point()) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v->get());  // shortest round-trip form
    out.assign(buf, r.ptr);
  } else if (auto v = n.as_boolean()) {
    out = v->get() ? "true" : "false";
  } else {
    return false;
  }
  return true;
}

// A directory, a missing or an unreadable file is an error before any run starts (toml++
// would read a directory as an empty table).
void check_config_file(const std::string& path) {
  const std::string problem = file_problem(path);
  LRA_CHECK(problem.empty(), ConfigError, "--config ", path, ": ", problem,
            "; pass a TOML file of settings (key = value)");
}

}  // namespace

std::vector<std::pair<std::string, std::string>> read_settings_toml(const std::string& path) {
  check_config_file(path);
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << "config " << path;
    if (e.source().begin) os << ":" << e.source().begin.line << ":" << e.source().begin.column;
    os << ": " << e.description();
    throw ConfigError(os.str());
  }
  Settings probe;  // for the schema check
  std::vector<std::pair<std::string, std::string>> out;
  for (auto&& [k, node] : root) {
    const std::string key(k.str());
    const std::string at = where(path, node);
    LRA_CHECK(probe.has(key), ConfigError, at, ": unknown setting '", key, "' (did you mean ",
              nearest_settings(key), "?); see `lra_cpu train --help` for every setting");
    std::string text;
    if (key == "attn" && node.is_table()) {
      for (auto&& [pk, pv] : *node.as_table()) {
        std::string v;
        LRA_CHECK(scalar_text(pv, v), ConfigError, where(path, pv), ": attn.", pk.str(),
                  " must be a number, string or boolean");
        text += (text.empty() ? "" : ",") + std::string(pk.str()) + "=" + v;
      }
    } else {
      LRA_CHECK(scalar_text(node, text), ConfigError, at, ": setting '", key,
                "' must be a string, number or boolean (tables and arrays are not settings)");
    }
    check_setting(key, text, at);  // the file and line of a value out of range
    out.emplace_back(key, text);
  }
  return out;
}

void Settings::load_toml(const std::string& path) {
  for (const auto& [k, v] : read_settings_toml(path)) set(k, v, "config " + path);
}

}  // namespace lra
