// Trainer and run folder: exact resume, checkpoint validation, TOML settings, eval
// reproduction, report, NaN stop. Tiny ListOps runs (1 layer, 16 wide, ~60 tokens): fast.
#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lra/core/io.hpp"
#include "lra/lra/measure/report.hpp"
#include "lra/lra/measure/run_plots.hpp"
#include "lra/lra/train/eval_run.hpp"
#include "lra/lra/train/run.hpp"
#include "lra/lra/train/trainer.hpp"
#include "lra/run_metrics.hpp"
#include "lra/task_helpers.hpp"
#include "measure/svg.hpp"

using namespace lra;
using lra_test::fresh_dir;
using lra_test::stable_metrics;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// A small generated ListOps set, made once per test binary.
const TaskData& tiny_data() {
  static TaskData data = lra_test::generated_listops("trainer", 160, 32, 32, 10, 60, 64);
  return data;
}

Settings tiny_settings(int64_t steps, uint64_t seed = 1) {
  Settings s = lra_test::micro_listops({{"steps", std::to_string(steps)},
                                        {"batch", "4"},
                                        {"warmup", "3"},
                                        {"eval_every", "4"},
                                        {"log_every", "3"},
                                        {"eval_batches", "4"},
                                        {"max_len", "64"},
                                        {"seed", std::to_string(seed)}});
  s.set("preset", "tiny", "test");
  return s;
}

std::string file_bytes(const fs::path& p) {
  return read_file(p.string());
}

TrainResult run(const Settings& s, const fs::path& dir, std::vector<float>* losses = nullptr,
                int64_t stop_at = 0, bool resume = false) {
  std::atomic<bool> stop{false};
  TrainOptions o;
  o.out_dir = dir.string();
  o.resume = resume;
  o.stop = &stop;
  TrainHooks h;
  h.on_step = [&](const StepInfo& si) {
    if (losses) losses->push_back(si.loss);
    if (stop_at > 0 && si.step == stop_at) stop.store(true);
  };
  h.on_metrics = write_run_plots;  // as lra_cpu train does
  return train(s, find_task("listops"), tiny_data(), o, h);
}

}  // namespace

TEST_CASE("trainer: 2N steps equal N steps + resume N, bit for bit") {
  const Settings s = tiny_settings(14);
  fs::path a = fresh_dir("trainer", "resume_a"), b = fresh_dir("trainer", "resume_b");
  fs::remove_all(a), fs::remove_all(b);
  std::vector<float> full, part;
  TrainResult ra = run(s, a, &full);
  CHECK(!ra.interrupted);
  TrainResult rb1 = run(s, b, &part, 7);  // stops after step 7 (mid log interval, not an eval)
  CHECK(rb1.interrupted);
  CHECK(rb1.steps == 7);
  TrainResult rb = run(s, b, &part, 0, true);
  CHECK(rb.resumed_from == 7);
  REQUIRE(full.size() == 14);
  REQUIRE(part.size() == 14);
  CHECK(std::memcmp(full.data(), part.data(), full.size() * sizeof(float)) == 0);
  // identical final parameters and moments, identical best checkpoint and results
  CHECK(file_bytes(a / "last.safetensors") == file_bytes(b / "last.safetensors"));
  CHECK(file_bytes(a / "best.safetensors") == file_bytes(b / "best.safetensors"));
  CHECK(ra.test_accuracy == rb.test_accuracy);
  CHECK(ra.best_step == rb.best_step);
  // metrics.jsonl continues with no gap and no duplicate
  CHECK(stable_metrics(a) == stable_metrics(b));
  for (const char* f :
       {"config.json", "results.json", "loss.svg", "accuracy.svg", "last.state.safetensors"})
    CHECK(fs::exists(b / f));
}

