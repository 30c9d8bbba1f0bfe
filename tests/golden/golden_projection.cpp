// golden_projection OUT M D LAYERS SEED: writes the Performer projection W (M x D) that each
// layer of an lra_cpu model with seed SEED draws (its "features" buffer), as projection/<layer>,
// into the safetensors file OUT. tests/golden/make_golden.py runs it so that the PyTorch side
// of the golden test uses lra_cpu's random features. A tool, not a test.
#include <cstdio>
#include <exception>
#include <string>

#include "lra/core/text.hpp"
#include "lra/lra/train/model.hpp"
#include "lra/nn/checkpoint.hpp"

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: golden_projection OUT M D LAYERS SEED\n");
    return 2;
  }
  try {
    // The draw depends on the seed, the layer, M and the head width D only: one head of D.
    lra::ModelConfig c;
    c.mechanism = "performer";
    c.mechanism_params = {{"features", argv[2]}};
    c.dim = c.qkv_dim = lra::to_int(argv[3], "D");
    c.heads = 1;
    c.layers = int(lra::to_int(argv[4], "LAYERS"));
    c.seed = uint64_t(lra::to_int(argv[5], "SEED"));
    c.vocab = 4;
    c.max_len = 8;
    lra::LraModel model(c);
    lra::nn::NamedTensors out;
    for (const auto& [name, w] : model.named_buffers())  // depth first: layer order
      out.emplace_back("projection/" + std::to_string(out.size()), w);
    if (out.size() != size_t(c.layers)) {
      std::fprintf(stderr, "golden_projection: the model holds %zu projections for %d layers\n",
                   out.size(), c.layers);
      return 1;
    }
    lra::nn::save_safetensors(argv[1], out);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "golden_projection: %s\n", e.what());
    return 1;
  }
  return 0;
}
