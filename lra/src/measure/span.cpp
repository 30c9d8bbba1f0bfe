// lra_cpu span: see lra/include/lra/lra/measure/span.hpp for the metric.
#include "lra/lra/measure/span.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "lra/autograd/ops.hpp"
#include "lra/core/io.hpp"
#include "lra/core/threading.hpp"
#include "lra/lra/measure/mechanism_facts.hpp"
#include "lra/lra/tasks/task.hpp"
#include "lra/lra/train/run.hpp"
#include "lra/lra/train/trainer.hpp"
#include "measure/svg.hpp"

namespace lra::span {
namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

Tensor attention_span(const Tensor& weights, const Tensor& lengths) {
  LRA_CHECK(weights.defined() && weights.dtype() == DType::F32 && weights.dim() == 4 &&
                weights.size(2) == weights.size(3),
            ShapeError, "attention_span: weights must be f32 (B, H, N, N), got ",
            weights.defined() ? weights.describe() : std::string("undefined"));
  const int64_t B = weights.size(0), H = weights.size(1), N = weights.size(2);
  std::vector<int32_t> len(static_cast<size_t>(B), static_cast<int32_t>(N));
  if (lengths.defined()) {
    LRA_CHECK(lengths.dtype() == DType::I32 && lengths.numel() == B, ShapeError,
              "attention_span: lengths must be i32 (", B, "), got ", lengths.describe());
    len = lengths.to_ints();
  }
  const Tensor w = weights.contiguous();
  const float* pw = w.data<float>();
  Tensor out = Tensor::zeros({B, H});
  float* po = out.data<float>();
  parallel_for(B * H, 1, [&](int64_t x0, int64_t x1) {
    for (int64_t x = x0; x < x1; ++x) {
      const int64_t b = x / H, n = std::clamp<int64_t>(len[size_t(b)], 0, N);
      if (n == 0) continue;
      double total = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        const float* row = pw + (x * N + i) * N;
        double s = 0.0;
        for (int64_t j = 0; j < n; ++j) s += double(row[j]) * double(i > j ? i - j : j - i);
        total += s;
      }
      po[x] = float(total / double(n));
    }
  });
  return out;
}

void visit_layer_weights(LraModel& model, const Tensor& tokens, const Tensor& lengths,
                         const LayerVisitor& visit) {
  NoGradGuard no_grad;
  nn::ForwardContext ctx;  // eval: no dropout
  Tensor lens;
  Var x = model.embed(tokens, lengths, &lens, ctx);
  const bool rev = model.config().reversible;
  Var x2 = x;  // reversible: the mixer reads stream x2 (x1 = x2 = x below layer 0)
  for (int l = 0; l < model.config().layers; ++l) {
    attn::MultiHeadAttention& att = model.attention(l);
    Var h = rev ? model.reversible_encoder().block(l).ln1().forward(x2)
                : model.encoder().block(l).ln1().forward(x);
    const Tensor q = att.project_q(h).data();
    visit(l, att.dense_weights(q, att.project_k(h).data(), lens, ctx), lens,
          att.display_order(q, lens, ctx));
    if (rev)
      model.reversible_encoder().block(l).forward(x, x2, lens, ctx);
    else
      x = model.encoder().block(l).forward(x, lens, ctx);
  }
}

Tensor model_spans(LraModel& model, const Tensor& tokens, const Tensor& lengths) {
  std::vector<Tensor> per_layer;
  visit_layer_weights(model, tokens, lengths,
                      [&](int, const Tensor& w, const Tensor& lens, const Tensor&) {
                        per_layer.push_back(attention_span(w, lens));
                      });
  const int64_t layers = int64_t(per_layer.size()), B = tokens.size(0);
  const int64_t H = layers ? per_layer[0].size(1) : 0;
  Tensor out = Tensor::empty({layers, B, H});
  for (int64_t l = 0; l < layers; ++l)
    out.slice(0, l, l + 1).copy_(per_layer[size_t(l)].reshape({1, B, H}));
  return out;
}