TEST_CASE(
    "trainer: resume after a stop at an evaluation step, and resume of other settings refused") {
  const Settings s = tiny_settings(10);
  fs::path a = fresh_dir("trainer", "evalstop_a"), b = fresh_dir("trainer", "evalstop_b");
  fs::remove_all(a), fs::remove_all(b);
  std::vector<float> full, part;
  run(s, a, &full);
  run(s, b, &part, 8);  // 8 is an eval step: saved there already
  Settings other = s;
  other.set("lr", "0.5", "test");
  CHECK_THROWS_WITH_AS(run(other, b, nullptr, 0, true), doctest::Contains("lr: checkpoint"),
                       CheckpointError);
  run(s, b, &part, 0, true);
  CHECK(std::memcmp(full.data(), part.data(), full.size() * sizeof(float)) == 0);
  CHECK(stable_metrics(a) == stable_metrics(b));
}

TEST_CASE("trainer: a fresh run refuses a folder that holds a run") {
  const Settings s = tiny_settings(2);
  fs::path a = fresh_dir("trainer", "twice");
  run(s, a);
  CHECK_THROWS_WITH_AS(run(s, a), doctest::Contains("--resume"), ConfigError);
}

TEST_CASE("trainer: a folder left before the first save is resumed from 0 or reused, saying so") {
  const Settings s = tiny_settings(2);
  fs::path ref = fresh_dir("trainer", "early_ref");
  const TrainResult want = run(s, ref);
  // what a kill (or a full disk) before the first state save leaves: config.json, empty metrics
  auto stopped_early = [&](const char* name) {
    fs::path d = fresh_dir("trainer", name);
    fs::copy_file(ref / "config.json", d / "config.json");
    lra_test::write_bytes(d / "metrics.jsonl", "");
    lra_test::write_bytes(d / "last.state.safetensors.tmp.1.0", "torn");
    lra_test::write_bytes(d / "notes.tmp.txt", "the user's");  // not a temp of ours: kept
    return d;
  };
  for (const bool resume : {true, false}) {
    fs::path d = stopped_early(resume ? "early_resume" : "early_new");
    std::string logged;
    TrainOptions o;
    o.out_dir = d.string();
    o.resume = resume;
    TrainHooks h;
    h.log = [&](const std::string& line) { logged += line + "\n"; };
    const TrainResult r = train(s, find_task("listops"), tiny_data(), o, h);
    CHECK(r.resumed_from == -1);  // a fresh start, not a resume
    CHECK(r.test_accuracy == want.test_accuracy);
    CHECK(stable_metrics(d) == stable_metrics(ref));
    CHECK(!fs::exists(d / "last.state.safetensors.tmp.1.0"));
    CHECK(fs::exists(d / "notes.tmp.txt"));
    CHECK_MESSAGE(
        logged.find(resume ? "starting it again from step 0" : "reusing") != std::string::npos,
        logged);
  }
  // a folder with checkpoints but no state is neither resumed nor reused
  fs::path d = stopped_early("early_best");
  fs::copy_file(ref / "best.safetensors", d / "best.safetensors");
  CHECK_THROWS_WITH_AS(run(s, d, nullptr, 0, true), doctest::Contains("no last.state"),
                       CheckpointError);
  CHECK_THROWS_WITH_AS(run(s, d), doctest::Contains("already holds a run"), ConfigError);
}

