#include "attention_checks.hpp"

using namespace lra;

TEST_CASE("transformer: fast path equals the dense face, padding included") {
  auto m = attn::make_mechanism("transformer", test::small_options(32));
  CHECK(test::fast_vs_dense(*m, 12, test::lengths_of({12, 7})) < 1e-5f);
}

TEST_CASE("transformer: gradients match finite differences") {
  auto m = attn::make_mechanism("transformer", test::small_options(32));
  auto r = test::mixer_gradcheck(*m, 6, test::lengths_of({6, 4}));
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("transformer: the padded tail does not change valid outputs") {
  auto m = attn::make_mechanism("transformer", test::small_options(32));
  CHECK(test::padding_leak(*m, 10, test::lengths_of({10, 6})) == 0.0f);
}

TEST_CASE("registry: unknown names and parameters are errors that list the valid ones") {
  CHECK_THROWS_WITH_AS(attn::make_mechanism("transfomer", test::small_options(8)),
                       doctest::Contains("known: transformer"), ConfigError);
  CHECK_THROWS_WITH_AS(attn::make_mechanism("transformer", test::small_options(8, {{"blok", "4"}})),
                       doctest::Contains("unknown parameter 'blok'"), ConfigError);
}