Result measure_run(const std::string& run_dir, const Options& opt) {
  namespace fs = std::filesystem;
  RunInfo run = read_run(run_dir);  // config.json: settings and the data folder training read
  set_num_threads(opt.threads);
  const TaskInfo& task = find_task(run.settings.get("task"));
  ModelConfig mc = model_config(run.settings, task);
  mc.dropout = mc.attn_dropout = 0.0f;

  const std::string ckpt = run_dir + "/" + opt.checkpoint + ".safetensors";
  LRA_CHECK(fs::exists(ckpt), CheckpointError, "span: no ", opt.checkpoint, ".safetensors in ",
            run_dir, " (the parameters of the trained model)");
  LraModel model(mc);
  load_weights(model, ckpt, task.name);  // checksums, task and model checked

  const std::string data_dir = !opt.data.empty() ? opt.data : run.data_dir;
  LRA_CHECK(!data_dir.empty() && fs::exists(data_dir), DataError, "span: the run's data folder '",
            data_dir, "' does not exist here; pass --data DIR");
  TaskData data = task.load(data_dir, mc.max_len);
  LRA_CHECK(opt.split == "val" || opt.split == "test", ConfigError,
            "span: --split must be val or test");
  const data::Split& split = opt.split == "val" ? data.val : data.test;
  LRA_CHECK(!split.examples.empty(), DataError, "span: the ", opt.split, " split of ", data_dir,
            " is empty");

  const int64_t n_ex = std::min<int64_t>(opt.samples, int64_t(split.examples.size()));
  std::vector<int64_t> order = data::epoch_order(split.examples.size(), opt.seed, 0);
  order.resize(size_t(n_ex));
  const int64_t N = mc.encoder_len(), H = mc.heads, L = mc.layers;
  // (B, H, N, N) dense weights per layer: keep them near 256 MB
  const int64_t per_example = H * N * N * 4;
  const int64_t bsz =
      std::clamp<int64_t>((int64_t(256) << 20) / std::max<int64_t>(per_example, 1), 1, 32);

  Result r;
  r.run_dir = run_dir;
  r.task = task.name;
  r.model = mc.mechanism;
  r.max_len = N;
  r.per_layer.assign(size_t(L), 0.0);
  r.per_head.assign(size_t(L), std::vector<double>(size_t(H), 0.0));
  double sum_span = 0.0, sum_len = 0.0;
  int64_t done = 0;
  auto add = [&](const Tensor& spans, const Tensor& lens) {  // spans (L, B, H)
    const std::vector<float> s = spans.to_floats();
    const std::vector<int32_t> len = lens.to_ints();
    const int64_t B = spans.size(1);
    for (int64_t b = 0; b < B; ++b) {
      if (len[size_t(b)] <= 0) continue;
      double sample = 0.0;
      for (int64_t l = 0; l < L; ++l)
        for (int64_t h = 0; h < H; ++h) {
          const double v = s[size_t((l * B + b) * H + h)];
          sample += v;
          r.per_layer[size_t(l)] += v / double(H);
          r.per_head[size_t(l)][size_t(h)] += v;
        }
      sum_span += sample / double(L * H);
      sum_len += double(len[size_t(b)]) + (mc.uses_cls() ? 1.0 : 0.0);
      ++r.samples;
    }
  };
  for (int64_t start = 0; start < n_ex; start += bsz) {
    std::vector<int64_t> idx(order.begin() + start, order.begin() + std::min(n_ex, start + bsz));
    data::Batch b = data::make_batch(split.examples, idx, mc.max_len, false);
    add(model_spans(model, b.tokens, b.lengths), b.lengths);
    if (b.tokens2.defined()) add(model_spans(model, b.tokens2, b.lengths2), b.lengths2);
    done += int64_t(idx.size());
    if (opt.progress) opt.progress(done, n_ex);
  }
  if (r.samples > 0) {
    r.span = sum_span / double(r.samples);
    r.mean_length = sum_len / double(r.samples);
    for (int64_t l = 0; l < L; ++l) {
      r.per_layer[size_t(l)] /= double(r.samples);
      for (double& v : r.per_head[size_t(l)]) v /= double(r.samples);
    }
  }
  return r;
}

std::string json(const Result& r) {
  nlohmann::json j = {
      {"run", r.run_dir},     {"task", r.task},           {"model", r.model},
      {"max_len", r.max_len}, {"samples", r.samples},     {"mean_length", r.mean_length},
      {"span", r.span},       {"per_layer", r.per_layer}, {"per_layer_head", r.per_head}};
  return j.dump(2) + "\n";
}

std::string markdown(const std::vector<Result>& results) {
  // Figure 2 read off the bar chart by a third party (docs/lra.md section 9): approximate.
  static const std::map<std::string, double> paper = {
      {"listops", 750}, {"text", 350}, {"retrieval", 1350}, {"image", 250}, {"pathfinder", 550}};
  std::ostringstream o;
  o << "| Task | Model | encoder length | samples | mean valid length | span | per layer | paper "
       "(Fig. 2, approx.) |\n|---|---|---:|---:|---:|---:|---|---:|\n";
  for (const Result& r : results) {
    std::string layers;
    for (size_t l = 0; l < r.per_layer.size(); ++l)
      layers += (l ? " / " : "") + fmt("%.1f", r.per_layer[l]);
    auto p = paper.find(r.task);
    o << "| " << r.task << " | " << facts::display_name(r.model) << " | " << r.max_len << " | "
      << r.samples << " | " << fmt("%.0f", r.mean_length) << " | " << fmt("%.1f", r.span) << " | "
      << layers << " | " << (p == paper.end() ? std::string("–") : "~" + fmt("%.0f", p->second))
      << " |\n";
  }
  o << "\nSpan: attention-weighted mean |query − key| distance (dense face of each mechanism), "
       "averaged over layers, heads and samples (LRA section 2.3).\n";
  return o.str();
}

std::string svg(const std::vector<Result>& results) {
  std::vector<std::string> tasks, models;
  for (const Result& r : results) {
    if (std::find(tasks.begin(), tasks.end(), r.task) == tasks.end()) tasks.push_back(r.task);
    if (std::find(models.begin(), models.end(), r.model) == models.end()) models.push_back(r.model);
  }
  std::vector<std::vector<double>> values(models.size(), std::vector<double>(tasks.size(), 0.0));
  std::vector<std::vector<int>> count(models.size(), std::vector<int>(tasks.size(), 0));
  for (const Result& r : results) {
    size_t m = size_t(std::find(models.begin(), models.end(), r.model) - models.begin());
    size_t t = size_t(std::find(tasks.begin(), tasks.end(), r.task) - tasks.begin());
    values[m][t] += r.span;
    count[m][t] += 1;
  }
  for (size_t m = 0; m < models.size(); ++m)
    for (size_t t = 0; t < tasks.size(); ++t)
      if (count[m][t]) values[m][t] /= count[m][t];
  std::vector<std::string> names;
  for (const std::string& m : models) names.push_back(facts::display_name(m));
  return svg::bar_chart("Required attention span per task (LRA Figure 2)",
                        "mean attention span (positions)", tasks, names, values);
}

}  // namespace lra::span