TEST_CASE("trainer: corrupt, truncated and mismatched checkpoints are refused") {
  const Settings s = tiny_settings(4);
  fs::path dir = fresh_dir("trainer", "corrupt");
  fs::remove_all(dir);
  run(s, dir);
  const TaskInfo& task = find_task("listops");
  const std::string good = file_bytes(dir / "best.safetensors");
  fs::path bad = dir / "bad.safetensors";
  ModelConfig mc = model_config(s, task);

  SUBCASE("truncated") {
    lra_test::write_bytes(bad, good.substr(0, good.size() - 100));
    LraModel m(mc);
    CHECK_THROWS_AS(load_weights(m, bad.string(), "listops"), CheckpointError);
    lra_test::write_bytes(bad, good.substr(0, 5));
    CHECK_THROWS_AS(load_weights(m, bad.string(), "listops"), CheckpointError);
  }
  SUBCASE("a flipped byte in the tensor data names the tensor") {
    std::string b = good;
    b[b.size() - 3] ^= 0x40;
    lra_test::write_bytes(bad, b);
    LraModel m(mc);
    CHECK_THROWS_WITH_AS(load_weights(m, bad.string(), "listops"),
                         doctest::Contains("is corrupt (checksum"), CheckpointError);
  }
  SUBCASE("another shape: which tensor, expected vs found") {
    Settings s2 = s;
    s2.set("dim", "32", "test");
    s2.set("qkv_dim", "32", "test");
    LraModel m(model_config(s2, task));
    try {
      load_weights(m, (dir / "best.safetensors").string(), "listops");
      FAIL("loaded a checkpoint of another shape");
    } catch (const CheckpointError& e) {
      const std::string msg = e.what();
      CHECK(msg.find("embedding") != std::string::npos);
      CHECK(msg.find("expected f32[") != std::string::npos);
      CHECK(msg.find("found f32[") != std::string::npos);
    }
  }
  SUBCASE("another model") {
    Settings s2 = s;
    s2.set("model", "linear", "test");
    LraModel m(model_config(s2, task));
    CHECK_THROWS_WITH_AS(load_weights(m, (dir / "best.safetensors").string(), "listops"),
                         doctest::Contains("holds model 'transformer'"), CheckpointError);
  }
  SUBCASE("a resume from a corrupt state sidecar") {
    std::string st = file_bytes(dir / "last.state.safetensors");
    st[st.size() - 5] ^= 0x01;
    lra_test::write_bytes(dir / "last.state.safetensors", st);
    CHECK_THROWS_WITH_AS(run(s, dir, nullptr, 0, true), doctest::Contains("corrupt"),
                         CheckpointError);
  }
  SUBCASE("not an lra_cpu checkpoint") {
    nn::save_safetensors(bad.string(), {{"x", Tensor::zeros({2})}});
    LraModel m(mc);
    CHECK_THROWS_WITH_AS(load_weights(m, bad.string(), "listops"),
                         doctest::Contains("not an lra_cpu checkpoint"), CheckpointError);
  }
}

namespace {
// Rewrites a checkpoint's metadata as an editor would (tensors and their checksums unchanged).
void edit_metadata(const fs::path& p,
                   const std::function<void(std::map<std::string, std::string>&)>& edit) {
  std::map<std::string, std::string> meta;
  nn::NamedTensors tensors = nn::load_safetensors(p.string(), &meta);
  edit(meta);
  nn::save_safetensors(p.string(), tensors, meta);
}
}  // namespace

TEST_CASE("trainer: an edited state record or metadata field is refused naming the field") {
  const Settings s = tiny_settings(8);
  fs::path ref = fresh_dir("trainer", "edit_ref"), dir = fresh_dir("trainer", "edit");
  run(s, ref);
  run(s, dir, nullptr, 6);  // stopped at step 6: epoch 0, cursor 24, adam_steps 6
  const fs::path state = dir / "last.state.safetensors";
  const std::string saved = file_bytes(state);
  auto resume_fails_with = [&](const std::string& key, const json& value, const char* says) {
    edit_metadata(state, [&](auto& meta) {
      json st = json::parse(meta.at("lra.state"));
      if (value.is_null())
        st.erase(key);
      else
        st[key] = value;
      meta["lra.state"] = st.dump();
    });
    CHECK_THROWS_WITH_AS(run(s, dir, nullptr, 0, true), doctest::Contains(says), CheckpointError);
    lra_test::write_bytes(state, saved);
  };
  resume_fails_with("cursor", "abc", "field cursor of its lra.state record is \"abc\"");
  resume_fails_with("cursor", 25, "field cursor");  // in range, but not where step 6 is
  resume_fails_with("epoch", 3, "field epoch");     // more epochs than 6 steps take
  resume_fails_with("step", 9, "field step");       // beyond the run's 8 steps
  resume_fails_with("adam_steps", 5, "field adam_steps");
  resume_fails_with("interval", nullptr, "field interval of its lra.state record is missing");
  resume_fails_with("elapsed_seconds", 1e6, "record does not match its checksum");
  // a metadata field: a step that is not a number, an edited task
  edit_metadata(state, [](auto& meta) { meta["step"] = "abc"; });
  CHECK_THROWS_WITH_AS(run(s, dir, nullptr, 0, true),
                       doctest::Contains("metadata field step is 'abc'"), CheckpointError);
  lra_test::write_bytes(state, saved);
  const std::string best = file_bytes(dir / "best.safetensors");
  edit_metadata(dir / "best.safetensors", [](auto& meta) { meta["step"] = std::to_string(3); });
  LraModel m(model_config(s, find_task("listops")));
  CHECK_THROWS_WITH_AS(load_weights(m, (dir / "best.safetensors").string(), "listops"),
                       doctest::Contains("metadata field step does not match its checksum"),
                       CheckpointError);
  lra_test::write_bytes(dir / "best.safetensors", best);
  // the untouched state resumes, past junk lines in metrics.jsonl, to the uninterrupted end
  std::ofstream(dir / "metrics.jsonl", std::ios::app) << "[1,2]\n7\n{\"step\":\"abc\"}\n";
  const TrainResult r = run(s, dir, nullptr, 0, true);
  CHECK(r.resumed_from == 6);
  CHECK(stable_metrics(dir) == stable_metrics(ref));
}

