// The metadata of a checkpoint file, checked: a checksum per metadata field, the "step" field,
// and the "lra.state" record of last.state.safetensors (types and ranges of every field, then
// its own checksum). An edited field is a CheckpointError naming the file and the field.
//
// Files of versions without these checksums are accepted as they are.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace lra {

// 64-bit FNV-1a of bytes, as 16 hex digits.
std::string bytes_checksum(std::string_view bytes);

// Adds "lra.meta_checksums": a checksum of every field but lra.state (which checks its own).
void add_metadata_checksums(std::map<std::string, std::string>& meta);
// Checks "step" (a non-negative integer) and every field against lra.meta_checksums.
void check_metadata(const std::string& path, const std::map<std::string, std::string>& meta);

// Sets "lra.state" to the record and "lra.state_checksum" to its checksum.
void add_state_record(std::map<std::string, std::string>& meta, const nlohmann::json& record);
// Parses and validates the "lra.state" record of `path` (see lra/src/train/trainer.cpp, save_last):
// field types; step <= settings.steps; cursor <= n_train; epoch and cursor at step x batch
// examples; adam_steps = step; best_step <= step; then the record's checksum.
nlohmann::json read_state_record(const std::string& path,
                                 const std::map<std::string, std::string>& meta);

}  // namespace lra
