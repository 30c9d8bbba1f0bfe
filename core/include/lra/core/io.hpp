// File I/O helpers: every write is atomic (temp file in the same folder, fsync, rename), so
// a crash or kill -9 leaves either the old file or the new one, never a torn one.
#pragma once
#include <string>
#include <string_view>

namespace lra {

void write_file_atomic(const std::string& path, std::string_view content);
std::string read_file(const std::string& path);  // IoError naming the path when unreadable
void make_dirs(const std::string& path);         // mkdir -p; IoError on failure

}  // namespace lra