TEST_CASE("trainer: eval of the saved best checkpoint reproduces the recorded accuracies") {
  const Settings s = tiny_settings(8);
  fs::path dir = fresh_dir("trainer", "eval");
  fs::remove_all(dir);
  // eval needs the data folder recorded in config.json
  fs::path data_dir = fresh_dir("trainer", "eval_data");
  GenerateOptions g;
  g.train = 160, g.val = 32, g.test = 32, g.min_len = 10, g.max_len = 60;
  find_task("listops").generate(data_dir.string(), g);
  TaskData data = find_task("listops").load(data_dir.string(), 64);
  TrainOptions o;
  o.out_dir = dir.string();
  o.data_dir = data_dir.string();
  TrainResult r = train(s, find_task("listops"), data, o, {});
  RunEvalOptions eo;
  RunEval test = evaluate_run(dir.string(), eo);
  CHECK(test.has_recorded);
  CHECK(test.accuracy == r.test_accuracy);
  CHECK(test.accuracy == test.recorded);
  CHECK(test.checkpoint_step == r.best_step);
  // lines that are valid JSON but not records are skipped (with a warning), not fatal
  std::ofstream(dir / "metrics.jsonl", std::ios::app) << "[1,2]\n\"x\"\n{\"step\":\"abc\"}\n";
  eo.split = "val";
  RunEval val = evaluate_run(dir.string(), eo);
  CHECK(val.has_recorded);
  CHECK(val.accuracy == r.best_val_accuracy);
  eo.checkpoint = "last";
  RunEval last = evaluate_run(dir.string(), eo);
  CHECK(last.checkpoint_step == 8);
  CHECK(last.has_recorded);  // step 8 was evaluated on val
  CHECK(last.accuracy == last.recorded);

  // --predictions: one line per example that agrees with the accuracy and the loss
  eo.split = "test";
  eo.checkpoint = "best";
  eo.predictions = (dir / "predictions.tsv").string();
  const RunEval with = evaluate_run(dir.string(), eo);
  CHECK(with.accuracy == test.accuracy);
  std::ifstream f(eo.predictions);
  std::string line;
  REQUIRE(std::getline(f, line));
  CHECK(line.rfind("index\tlabel\tpredicted\tcorrect\tloss\tp_", 0) == 0);
  int64_t rows = 0, correct = 0;
  double loss = 0.0;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    int64_t index = -1;
    int label = -1, predicted = -1, right = -1;
    double l = -1.0, sum = 0.0, best = -1.0;
    in >> index >> label >> predicted >> right >> l;
    CHECK(index == rows);
    int argmax = -1;
    for (int c = 0; c < 10; ++c) {
      double q = -1.0;
      in >> q;
      if (q > best) best = q, argmax = c;
      sum += q;
    }
    CHECK(in);
    CHECK(predicted == argmax);
    CHECK(right == (label == predicted ? 1 : 0));
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-4));
    correct += right;
    loss += l;
    ++rows;
  }
  CHECK(rows == with.examples);
  CHECK(double(correct) / double(rows) == doctest::Approx(with.accuracy).epsilon(1e-12));
  CHECK(loss / double(rows) == doctest::Approx(with.loss).epsilon(1e-4));
  eo.predictions = (dir / "no_such_folder" / "p.tsv").string();
  CHECK_THROWS_WITH(evaluate_run(dir.string(), eo), doctest::Contains("no_such_folder"));
}

