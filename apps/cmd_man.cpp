// lra_cpu man: the manual page lra_cpu(1) as roff, built from the CLI11 command tree and its
// help text, so it never drifts from `--help`. The build writes it next to the binary and
// `cmake --install` puts it in share/man/man1/lra_cpu.1 (read it with `man -l lra_cpu.1`).
// Hidden from the command list: it is for the build, not for users.
#include <cstdio>
#include <string>
#include <string_view>

#include "commands.hpp"
#include "exit_codes.hpp"

#ifndef LRA_VERSION
#define LRA_VERSION "0.0.0"
#endif

namespace lra::app {
namespace {

// Text safe for roff: backslashes escaped, and no line starting with a control character.
std::string roff_escape(std::string_view text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else
      out += c;
    line_start = c == '\n';
  }
  return out;
}

// Preformatted help text: kept line by line, as --help prints it.
std::string verbatim(std::string_view text) {
  std::string body = roff_escape(text);
  if (!body.empty() && body.back() != '\n') body += '\n';
  return ".nf\n" + body + ".fi\n";
}

bool visible(const CLI::App* sub) {
  return !sub->get_group().empty();
}

// One ".TP" entry per command, depth first ("lra_cpu data generate").
void command_list(const CLI::App& at, const std::string& path, std::string& out) {
  for (const CLI::App* sub : at.get_subcommands(visible)) {
    const std::string name = path + " " + sub->get_name();
    out += ".TP\n.B " + roff_escape(name) + "\n" + roff_escape(sub->get_description()) + "\n";
    command_list(*sub, name, out);
  }
}

// Each command's own --help text, under its name.
void command_help(const CLI::App& at, const std::string& path, std::string& out) {
  for (const CLI::App* sub : at.get_subcommands(visible)) {
    const std::string name = path + " " + sub->get_name();
    out += ".SS \"" + roff_escape(name) + "\"\n" + verbatim(sub->help());
    command_help(*sub, name, out);
  }
}

std::string man_page(const CLI::App& app) {
  std::string description = app.get_description();
  if (description.rfind("lra_cpu: ", 0) == 0) description.erase(0, 9);
  std::string page = ".TH LRA_CPU 1 \"\" \"lra_cpu " LRA_VERSION "\" \"User Commands\"\n";
  page += ".SH NAME\nlra_cpu \\- " + roff_escape(description) + "\n";
  page +=
      ".SH SYNOPSIS\n.B lra_cpu\n.I command\n[\\fIoptions\\fR]\n.br\n.B lra_cpu\n"
      "[\\fB\\-\\-help\\fR] [\\fB\\-\\-version\\fR]\n";
  page +=
      ".SH DESCRIPTION\nTrains, evaluates and measures the efficient Transformers of the "
      "Long-Range Arena on CPU, from a tensor engine with autograd written for it. Every "
      "setting is a flag, a key of a TOML \\fB\\-\\-config\\fR file, or comes from the "
      "task's preset; `lra_cpu COMMAND \\-\\-help` prints what follows for one command.\n";
  page += ".SH COMMANDS\n";
  command_list(app, "lra_cpu", page);
  page += ".SH OPTIONS\n";
  command_help(app, "lra_cpu", page);
  page += ".SH EXIT STATUS\n" + verbatim(exit_code::table);
  page +=
      ".SH FILES\n.TP\n.I runs/NAME/\na run folder: config.json, metrics.jsonl, "
      "best.safetensors, last.safetensors, results.json\n.TP\n.I data/\nwhere data "
      "folders are looked up by default\n";
  page +=
      ".SH SEE ALSO\nThe README and docs/ of the lra_cpu sources; "
      "\\fBlra_cpu completion\\fR prints a bash completion script.\n";
  return page;
}

}  // namespace

void add_man_command(CLI::App& app, Action& action) {
  app.add_subcommand("man", "print the manual page lra_cpu(1) as roff")
      ->group("")  // hidden
      ->callback([&app, &action]() {
        action = [&app]() {
          std::fputs(man_page(app).c_str(), stdout);
          return 0;
        };
      });
}

}  // namespace lra::app
