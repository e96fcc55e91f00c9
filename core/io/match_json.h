// AnimeRun segment-matching JSON: {"<segment id in frame t>": [<id in t+1> or -1], ...}.
// The official files store each value as a one-element list; plain integers are accepted
// on read too.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace animerun::io {

// matches[i] = id in frame t+1 matched to segment i of frame t, or -1. Ids missing from
// the file are -1; num_segments (when >= 0) sets the vector's size and every key must be
// below it. Throws Error naming the file for malformed JSON, negative keys, or values < -1.
// Limits: files of at most kMaxJsonFileBytes, nesting at most kMaxJsonDepth
// (core/util/json_text.h), ids at most 2^24.
std::vector<int> ReadMatchJson(const std::filesystem::path& path, int num_segments = -1);
// ReadMatchJson on text in memory; origin names it in error messages.
std::vector<int> ParseMatchJson(const std::string& text, const std::string& origin, int num_segments = -1);
void WriteMatchJson(const std::filesystem::path& path, const std::vector<int>& matches);  // atomic
std::string EncodeMatchJson(const std::vector<int>& matches, const std::string& origin);  // WriteMatchJson's text

}  // namespace animerun::io
