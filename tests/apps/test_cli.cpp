// lra_cpu end to end (the built binary in a child process): unknown flags and config keys,
// kill -9 at a random step then --resume, Ctrl-C, eval and report commands, --seeds.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "apps/cli_run.hpp"
#include "lra/core/io.hpp"
#include "lra/lra/train/run.hpp"
#include "lra/run_metrics.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using lra_test::stable_metrics;

namespace {

fs::path scratch(const std::string& name) {
  return lra_test::fresh_scratch("cli", name);
}

struct Child {
  pid_t pid = -1;
  fs::path out, err;
};

// Starts lra_cpu with args in `cwd`, stdout/stderr to files (not a TTY: plain lines).
Child spawn(const std::vector<std::string>& args, const fs::path& cwd) {
  Child c;
  c.out = cwd / ("stdout-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
  c.err = c.out.string() + ".err";
  c.pid = ::fork();
  REQUIRE(c.pid >= 0);
  if (c.pid == 0) {
    if (::chdir(cwd.c_str()) != 0) ::_exit(120);
    int o = ::open(c.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = ::open(c.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(o, 1);
    ::dup2(e, 2);
    std::vector<char*> argv;
    std::string bin = LRA_CPU_BINARY;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  return c;
}

int wait_exit(const Child& c) {
  int status = 0;
  ::waitpid(c.pid, &status, 0);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

struct Result {
  int code;
  std::string out, err;
};
Result run(const std::vector<std::string>& args, const fs::path& cwd) {
  Child c = spawn(args, cwd);
  Result r{wait_exit(c), lra::read_file(c.out.string()), lra::read_file(c.err.string())};
  return r;
}

// A tiny ListOps run's flags (generated data cached under cwd/data/).
std::vector<std::string> tiny(const std::string& out, int steps,
                              const std::string& extra_seed = "1") {
  return {"train",
          "--task",
          "listops",
          "--preset",
          "tiny",
          "--steps",
          std::to_string(steps),
          "--layers",
          "1",
          "--dim",
          "16",
          "--qkv-dim",
          "16",
          "--mlp-dim",
          "32",
          "--batch",
          "4",
          "--gen-train",
          "160",
          "--gen-val",
          "32",
          "--gen-test",
          "32",
          "--gen-max-len",
          "60",
          "--gen-min-len",
          "10",
          "--max-len",
          "64",
          "--eval-every",
          "5",
          "--log-every",
          "2",
          "--eval-batches",
          "4",
          "--dropout",
          "0.1",
          "--threads",
          "1",
          "--save-every",
          "1",
          "--seed",
          extra_seed,
          "--out",
          out};
}

int64_t last_step(const fs::path& dir) {
  int64_t s = 0;
  for (const std::string& line : lra::read_metrics_lines(dir.string()))
    s = std::max<int64_t>(s, json::parse(line).value("step", int64_t(0)));
  return s;
}

}  // namespace

TEST_CASE("cli: an unknown flag or config key is an error that names it") {
  fs::path d = scratch("unknown");
  Result r = run({"train", "--task", "listops", "--lrr", "0.1"}, d);
  CHECK(r.code != 0);
  CHECK(r.err.find("--lrr") != std::string::npos);

  lra::write_file_atomic((d / "c.toml").string(), "preset = \"tiny\"\nwarmpu = 3\n");
  r = run({"train", "--config", "c.toml"}, d);
  CHECK(r.code == 2);
  CHECK(r.err.find("unknown setting 'warmpu'") != std::string::npos);
  CHECK(r.err.find("c.toml:2") != std::string::npos);
}

TEST_CASE("cli: --config naming a directory or a missing file stops before any run, exit 2") {
  fs::path d = scratch("config_dir");
  fs::create_directories(d / "conf");
  for (const char* arg : {"conf", "missing.toml"}) {
    Result r = run({"train", "--task", "listops", "--config", arg, "--out", "run"}, d);
    CHECK(r.code == 2);
    CHECK(r.err.find(std::string("--config ") + arg) != std::string::npos);
    CHECK(!fs::exists(d / "run"));
    CHECK(!fs::exists(d / "data"));
  }
}

TEST_CASE("cli: a configuration too large for the machine stops before data or model, exit 2") {
  fs::path d = scratch("memory");
  Result r = run({"train", "--task", "listops", "--max-len", "1000000000", "--out", "run"}, d);
  CHECK(r.code == 2);
  CHECK_MESSAGE(r.err.find("lower --layers (2), --dim (64), --max-len (1000000000) or --batch") !=
                    std::string::npos,
                r.err);
  CHECK(!fs::exists(d / "data"));  // nothing generated
  CHECK(!fs::exists(d / "run"));
}

TEST_CASE("cli: --config sets values, flags override it, config.json records the sources") {
  fs::path d = scratch("config");
  lra::write_file_atomic((d / "c.toml").string(), "steps = 3\nlr = 0.003\nseed = 7\n");
  std::vector<std::string> args = tiny("run", 3);
  // drop --seed from the tiny flags so the config's seed applies; override lr by flag
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i] == "--seed") args.erase(args.begin() + long(i), args.begin() + long(i) + 2);
  args.insert(args.end(), {"--config", "c.toml", "--lr", "0.004"});
  Result r = run(args, d);
  REQUIRE_MESSAGE(r.code == 0, r.err);
  json cfg = json::parse(lra::read_file((d / "run/config.json").string()));
  CHECK(cfg["settings"]["seed"]["value"] == "7");
  CHECK(cfg["settings"]["seed"]["source"] == "config c.toml");
  CHECK(cfg["settings"]["lr"]["value"] == "0.004");
  CHECK(cfg["settings"]["lr"]["source"] == "flag --lr");
  CHECK(cfg.contains("versions"));
  CHECK(cfg["data_dir"].get<std::string>().size() > 0);
}

TEST_CASE("cli: kill -9 at a random step, then --resume, equals the uninterrupted run") {
  fs::path d = scratch("kill");
  const int steps = 24;
  Result ref = run(tiny("ref", steps), d);
  REQUIRE_MESSAGE(ref.code == 0, ref.err);

  std::mt19937 rng(std::random_device{}());
  const int kill_at = 3 + int(rng() % (steps - 8));
  Child c = spawn(tiny("cut", steps), d);
  const auto t0 = std::chrono::steady_clock::now();
  while (last_step(d / "cut") < kill_at &&
         std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ::kill(c.pid, SIGKILL);
  CHECK(wait_exit(c) == 128 + SIGKILL);
  MESSAGE("killed at step " << last_step(d / "cut") << " (target " << kill_at << ")");
  if (fs::exists(d / "cut/results.json")) {
    MESSAGE("the run finished before the kill landed; nothing to resume");
    return;
  }
  Result res = run({"train", "--resume", "cut"}, d);
  REQUIRE_MESSAGE(res.code == 0, res.err);
  CHECK(res.out.find("resuming cut at step") != std::string::npos);
  CHECK(stable_metrics(d / "ref") == stable_metrics(d / "cut"));
  CHECK(lra::read_file((d / "ref/last.safetensors").string()) ==
        lra::read_file((d / "cut/last.safetensors").string()));
  json a = json::parse(lra::read_file((d / "ref/results.json").string()));
  json b = json::parse(lra::read_file((d / "cut/results.json").string()));
  CHECK(a["test_accuracy"] == b["test_accuracy"]);
  CHECK(a["best_step"] == b["best_step"]);

  // eval reproduces the recorded test accuracy exactly
  Result ev = run({"eval", "--run", "cut"}, d);
  CHECK_MESSAGE(ev.code == 0, (ev.out + ev.err));
  CHECK(ev.out.find("reproduced exactly") != std::string::npos);
  ev = run({"eval", "--run", "cut", "--split", "val", "--checkpoint", "last"}, d);
  CHECK_MESSAGE(ev.code == 0, (ev.out + ev.err));
  CHECK(ev.out.find("reproduced exactly") != std::string::npos);

  // a resumed run keeps its settings
  Result bad = run({"train", "--resume", "cut", "--lr", "0.5"}, d);
  CHECK(bad.code == 2);
  CHECK(bad.err.find("keeps its settings") != std::string::npos);
}

TEST_CASE("cli: a second process on a running run folder is refused naming the holder's pid") {
  fs::path d = scratch("lock");
  Child first = spawn(tiny("run", 400), d);
  const auto t0 = std::chrono::steady_clock::now();
  while (last_step(d / "run") < 2 &&
         std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ::kill(first.pid, SIGSTOP);  // still alive, still holding the lock, not finishing
  const std::string config = lra::read_file((d / "run/config.json").string());
  const std::string holder = "in use by process " + std::to_string(first.pid);
  for (const auto& args :
       {tiny("run", 400, "2"), std::vector<std::string>{"train", "--resume", "run"}}) {
    Result r = run(args, d);
    CHECK(r.code == 4);
    CHECK_MESSAGE(r.err.find(holder) != std::string::npos, r.err);
  }
  CHECK(lra::read_file((d / "run/config.json").string()) == config);  // nothing written
  ::kill(first.pid, SIGKILL);
  CHECK(wait_exit(first) == 128 + SIGKILL);
  // the OS released the dead holder's lock: a resume takes it (then SIGINT stops it)
  Child again = spawn({"train", "--resume", "run"}, d);
  const auto t1 = std::chrono::steady_clock::now();
  auto said = [&] {  // the child may not have opened its output file yet
    return fs::exists(again.out) &&
           lra::read_file(again.out.string()).find("resuming run at step") != std::string::npos;
  };
  while (!said() && std::chrono::steady_clock::now() - t1 < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(again.pid, SIGINT);
  const int code = wait_exit(again);
  CHECK((code == 130 || code == 0));
  CHECK(said());
}

TEST_CASE("cli: SIGINT and SIGTERM save last and exit 130 and 143; the run can resume") {
  for (const int sig : {SIGINT, SIGTERM}) {
    CAPTURE(sig);
    fs::path d = scratch("signal" + std::to_string(sig));
    const int steps = 400;
    std::vector<std::string> args = tiny("run", steps);
    Child c = spawn(args, d);
    const auto t0 = std::chrono::steady_clock::now();
    while (last_step(d / "run") < 4 &&
           std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60))
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ::kill(c.pid, sig);
    const int code = wait_exit(c);
    if (code == 0) continue;  // finished before the signal
    CHECK(code == 128 + sig);
    const std::string out = lra::read_file(c.out.string());
    CHECK(out.find(sig == SIGINT ? "stopped by SIGINT" : "stopped by SIGTERM") !=
          std::string::npos);
    CHECK(out.find("continue with: lra_cpu train --resume run") != std::string::npos);
    std::map<std::string, std::string> meta;
    lra::load_checked((d / "run/last.state.safetensors").string(), &meta);
    CHECK(std::stoll(meta.at("step")) >= 4);
    CHECK(!fs::exists(d / "run/results.json"));
  }
}

TEST_CASE("cli: --seeds records mean and std; report builds Table 1 from the folders") {
  fs::path d = scratch("seeds");
  std::vector<std::string> args = tiny("multi", 4);
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i] == "--seed") args.erase(args.begin() + long(i), args.begin() + long(i) + 2);
  args.insert(args.end(), {"--seeds", "1,2"});
  Result r = run(args, d);
  REQUIRE_MESSAGE(r.code == 0, r.err);
  json s = json::parse(lra::read_file((d / "multi/seeds.json").string()));
  CHECK(s["runs"].size() == 2);
  CHECK(s["test_accuracy"].contains("mean"));
  CHECK(s["test_accuracy"].contains("std"));
  json c1 = json::parse(lra::read_file((d / "multi/seed-1/config.json").string()));
  json c2 = json::parse(lra::read_file((d / "multi/seed-2/config.json").string()));
  CHECK(c1["data_dir"] == c2["data_dir"]);  // one data set for every seed
  Result rep = run({"report", "multi", "--json", "table.json"}, d);
  REQUIRE_MESSAGE(rep.code == 0, rep.err);
  CHECK(rep.out.find("| Transformer |") != std::string::npos);
  CHECK(rep.out.find("(n=2)") != std::string::npos);
  CHECK(rep.out.find("(paper 36.37)") != std::string::npos);
  json t = json::parse(lra::read_file((d / "table.json").string()));
  CHECK(t["rows"][0]["cells"][0]["n"] == 2);
}

namespace {

// `lra_cpu suite` of a tiny ListOps grid (small model, small generated data set).
std::vector<std::string> tiny_suite(const std::string& out, const std::string& models,
                                    const std::string& seeds, int steps) {
  std::vector<std::string> v = {"suite",   "--tasks", "listops",  "--models", models,
                                "--seeds", seeds,     "--preset", "tiny",     "--jobs",
                                "2",       "--out",   out};
  for (const std::string kv :
       {"layers=1", "dim=16", "qkv_dim=16", "mlp_dim=32", "batch=4", "gen_train=160", "gen_val=32",
        "gen_test=32", "gen_max_len=60", "gen_min_len=10", "max_len=64", "eval_every=50",
        "log_every=10", "eval_batches=4", "save_every=10"})
    v.insert(v.end(), {"--set", kv});
  v.insert(v.end(), {"--set", "steps=" + std::to_string(steps)});
  return v;
}

double test_accuracy(const fs::path& run) {
  return json::parse(lra::read_file((run / "results.json").string()))["test_accuracy"];
}

}  // namespace

TEST_CASE("cli: suite runs the grid on one shared data set, skips finished cells, reports") {
  fs::path d = scratch("suite");
  Result r = run(tiny_suite("grid", "transformer,linear", "1,2", 8), d);
  REQUIRE_MESSAGE(r.code == 0, r.out << r.err);
  CHECK(r.out.find("4 cells (1 tasks x 2 models x 2 seeds), 0 done, 4 to run") !=
        std::string::npos);
  for (const char* cell :
       {"transformer/seed1", "transformer/seed2", "linear/seed1", "linear/seed2"}) {
    const fs::path run = d / "grid/listops" / cell;
    REQUIRE(fs::exists(run / "results.json"));
    json cfg = json::parse(lra::read_file((run / "config.json").string()));
    CHECK(cfg["data_dir"] == fs::weakly_canonical(d / "grid/data/listops").string());
  }
  json rep = json::parse(lra::read_file((d / "grid/report.json").string()));
  REQUIRE(rep["rows"].size() == 2);
  CHECK(rep["rows"][0]["cells"][0]["n"] == 2);
  CHECK(rep["columns"][0]["smoke"] == true);
  CHECK(lra::read_file((d / "grid/report.md").string()).find("SMOKE RUN") != std::string::npos);

  // Again: nothing to do, nothing rewritten.
  const std::string before =
      lra::read_file((d / "grid/listops/linear/seed2/results.json").string());
  Result again = run(tiny_suite("grid", "transformer,linear", "1,2", 8), d);
  REQUIRE(again.code == 0);
  CHECK(again.out.find("4 done, 0 to run") != std::string::npos);
  CHECK(lra::read_file((d / "grid/listops/linear/seed2/results.json").string()) == before);
}

TEST_CASE("cli: a suite stopped by SIGINT resumes its cell to the uninterrupted result") {
  fs::path d = scratch("suite_sigint");
  const int steps = 600;
  Result ref = run(tiny_suite("ref", "transformer", "1", steps), d);
  REQUIRE_MESSAGE(ref.code == 0, ref.out << ref.err);
  Child c = spawn(tiny_suite("grid", "transformer", "1", steps), d);
  const fs::path cell = d / "grid/listops/transformer/seed1";
  const auto t0 = std::chrono::steady_clock::now();
  while (last_step(cell) < 20 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ::kill(c.pid, SIGINT);
  const int code = wait_exit(c);
  if (code == 0) return;  // the cell finished before the signal
  CHECK(code == 130);
  CHECK(!fs::exists(cell / "results.json"));
  Result again = run(tiny_suite("grid", "transformer", "1", steps), d);
  REQUIRE_MESSAGE(again.code == 0, again.out << again.err);
  CHECK(again.out.find("suite: resume listops/transformer seed 1") != std::string::npos);
  CHECK(test_accuracy(cell) == test_accuracy(d / "ref/listops/transformer/seed1"));
  CHECK(stable_metrics(cell).back() == stable_metrics(d / "ref/listops/transformer/seed1").back());
}

TEST_CASE("cli: suite refuses bad flags before any work, exit 2") {
  fs::path d = scratch("suite_bad");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--tasks", "lisops"}, "lisops"},
      {{"--models", "transfomer"}, "transfomer"},
      {{"--set", "stpes=3"}, "did you mean steps"},
      {{"--set", "model=linear"}, "--models"},
      {{"--data", "listops"}, "NAME=VALUE"},
      {{"--data", "listops=nowhere"}, "no such folder"},
      {{"--jobs", "0"}, "--jobs"}};
  for (const auto& [extra, message] : cases) {
    std::vector<std::string> args = tiny_suite("grid", "transformer", "1", 5);
    auto same = std::find(args.begin(), args.end(), extra[0]);
    if (same != args.end() && extra[0] != "--set")
      *(same + 1) = extra[1];  // replace the flag's value
    else
      args.insert(args.end(), extra.begin(), extra.end());
    Result r = run(args, d);
    CHECK_MESSAGE(r.code == 2, extra.back());
    CHECK_MESSAGE(r.err.find(message) != std::string::npos, r.err);
    CHECK(!fs::exists(d / "grid/data"));
  }
}

TEST_CASE("cli: bench --baseline measures both binaries and prints their ratio") {
  const fs::path dir = scratch("bench-baseline");
  Result r = run({"bench",     "--preset", "tiny",       "--batch",      "1",
                  "--lengths", "16",       "--models",   "transformer",  "--steps",
                  "2",         "--warmup", "1",          "--budget",     "0",
                  "--threads", "1",        "--baseline", LRA_CPU_BINARY, "--repeats",
                  "2",         "--out",    "b"},
                 dir);
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.err.find("baseline") != std::string::npos);
  CHECK(r.out.find("Against the baseline binary") != std::string::npos);
  json j = json::parse(lra::read_file((dir / "b" / "bench.json").string()));
  const json& x = j["results"][0];
  CHECK(x["runs"] == 2);
  CHECK(x["baseline"]["runs"] == 2);
  CHECK(x["baseline"]["step_ms"].size() == x["step_ms"].size());
  const double ratio = x["speedup_vs_baseline"].get<double>();
  CHECK(std::isfinite(ratio));
  CHECK(ratio > 0);
  CHECK(x["cpu_speedup_vs_baseline"].get<double>() > 0);
  CHECK(x["flops_per_step"].get<double>() > 0);
  CHECK(x["sgemm_gflops"].get<double>() > 0);

  Result bad = run({"bench", "--lengths", "16", "--baseline", "/no/such/lra_cpu"}, dir);
  CHECK(bad.code != 0);
  CHECK(bad.err.find("--baseline /no/such/lra_cpu is not an executable") != std::string::npos);
}

TEST_CASE("cli: bench --baseline-threads runs the baseline with other threads (thread scaling)") {
  const fs::path dir = scratch("bench-baseline-threads");
  Result r = run({"bench",     "--preset",  "tiny",       "--batch",      "1",
                  "--lengths", "16",        "--models",   "transformer",  "--steps",
                  "2",         "--warmup",  "1",          "--budget",     "0",
                  "--threads", "2",         "--baseline", LRA_CPU_BINARY, "--baseline-threads",
                  "1",         "--repeats", "1",          "--out",        "b"},
                 dir);
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK_MESSAGE(r.out.find("run with 1 thread(s), ours with 2") != std::string::npos, r.out);
  json j = json::parse(lra::read_file((dir / "b" / "bench.json").string()));
  CHECK(j["baseline_threads"] == 1);
  const json& x = j["results"][0];
  CHECK(x["config"]["threads"] == 2);
  CHECK(x["baseline"]["threads"] == 1);
  CHECK(x["speedup_vs_baseline"].get<double>() > 0);

  Result bad = run({"bench", "--lengths", "16", "--baseline-threads", "1"}, dir);
  CHECK(bad.code == 2);
  CHECK_MESSAGE(bad.err.find("--baseline-threads needs --baseline") != std::string::npos, bad.err);
}

TEST_CASE("cli: a suite with a failed cell exits 8 and names the cell") {
  fs::path d = scratch("suite_failed");
  // max_len 4 leaves out every generated expression (10-60 tokens): the cell's training stops
  // with a configuration error (exit 2) naming max_len.
  std::vector<std::string> args = tiny_suite("grid", "transformer", "1", 8);
  std::replace(args.begin(), args.end(), std::string("max_len=64"), std::string("max_len=4"));
  Result r = run(args, d);
  CHECK_MESSAGE(r.code == 8, r.out << r.err);
  CHECK_MESSAGE(
      r.err.find("suite: cell grid/listops/transformer/seed1 failed (exit 2)") != std::string::npos,
      r.err);
  CHECK(r.out.find("(1 failed)") != std::string::npos);
  CHECK_FALSE(fs::exists(d / "grid/report.md"));
}
