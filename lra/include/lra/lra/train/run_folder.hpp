// Starting a run in a folder: one writer at a time, and what a folder may already hold.
//
// Note [one writer per run folder]. Every writing run (train, train --resume) holds an
// exclusive flock on RUN/.lock for its whole life; the OS releases it on any death (kill -9,
// crash, full disk), so a stale lock never blocks. A second process gets a CheckpointError
// naming the holder's pid before it writes anything.
//
// Note [a run stopped before its first save]. A kill (or a full disk) between writing
// config.json and the first last.state.safetensors leaves a folder with no checkpoint and no
// results. Both ways out work: `train --resume RUN` starts it again from step 0 with its
// recorded settings, and `train --out RUN` reuses it; each says so.
#pragma once
#include <functional>
#include <string>

#include "lra/core/io.hpp"

namespace lra {

namespace run_files {
inline const char* const lock = ".lock";
}  // namespace run_files

// Takes `lock` on dir/.lock (making `dir` for a new run). CheckpointError naming the pid of
// the process that holds it.
void lock_run_folder(FileLock& lock, const std::string& dir, bool resume);

// Does `dir` hold a run a new `train --out dir` would overwrite (a checkpoint, results or
// metrics lines)? Reads only; `train` asks it before any work.
bool holds_run(const std::string& dir);

// Decides how a run starts in `dir` (locked): true = continue from last.state.safetensors,
// false = start at step 0. Refuses a new run in a folder that holds one (ConfigError) and a
// resume of a folder with results or checkpoints but no state (CheckpointError); logs a note
// when it restarts or reuses a folder that holds no checkpoint (Note [a run stopped before its
// first save]). Removes temp files of writes a kill interrupted.
bool prepare_run_folder(const std::string& dir, bool resume,
                        const std::function<void(const std::string&)>& log);

}  // namespace lra
