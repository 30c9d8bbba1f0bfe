// TOML settings files (lra/settings.hpp): read, then applied to a Settings.
#include "fuzz_input.hpp"
#include "lra/lra/tasks/settings.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = lra_fuzz::write_input("run.toml", data, size);
  lra_fuzz::expect_ok_or_lra_error([&] {
    lra::Settings s;
    for (const auto& [k, v] : lra::read_settings_toml(path)) s.set(k, v, "config " + path);
  });
  return 0;
}
