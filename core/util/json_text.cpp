#include "core/util/json_text.h"

#include <unordered_set>
#include <vector>

#include "core/util/error.h"
#include "core/util/fs.h"

namespace animerun {

nlohmann::json ParseJsonText(const std::string& text, const std::string& origin) {
  using Event = nlohmann::json::parse_event_t;
  // The keys seen so far in the open object at each depth (one object is open per depth).
  std::vector<std::unordered_set<std::string>> keys;
  auto check = [&](int depth, Event event, nlohmann::json& parsed) {
    if (event == Event::object_start || event == Event::array_start) {
      if (depth >= kMaxJsonDepth)
        ThrowFileError(origin, "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
      if (event == Event::object_start) {
        if (keys.size() <= static_cast<size_t>(depth)) keys.resize(static_cast<size_t>(depth) + 1);
        keys[static_cast<size_t>(depth)].clear();
      }
    } else if (event == Event::key && depth >= 1 && static_cast<size_t>(depth) <= keys.size()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!keys[static_cast<size_t>(depth) - 1].insert(key).second)
        ThrowFileError(origin, "key '" + key.substr(0, 64) + "' appears twice in one object");
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text, check);
  } catch (const nlohmann::json::exception& e) {
    ThrowFileError(origin, std::string("not valid JSON: ") + e.what());
  }
}

nlohmann::json ReadJsonFile(const std::filesystem::path& path) {
  return ParseJsonText(ReadFileText(path, kMaxJsonFileBytes), path.string());
}

}  // namespace animerun