TEST_CASE("trainer: NaN stops the run naming the step and a parameter, after saving evidence") {
  Settings s = tiny_settings(6);
  s.set("lr", "1e30", "test");
  s.set("warmup", "0", "test");
  s.set("schedule", "constant", "test");
  fs::path dir = fresh_dir("trainer", "nan");
  fs::remove_all(dir);
  try {
    run(s, dir);
    FAIL("a run with lr 1e30 did not stop");
  } catch (const DivergedError& e) {
    const std::string msg = e.what();
    CHECK(e.step >= 2);
    CHECK(msg.find("at step " + std::to_string(e.step)) != std::string::npos);
    CHECK(!e.parameter.empty());
    CHECK(msg.find(e.parameter) != std::string::npos);
    CHECK(fs::exists(e.saved));
    json res = json::parse(read_file((dir / "results.json").string()));
    CHECK(res["status"] == "diverged");
    CHECK(res["step"] == e.step);
    // the last good checkpoint is still loadable
    LraModel m(model_config(s, find_task("listops")));
    CHECK_NOTHROW(load_weights(m, (dir / "last.safetensors").string(), "listops"));
  }
}

TEST_CASE("settings: TOML config files; unknown keys are errors naming them") {
  fs::path d = fresh_dir("trainer", "toml");
  lra_test::write_bytes(d / "ok.toml",
                        "task = \"listops\"\nlr = 0.002\nsteps = 30\nclip = 1\n"
                        "pooling = \"cls\"\n[attn]\nblock = 8\n");
  Settings s;
  s.load_toml((d / "ok.toml").string());
  CHECK(s.get("lr") == "0.002");
  CHECK(s.get_int("steps") == 30);
  CHECK(s.get("attn") == "block=8");
  CHECK(s.source("lr") == "config " + (d / "ok.toml").string());

  lra_test::write_bytes(d / "typo.toml", "task = \"listops\"\n\nlrr = 0.1\n");
  CHECK_THROWS_WITH_AS(s.load_toml((d / "typo.toml").string()),
                       doctest::Contains("typo.toml:3: unknown setting 'lrr' (did you mean lr"),
                       ConfigError);
  lra_test::write_bytes(d / "table.toml", "[optim]\nlr = 3\n");
  CHECK_THROWS_WITH_AS(s.load_toml((d / "table.toml").string()),
                       doctest::Contains("unknown setting 'optim'"), ConfigError);
  lra_test::write_bytes(d / "table2.toml", "[model]\ndim = 3\n");
  CHECK_THROWS_WITH_AS(s.load_toml((d / "table2.toml").string()),
                       doctest::Contains("tables and arrays are not settings"), ConfigError);
  lra_test::write_bytes(d / "syntax.toml", "lr = = 3\n");
  CHECK_THROWS_WITH_AS(s.load_toml((d / "syntax.toml").string()),
                       doctest::Contains("syntax.toml:1"), ConfigError);
  // a directory is not read as an empty file; a missing file is named
  CHECK_THROWS_WITH_AS(s.load_toml(d.string()), doctest::Contains("is a directory"), ConfigError);
  CHECK_THROWS_WITH_AS(s.load_toml((d / "nope.toml").string()),
                       doctest::Contains("nope.toml: cannot open file (No such file"), ConfigError);
  CHECK_THROWS_WITH_AS(s.set("stpes", "3", "flag --stpes"),
                       doctest::Contains("unknown setting 'stpes' (did you mean steps"),
                       ConfigError);
}

