// A small Transformer must be able to memorise 32 ListOps examples: the whole stack
// (embedding, attention, MLP, LayerNorm, pooling, head, loss, backward, Adam) learns.
#include <doctest/doctest.h>

#include "lra/autograd/ops.hpp"
#include "lra/lra/data/listops.hpp"
#include "lra/lra/train/trainer.hpp"
#include "lra/nn/loss.hpp"
#include "lra/nn/optim.hpp"

using namespace lra;

TEST_CASE("a tiny transformer reaches 100% train accuracy on 32 ListOps examples") {
  data::ListOpsConfig lc;
  lc.seed = 3;
  lc.min_length = 10;
  lc.max_length = 60;
  data::Split split;
  split.examples = data::generate_listops(lc, 32);
  REQUIRE(split.examples.size() == 32);

  ModelConfig mc;
  mc.vocab = data::kListOpsCls;
  mc.max_len = 60;
  mc.dim = 32;
  mc.heads = 2;
  mc.qkv_dim = 32;
  mc.mlp_dim = 64;
  mc.layers = 2;
  mc.dropout = mc.attn_dropout = 0.0f;
  mc.pooling = nn::Pooling::Cls;
  mc.classes = 10;
  mc.seed = 5;
  LraModel model(mc);
  nn::Adam adam(model.named_parameters(), {});

  std::vector<int64_t> all(32);
  for (int64_t i = 0; i < 32; ++i) all[size_t(i)] = i;
  data::Batch batch = data::make_batch(split.examples, all, mc.max_len, false);
  double accuracy = 0.0;
  int step = 0;
  for (; step < 400 && accuracy < 1.0; ++step) {
    nn::ForwardContext ctx{true, 1, uint64_t(step)};
    nn::LossOut lo = nn::classification_loss(model.forward(batch, ctx), batch.labels);
    adam.zero_grad();
    lo.loss.backward();
    adam.step(3e-3f);
    if (step % 20 == 19) accuracy = evaluate(model, split, 32, mc.max_len).accuracy;
  }
  MESSAGE("reached train accuracy ", accuracy, " after ", step, " steps");
  CHECK(accuracy == 1.0);
}
