// golden_projection OUT M D LAYERS SEED: writes the Performer projection W (M x D) that every
// layer of an lra_cpu model with seed SEED draws, as projection/<layer>, into the safetensors
// file OUT. tests/golden/make_golden.py runs it so that the PyTorch side of the golden test uses
// lra_cpu's random features. A tool, not a test.
#include <cstdio>
#include <exception>
#include <string>

#include "lra/core/text.hpp"
#include "lra/nn/checkpoint.hpp"
#include "performer_projection.hpp"

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: golden_projection OUT M D LAYERS SEED\n");
    return 2;
  }
  try {
    const int64_t m = lra::to_int(argv[2], "M"), d = lra::to_int(argv[3], "D");
    const int64_t layers = lra::to_int(argv[4], "LAYERS");
    const auto seed = uint64_t(lra::to_int(argv[5], "SEED"));
    lra::nn::NamedTensors out;
    for (int layer = 0; layer < int(layers); ++layer)
      out.emplace_back("projection/" + std::to_string(layer),
                       lra::golden::performer_projection(seed, layer, m, d));
    lra::nn::save_safetensors(argv[1], out);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "golden_projection: %s\n", e.what());
    return 1;
  }
  return 0;
}
