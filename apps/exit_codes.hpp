// lra_cpu's exit codes: one table for every command, printed by `lra_cpu --help` and copied
// in the README. main() maps each error type to its code; CLI11's own parse errors are 2.
#pragma once

namespace lra::app::exit_code {

constexpr int ok = 0;
constexpr int internal = 1;        // any other exception: a bug
constexpr int usage = 2;           // command, flag, setting, --config file (ConfigError, CLI11)
constexpr int data = 3;            // data folder or file (DataError)
constexpr int checkpoint = 4;      // checkpoint or run folder (CheckpointError)
constexpr int diverged = 5;        // NaN/Inf loss or gradient (DivergedError)
constexpr int not_reproduced = 6;  // eval: the accuracy differs from the recorded one
constexpr int io = 7;              // a file could not be written (IoError)
constexpr int cells_failed = 8;    // suite: a cell's training failed (each named with its log)
constexpr int sigint = 130;        // 128 + SIGINT: `last` saved, continue with --resume
constexpr int sigterm = 143;       // 128 + SIGTERM: the same

inline constexpr const char* table =
    "Exit codes:\n"
    "  0    done\n"
    "  1    internal error (a bug: please report it with the command)\n"
    "  2    bad command, flag, setting or --config file (the message names it)\n"
    "  3    bad data: a data folder or file is missing or malformed (named with its line)\n"
    "  4    bad checkpoint or run folder (missing, corrupt, or in use by another run)\n"
    "  5    training diverged: NaN/Inf loss or gradient (step and parameter named)\n"
    "  6    eval: the accuracy differs from the one training recorded\n"
    "  7    a file could not be written (disk full, permissions)\n"
    "  8    suite: a cell failed (each failed cell is named, with its exit code and log)\n"
    "  130  stopped by SIGINT (Ctrl-C): `last` saved; continue with train --resume RUN\n"
    "  143  stopped by SIGTERM: the same\n";

}  // namespace lra::app::exit_code