TEST_CASE("report: two real run folders in the Table 1 layout with the paper's numbers") {
  fs::path root = fresh_dir("trainer", "report");
  run(tiny_settings(4, 1), root / "seed-1");
  run(tiny_settings(4, 2), root / "seed-2");
  Report r = make_report({root.string()});
  REQUIRE(r.rows.size() == 1);
  CHECK(r.rows[0].model == "transformer");
  const ReportCell& c = r.rows[0].cells[0];
  REQUIRE(r.columns.size() == 1);
  CHECK(r.columns[0].task == "listops");
  CHECK(r.columns[0].title == "ListOps-" + std::to_string(r.columns[0].max_len));
  CHECK(r.columns[0].steps == 4);
  CHECK(r.columns[0].preset == "tiny");
  CHECK(r.columns[0].smoke);
  CHECK(c.n == 2);
  REQUIRE(c.paper.has_value());
  CHECK(*c.paper == doctest::Approx(36.37));
  RunInfo a = read_run((root / "seed-1").string()), b = read_run((root / "seed-2").string());
  CHECK(c.mean == doctest::Approx(50.0 * (a.test_accuracy + b.test_accuracy)));
  CHECK(!r.rows[0].average.has_value());  // only one of the five tasks
  const std::string md = r.markdown();
  CHECK(md.find("| Transformer |") != std::string::npos);
  CHECK(md.find("(paper 36.37)") != std::string::npos);
  CHECK(md.find("(paper 54.39)") != std::string::npos);
  CHECK(md.find("ListOps-64 (tiny, 4 steps, SMOKE RUN: not a result)") != std::string::npos);
  CHECK(md.find("| ListOps-64 | Transformer | tiny (smoke) | 4 | 16 |") != std::string::npos);
  json j = json::parse(r.json());
  CHECK(j["rows"][0]["cells"][0]["n"] == 2);
  CHECK(j["rows"][0]["cells"][0]["paper"] == doctest::Approx(36.37));
  CHECK(j["columns"][0]["task"] == "listops");
  CHECK(j["rows"][0]["cells"][0]["examples_seen"].get<int64_t>() ==
        a.steps * a.settings.get_int("batch"));
  CHECK_THROWS_AS(make_report({fresh_dir("trainer", "empty").string()}), ConfigError);

  // A generated data set's setting (the note a Pathfinder generator.json leaves) names the column.
  for (const char* seed : {"seed-1", "seed-2"}) {
    const std::string cfg = (root / seed / "config.json").string();
    json c = json::parse(lra::read_file(cfg));
    c["data"]["notes"].push_back("generated: style connected, contour length 6, size 32, seed 1");
    lra::write_file_atomic(cfg, c.dump(2));
  }
  Report g = make_report({root.string()});
  REQUIRE(g.columns.size() == 1);
  CHECK(g.columns[0].title == "ListOps-64 (style connected, contour length 6)");

  // Runs on data of another setting are another column, never one mean.
  const std::string cfg2 = (root / "seed-2" / "config.json").string();
  json c2 = json::parse(lra::read_file(cfg2));
  c2["data"]["notes"] = json::array({"generated: style connected, contour length 14, size 32"});
  lra::write_file_atomic(cfg2, c2.dump(2));
  Report two = make_report({root.string()});
  REQUIRE(two.columns.size() == 2);
  CHECK(two.rows[0].cells[0].n == 1);
  CHECK(two.rows[0].cells[1].n == 1);
  const std::string md2 = two.markdown();
  CHECK(md2.find("ListOps-64 (style connected, contour length 14)") != std::string::npos);
  CHECK(md2.find("ListOps-64 (style connected, contour length 6)") != std::string::npos);
}

TEST_CASE("svg: a line plot holds its series, labels and no NaN coordinates") {
  svg::Series train;
  train.label = "train";
  train.x = {1, 2, 3};
  train.y = {2.0, NAN, 1.0};
  svg::Plot p;
  p.title = "loss";
  p.series = {train};
  const std::string out = svg::render(p);
  CHECK(out.rfind("<svg", 0) == 0);
  CHECK(out.find("<path") != std::string::npos);
  CHECK(out.find(">train<") != std::string::npos);
  CHECK(out.find("nan") == std::string::npos);
  svg::Plot empty;
  CHECK(svg::render(empty).find("no data yet") != std::string::npos);
}
