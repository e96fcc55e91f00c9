// AnimeRun segment-matching JSON: {"<segment id in frame t>": [<id in t+1> or -1], ...}.
// The official files store each value as a one-element list; plain integers are accepted
// on read too.
#pragma once

#include <filesystem>
#include <vector>

namespace animerun::io {

// matches[i] = id in frame t+1 matched to segment i of frame t, or -1. Ids missing from
// the file are -1; num_segments (when >= 0) sets the vector's size and every key must be
// below it. Throws Error naming the file for malformed JSON, negative keys, or values < -1.
std::vector<int> ReadMatchJson(const std::filesystem::path& path, int num_segments = -1);
void WriteMatchJson(const std::filesystem::path& path, const std::vector<int>& matches);  // atomic

}  // namespace animerun::io
