// lra/core/text.hpp: strict numbers, durations, timestamps.
#include <doctest/doctest.h>

#include <string>

#include "lra/core/text.hpp"

TEST_CASE("text: parse_int takes the whole text as an integer or nothing") {
  CHECK(lra::parse_int("42") == 42);
  CHECK(lra::parse_int("-7") == -7);
  CHECK(lra::parse_int("9223372036854775807") == INT64_MAX);
  for (const char* bad :
       {"", " 4", "4 ", "+4", "4x", "1e3", "3.0", "0x10", "9223372036854775808", "abc"})
    CHECK_MESSAGE(!lra::parse_int(bad), bad);
  CHECK(lra::parse_number("0.5") == 0.5);
  CHECK(lra::parse_number("1e-3") == 1e-3);
  CHECK(lra::parse_number("-2") == -2.0);
  for (const char* bad : {"", " 1", "1.5x", "1,5", "e3"})
    CHECK_MESSAGE(!lra::parse_number(bad), bad);
}

TEST_CASE("text: to_int and to_number name what is wrong") {
  CHECK(lra::to_int("12", "flag: setting steps") == 12);
  try {
    lra::to_int("abc", "flag: setting steps");
    FAIL("accepted abc");
  } catch (const lra::ConfigError& e) {
    CHECK(std::string(e.what()) == "flag: setting steps = 'abc' is not an integer");
  }
  try {
    lra::to_number("fast", "attention parameter eps");
    FAIL("accepted fast");
  } catch (const lra::ConfigError& e) {
    CHECK(std::string(e.what()) == "attention parameter eps = 'fast' is not a number");
  }
}

TEST_CASE("text: format_duration and timestamp") {
  CHECK(lra::format_duration(0) == "0s");
  CHECK(lra::format_duration(42.4) == "42s");
  CHECK(lra::format_duration(187) == "3m07s");
  CHECK(lra::format_duration(7500) == "2h05m");
  CHECK(lra::format_duration(-1) == "0s");
  const std::string t = lra::timestamp();
  REQUIRE(t.size() == 15);
  CHECK(t[8] == '-');
  CHECK(lra::parse_int(t.substr(0, 8)).has_value());
  CHECK(lra::parse_int(t.substr(9)).has_value());
}
