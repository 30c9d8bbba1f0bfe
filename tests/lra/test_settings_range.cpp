// Numeric settings are checked against their valid range when set (flag, TOML file, a run's
// config.json), with the range in the message; overlong values are cut in messages.
#include <doctest/doctest.h>

#include <string>

#include "lra/core/io.hpp"
#include "lra/lra/tasks/settings.hpp"
#include "lra/lra/train/run.hpp"
#include "lra/task_helpers.hpp"

using lra::ConfigError;
using lra::Settings;

namespace {

// The ConfigError message of s.set(key, value, "flag --key"), or "" when it is accepted.
std::string set_error(const std::string& key, const std::string& value) {
  Settings s;
  try {
    s.set(key, value, "flag --" + key);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("settings: out-of-range numbers are refused with the valid range") {
  CHECK(set_error("lr", "-1") == "flag --lr: lr = '-1' is out of range; expected a number > 0");
  CHECK(set_error("lr", "0") != "");
  CHECK(set_error("lr", "nan").find("lr = 'nan' is out of range") != std::string::npos);
  CHECK(set_error("lr", "inf") != "");
  CHECK(set_error("lr", "abc") != "");
  CHECK(set_error("warmup", "-10").find("expected an integer >= 0") != std::string::npos);
  CHECK(set_error("clip", "-1") != "");
  CHECK(set_error("clip", "nan") != "");
  CHECK(set_error("max_len", "-5").find("expected an integer in [0, 1073741824]") !=
        std::string::npos);
  CHECK(set_error("seed", "-1").find("seed = '-1'") != std::string::npos);
  CHECK(set_error("dropout", "1").find("expected a number in [0, 1)") != std::string::npos);
  CHECK(set_error("attn_dropout", "-0.1") != "");
  CHECK(set_error("steps", "0") != "");
  CHECK(set_error("batch", "2.5") != "");
  CHECK(set_error("reversible", "maybe").find("expected true or false") != std::string::npos);
  // in range
  for (const auto& [k, v] : {std::pair{"lr", "1e30"},
                             {"lr", "0.002"},
                             {"clip", "0"},
                             {"dropout", "0"},
                             {"dropout", "0.999"},
                             {"max_len", "0"},
                             {"seed", "0"},
                             {"gen_min_len", ""},
                             {"reversible", "true"},
                             {"attn", "block=-3"},
                             {"model", "x"}})
    CHECK_MESSAGE(set_error(k, v).empty(), k, "=", v);
}

TEST_CASE("settings: a TOML value out of range names the file and line") {
  const auto d = lra_test::fresh_dir("settings", "toml");
  lra_test::write_bytes(d / "bad.toml", "steps = 30\n\nlr = -0.5\n");
  Settings s;
  CHECK_THROWS_WITH_AS(s.load_toml((d / "bad.toml").string()),
                       doctest::Contains("bad.toml:3: lr = '-0.5' is out of range"), ConfigError);
  CHECK(s.get("steps") == "1000");  // nothing applied
}

TEST_CASE("settings: an overlong value is cut to 80 bytes in the message") {
  const std::string huge(100000, '7');
  const std::string e = set_error("dropout", huge);
  CHECK(e.find(std::string(80, '7') + "... (100000 bytes)") != std::string::npos);
  CHECK(e.size() < 300);
  CHECK(lra::cut_for_message("short") == "short");
}

TEST_CASE("settings: an error in a run's config.json names config.json and the key") {
  const auto d = lra_test::fresh_dir("settings", "run");
  lra_test::write_bytes(d / "config.json",
                        R"({"settings": {"lr": {"value": "-1", "source": "flag --lr"}}})");
  std::string e;
  try {
    lra::read_run(d.string());
  } catch (const ConfigError& err) {
    e = err.what();
  }
  CHECK(e.find((d / "config.json").string() + ": key settings.lr: flag --lr: lr = '-1' is out "
                                              "of range") != std::string::npos);
}
