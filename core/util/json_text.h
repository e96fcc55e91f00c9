// JSON from outside files (SegMatching, palettes, annotation review files), parsed with
// limits. nlohmann's parser itself is iterative, but dump() and the code that walks a
// document recurse, so a file nesting arrays a million deep could overflow the stack; and
// nlohmann silently keeps only the last of two equal keys, which hides a malformed file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace animerun {

constexpr int kMaxJsonDepth = 64;                       // nested arrays/objects
constexpr uint64_t kMaxJsonFileBytes = uint64_t{1} << 24;  // 16 MiB; real files are far smaller

// Parses text. Throws Error("<origin>: ...") for malformed JSON, numbers out of range,
// nesting deeper than kMaxJsonDepth and a key repeated within one object.
nlohmann::json ParseJsonText(const std::string& text, const std::string& origin);
// Reads (at most kMaxJsonFileBytes) and parses a file; errors name it.
nlohmann::json ReadJsonFile(const std::filesystem::path& path);

// The value, or null when there is none (a metric undefined on an empty subset).
inline nlohmann::json OptionalJson(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

}  // namespace animerun
