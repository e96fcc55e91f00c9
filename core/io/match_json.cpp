#include "core/io/match_json.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/json_text.h"

namespace animerun::io {
namespace fs = std::filesystem;
namespace {

// Without num_segments the vector is sized by the largest key; this bound keeps a corrupt
// key such as "999999999999" from allocating gigabytes. Real frames have far fewer segments.
constexpr int64_t kMaxSegmentId = int64_t{1} << 24;

// Parses a key: decimal digits only (no sign, no spaces), as the official files write them.
bool ParseKey(const std::string& key, int64_t* id) {
  if (key.empty() || key.size() > 12) return false;
  if (!std::all_of(key.begin(), key.end(), [](unsigned char c) { return std::isdigit(c); })) return false;
  *id = std::stoll(key);
  return true;
}

// The match for one key: a one-element list [j] (official format) or a plain integer j.
bool ParseValue(const nlohmann::json& v, int64_t* out) {
  const nlohmann::json* x = &v;
  if (v.is_array()) {
    if (v.size() != 1) return false;
    x = &v[0];
  }
  if (!x->is_number_integer()) return false;
  if (x->is_number_unsigned()) {
    // Keep huge unsigned values out of range instead of letting them wrap negative.
    const uint64_t u = x->get<uint64_t>();
    *out = u > uint64_t{std::numeric_limits<int64_t>::max()} ? std::numeric_limits<int64_t>::max()
                                                             : static_cast<int64_t>(u);
    return true;
  }
  *out = x->get<int64_t>();
  return true;
}

}  // namespace

std::vector<int> ReadMatchJson(const fs::path& path, int num_segments) {
  return ParseMatchJson(ReadFileText(path, kMaxJsonFileBytes), path.string(), num_segments);
}

std::vector<int> ParseMatchJson(const std::string& text, const std::string& p, int num_segments) {
  // ParseJsonText refuses a key listed twice (nlohmann would keep only the last).
  const nlohmann::json j = ParseJsonText(text, p);
  if (!j.is_object()) ThrowFileError(p, "matching JSON must be an object {\"segment id\": [match], ...}");

  std::vector<std::pair<int64_t, int64_t>> pairs;
  pairs.reserve(j.size());
  int64_t max_key = -1;
  for (auto it = j.begin(); it != j.end(); ++it) {
    int64_t key = 0, value = 0;
    if (!ParseKey(it.key(), &key))
      ThrowFileError(p, "key '" + it.key().substr(0, 32) + "' is not a non-negative segment id");
    if (num_segments >= 0 && key >= num_segments)
      ThrowFileError(p, "segment id " + it.key() + " is out of range (frame has " + std::to_string(num_segments) +
                            " segments)");
    if (key > kMaxSegmentId) ThrowFileError(p, "segment id " + it.key() + " is implausibly large");
    if (!ParseValue(it.value(), &value))
      ThrowFileError(p, "value of key '" + it.key() + "' must be [id] or an integer, got " +
                            it.value().dump().substr(0, 64));
    if (value < -1 || value > std::numeric_limits<int>::max())
      ThrowFileError(p, "match " + std::to_string(value) + " of segment " + it.key() + " is out of range (must be >= -1)");
    pairs.emplace_back(key, value);
    max_key = std::max(max_key, key);
  }
  const int64_t size = num_segments >= 0 ? num_segments : max_key + 1;
  std::vector<int> matches(static_cast<size_t>(size), -1);
  std::vector<bool> seen(static_cast<size_t>(size), false);
  for (const auto& [key, value] : pairs) {
    // "5" and "05" are the same segment: a file naming it twice is ambiguous.
    if (seen[static_cast<size_t>(key)]) ThrowFileError(p, "segment id " + std::to_string(key) + " appears twice");
    seen[static_cast<size_t>(key)] = true;
    matches[static_cast<size_t>(key)] = static_cast<int>(value);
  }
  return matches;
}

void WriteMatchJson(const fs::path& path, const std::vector<int>& matches) {
  WriteFileAtomic(path, EncodeMatchJson(matches, path.string()));
}

std::string EncodeMatchJson(const std::vector<int>& matches, const std::string& origin) {
  // Written by hand rather than through nlohmann::json, whose objects sort keys as strings
  // ("10" before "2"); the official files list them in numeric order, spaced like json.dump.
  std::string out = "{";
  for (size_t i = 0; i < matches.size(); ++i) {
    if (matches[i] < -1)
      ThrowFileError(origin, "match " + std::to_string(matches[i]) + " of segment " + std::to_string(i) +
                                 " is out of range (must be >= -1)");
    if (i > 0) out += ", ";
    // Appended piece by piece (also spares GCC 12 a false -Wstringop-overflow on operator+).
    out += '"';
    out += std::to_string(i);
    out += "\": [";
    out += std::to_string(matches[i]);
    out += ']';
  }
  out += "}";
  return out;
}

}  // namespace animerun::io
