// lra_cpu attention: a picture (PNG or SVG) of one head's attention weights for one mechanism,
// from its dense face on a random or given input (lra/include/lra/lra/measure/pattern.hpp).
#include <cstdio>

#include "commands.hpp"
#include "lra/attention/options.hpp"
#include "lra/core/error.hpp"
#include "lra/lra/measure/pattern.hpp"

namespace lra::app {

void add_attention_command(CLI::App& app, Action& action) {
  struct Flags {
    pattern::Options opt;
    std::string layer_input = "random", attn, out;
    int scale = 0;
  };
  auto f = std::make_shared<Flags>();
  f->opt.model.clear();  // given by --model, or by the run folder
  auto* cmd = app.add_subcommand(
      "attention",
      "picture of one head's attention weights (query rows x key columns) for one mechanism");
  cmd->add_option("--model", f->opt.model,
                  "attention mechanism (see `lra_cpu models`); required unless --run");
  cmd->add_option("--len", f->opt.len, "sequence length N (1..2048)")->capture_default_str();
  cmd->add_option("--seed", f->opt.seed, "initialisation and random-input seed")
      ->capture_default_str();
  cmd->add_option("--head", f->opt.head, "head to draw (a fresh model has 2)")
      ->capture_default_str();
  cmd->add_option("--layer", f->opt.layer, "encoder layer to draw")->capture_default_str();
  cmd->add_option("--layer-input", f->layer_input,
                  "random: N random bytes; text: the bytes of --text (id = byte + 1), rest padding")
      ->capture_default_str();
  cmd->add_option("--text", f->opt.text, "input text for --layer-input text (implies it)");
  cmd->add_option("--attn", f->attn,
                  "mechanism parameters name=value,... over the picture defaults (local, sparse, "
                  "sinkhorn block=N/8; sparse summary=N/32; longformer window=N/8; bigbird "
                  "block=N/16; performer dense=features)");
  cmd->add_option("--order", f->opt.order,
                  "positions, or buckets: the mechanism's display order (reformer: LSH sort)")
      ->capture_default_str();
  cmd->add_option("--run", f->opt.run,
                  "a run folder: draw its trained model on one example of its data");
  cmd->add_option("--checkpoint", f->opt.checkpoint, "with --run: best or last")
      ->capture_default_str();
  cmd->add_option("--split", f->opt.split, "with --run: val or test")->capture_default_str();
  cmd->add_option("--sample", f->opt.sample, "with --run: example index in the split")
      ->capture_default_str();
  cmd->add_option("--data", f->opt.data, "with --run: data folder (default: the run's own)");
  cmd->add_option("--scale", f->scale, "PNG pixels per cell (default 512/N, 1..16)");
  cmd->add_option("--out", f->out, "FILE.png or FILE.svg")->required();
  cmd->callback([f, &action]() {
    action = [f]() {
      pattern::Options opt = f->opt;
      LRA_CHECK(opt.run.empty() != opt.model.empty(), ConfigError,
                opt.run.empty() ? "--model is required (or --run DIR for a trained model)"
                                : "--model comes from the run folder; drop it or --run");
      LRA_CHECK(
          opt.run.empty() || (f->layer_input == "random" && opt.text.empty() && f->attn.empty()),
          ConfigError,
          "--run reads its own data and settings: drop --text, --layer-input "
          "and --attn");
      LRA_CHECK(f->layer_input == "random" || f->layer_input == "text", ConfigError,
                "--layer-input ", f->layer_input, " is not one of: random, text");
      LRA_CHECK(f->layer_input == "random" || !opt.text.empty(), ConfigError,
                "--layer-input text needs a non-empty --text STRING");
      LRA_CHECK(f->scale >= 0 && f->scale <= 16, ConfigError, "--scale ", f->scale,
                " is outside 1..16");
      pattern::check_output(f->out);
      opt.params = attn::parse_param_list(f->attn);
      const pattern::Pattern p = pattern::compute(opt);
      pattern::write(p, f->out, f->scale);
      std::printf("%s\n%s -> %s\n", p.title.c_str(), pattern::caption().c_str(), f->out.c_str());
      return 0;
    };
  });
}

}  // namespace lra::app
