// What a newcomer meets first (the built binary): one table of exit codes in --help, a typo'd
// command answered with the nearest one, every flag checked before any data is read or model
// built, typed help for train's settings, and the data sources of tasks that need a download.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "apps/cli_run.hpp"
#include "lra/core/io.hpp"

namespace fs = std::filesystem;
using lra_test::run_cli;

namespace {

fs::path scratch_dir(const std::string& name) {
  return lra_test::fresh_scratch("first_hour", name);
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("cli: --help shows the exit code table") {
  const auto r = run_cli(scratch_dir("help"), "--help");
  CHECK(r.code == 0);
  CHECK(has(r.out, "Exit codes:"));
  for (const char* line : {"  2    bad command", "  3    bad data", "  4    bad checkpoint",
                           "  130  stopped by SIGINT", "  143  stopped by SIGTERM"})
    CHECK_MESSAGE(has(r.out, line), line);
}

TEST_CASE("cli: a typo'd command gets 'did you mean', exit 2") {
  const fs::path d = scratch_dir("typo");
  auto r = run_cli(d, "trian");
  CHECK(r.code == 2);
  CHECK(has(r.err, "unknown command 'trian' (did you mean train?)"));
  r = run_cli(d, "data chek --task listops");
  CHECK(r.code == 2);
  CHECK(has(r.err, "unknown command 'chek' of 'data' (did you mean check?)"));
  r = run_cli(d, "info");  // a known command still runs
  CHECK(r.code == 0);
}

TEST_CASE("cli: CLI11's own parse errors exit 2, not CLI11's codes") {
  const fs::path d = scratch_dir("parse");
  auto r = run_cli(d, "train --no-such-flag 1");
  CHECK(r.code == 2);
  CHECK(has(r.err, "--no-such-flag"));
  r = run_cli(d, "eval --threads abc --run nowhere");
  CHECK(r.code == 2);
  r = run_cli(d, "data generate");  // a required argument missing
  CHECK(r.code == 2);
}

TEST_CASE("cli: every flag is checked before data is read or a model built") {
  const fs::path d = scratch_dir("early");
  // --data names a folder that does not exist: the error must still be about --steps
  auto r = run_cli(d, "train --task listops --steps abc --data no-such-folder");
  CHECK(r.code == 2);
  CHECK(has(r.err, "steps = 'abc'"));
  CHECK_FALSE(has(r.err, "no-such-folder"));
  CHECK_FALSE(has(r.out, "reading"));
  // an --out folder that holds a run is refused before the data (missing here) is read
  fs::create_directories(d / "old");
  lra::write_file_atomic((d / "old" / "results.json").string(), "{}\n");
  r = run_cli(d, "train --task listops --preset tiny --out old --data no-such-folder");
  CHECK(r.code == 2);
  CHECK(has(r.err, "old already holds a run: continue it with --resume old"));
  CHECK_FALSE(has(r.out, "reading"));
}

TEST_CASE("cli: tasks whose data cannot be generated say where it comes from") {
  const fs::path d = scratch_dir("sources");
  auto r = run_cli(d, "train --task text --preset tiny");
  CHECK(r.code == 2);
  CHECK(has(r.err, "needs --data DIR"));
  CHECK(has(r.err, "aclImdb_v1.tar.gz"));
  CHECK(has(r.err, "train/{neg,pos}/*.txt"));
  CHECK_FALSE(has(r.out, "memory:"));  // said before any other work
  r = run_cli(d, "train --task retrieval --preset tiny");
  CHECK(r.code == 2);
  CHECK(has(r.err, "lra_release.gz"));
  CHECK(has(r.err, "new_aan_pairs"));
  r = run_cli(d, "tasks");
  CHECK(r.code == 0);
  CHECK(has(r.out, "cifar-10-binary.tar.gz"));
  CHECK(has(r.out, "from: generated (lra_cpu data generate listops --out DIR)"));
}

TEST_CASE("cli: train --help shows types and the values a run will use") {
  const auto r = run_cli(scratch_dir("typed"), "train --help");
  CHECK(r.code == 0);
  CHECK(has(r.out, "--steps INT"));
  CHECK(has(r.out, "--lr FLOAT"));
  CHECK(has(r.out, "--model TEXT"));
  CHECK(has(r.out, "--reversible [=true|false]"));
  CHECK(has(r.out, "[preset; listops/cpu: 3000]"));  // steps: what `train` alone runs
  CHECK_FALSE(has(r.out, "--steps TEXT"));
  CHECK_FALSE(has(r.out, "[default 1000]"));  // the schema's steps default is never used
}

TEST_CASE("cli: data generate takes --threads like every other command") {
  const fs::path d = scratch_dir("gen");
  const auto r = run_cli(d,
                         "data generate listops --threads 1 --train 20 --val 5 --test 5 "
                         "--min-len 5 --max-len 30 --out g");
  CHECK_MESSAGE(r.code == 0, r.err);
  CHECK(fs::exists(d / "g" / "basic_train.tsv"));
}

TEST_CASE("cli: completion prints a bash script that completes commands and flags") {
  const fs::path d = scratch_dir("completion");
  const auto r = run_cli(d, "completion");
  REQUIRE(r.code == 0);
  lra::write_file_atomic((d / "lra_cpu.bash").string(), r.out);
  const std::string probe =
      "cd '" + d.string() +
      "' && bash -c 'source lra_cpu.bash; COMP_WORDS=(lra_cpu data gen); COMP_CWORD=2; "
      "_lra_cpu; echo \"${COMPREPLY[@]}\"; COMP_WORDS=(lra_cpu train --reve); COMP_CWORD=2; "
      "_lra_cpu; echo \"${COMPREPLY[@]}\"' > words.txt";
  CHECK(std::system(probe.c_str()) == 0);
  CHECK(lra::read_file((d / "words.txt").string()) == "generate\n--reversible\n");
}

TEST_CASE("cli: man prints a page that names every command and renders with man -l") {
  const fs::path d = scratch_dir("man");
  const auto r = run_cli(d, "man");
  REQUIRE(r.code == 0);
  CHECK(r.out.rfind(".TH LRA_CPU 1", 0) == 0);
  // Every command --help lists, and the subcommands of data, each with its own section.
  const auto help = run_cli(d, "--help");
  REQUIRE(help.code == 0);
  const size_t from = help.out.find("Subcommands:\n");
  REQUIRE(from != std::string::npos);
  int commands = 0;
  size_t at = from + 13;
  while (at < help.out.size() && help.out.compare(at, 2, "  ") == 0) {
    const size_t end = help.out.find(' ', at + 2);
    std::string name;  // as roff writes it: a hyphen is "\-"
    for (char c : help.out.substr(at + 2, end - at - 2))
      name += c == '-' ? "\\-" : std::string(1, c);
    CHECK_MESSAGE(has(r.out, ".SS \"lra_cpu " + name + "\""), name);
    ++commands;
    at = help.out.find('\n', at) + 1;
  }
  CHECK(commands >= 13);
  CHECK(has(r.out, ".SS \"lra_cpu data generate\""));
  CHECK(has(r.out, ".SS \"lra_cpu data check\""));
  CHECK_FALSE(has(r.out, "lra_cpu man\""));  // hidden: for the build
  CHECK(has(r.out, ".SH EXIT STATUS"));
  // man renders it (when man is installed): the NAME line and train's flags come out.
  lra::write_file_atomic((d / "lra_cpu.1").string(), r.out);
  if (std::system("command -v man >/dev/null 2>&1") == 0) {
    const std::string render = "cd '" + d.string() +
                               "' && MANWIDTH=100 MAN_KEEP_FORMATTING= man -l lra_cpu.1 2>err.txt "
                               "| col -b > page.txt";
    REQUIRE(std::system(render.c_str()) == 0);
    const std::string page = lra::read_file((d / "page.txt").string());
    CHECK(has(page, "lra_cpu - Long-Range-Arena"));
    CHECK(has(page, "--reversible"));
    CHECK(lra::read_file((d / "err.txt").string()).empty());  // no roff warnings
  }
}
