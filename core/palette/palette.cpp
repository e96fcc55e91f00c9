#include "core/palette/palette.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/json_text.h"

namespace animerun::palette {

using nlohmann::json;

bool ColorBefore(const PaletteColor& a, const PaletteColor& b) {
  if (a.count != b.count) return a.count > b.count;
  return a.rgb < b.rgb;
}

void SortColors(std::vector<PaletteColor>* colors) {
  std::sort(colors->begin(), colors->end(), ColorBefore);
}

const PaletteGroup* PaletteFile::Find(const std::string& name) const {
  for (const auto& g : groups)
    if (g.name == name) return &g;
  return nullptr;
}

PaletteGroup* PaletteFile::Find(const std::string& name) {
  for (auto& g : groups)
    if (g.name == name) return &g;
  return nullptr;
}

void PaletteFile::Upsert(PaletteGroup group) {
  if (PaletteGroup* existing = Find(group.name)) {
    *existing = std::move(group);
  } else {
    groups.push_back(std::move(group));
  }
}

bool PaletteFile::Remove(const std::string& name) {
  auto it = std::find_if(groups.begin(), groups.end(), [&](const PaletteGroup& g) { return g.name == name; });
  if (it == groups.end()) return false;
  groups.erase(it);
  return true;
}

std::vector<std::string> PaletteFile::Names() const {
  std::vector<std::string> names;
  for (const auto& g : groups) names.push_back(g.name);
  return names;
}

std::string RgbHex(const Rgb& rgb) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return buf;
}

namespace {

// Field-path errors: "<source>: groups[2].colors[5].rgb: <problem>".
[[noreturn]] void Fail(const std::string& source, const std::string& field, const std::string& problem) {
  ThrowFileError(source, field + ": " + problem);
}

const json& Member(const json& obj, const char* key, const std::string& source, const std::string& field) {
  auto it = obj.find(key);
  if (it == obj.end()) Fail(source, field.empty() ? key : field + "." + key, "missing");
  return *it;
}

int64_t Integer(const json& v, const std::string& source, const std::string& field) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      Fail(source, field, "too large");
    return v.get<int64_t>();
  }
  Fail(source, field, std::string("must be an integer, not ") + v.type_name());
}

std::string String(const json& v, const std::string& source, const std::string& field) {
  if (!v.is_string()) Fail(source, field, std::string("must be a string, not ") + v.type_name());
  return v.get<std::string>();
}

PaletteColor ParseColor(const json& c, const std::string& source, const std::string& field) {
  if (!c.is_object()) Fail(source, field, "must be an object {\"rgb\": [r, g, b], \"count\": N}");
  PaletteColor out;
  const json& rgb = Member(c, "rgb", source, field);
  if (!rgb.is_array() || rgb.size() != 3) Fail(source, field + ".rgb", "must be an array of 3 integers");
  for (int k = 0; k < 3; ++k) {
    const int64_t v = Integer(rgb[k], source, field + ".rgb[" + std::to_string(k) + "]");
    if (v < 0 || v > 255) Fail(source, field + ".rgb", std::to_string(v) + " is out of range 0..255");
    out.rgb[k] = static_cast<uint8_t>(v);
  }
  out.count = Integer(Member(c, "count", source, field), source, field + ".count");
  if (out.count < 0) Fail(source, field + ".count", "negative count " + std::to_string(out.count));
  return out;
}

PaletteGroup ParseGroup(const json& g, const std::string& source, const std::string& field) {
  if (!g.is_object()) Fail(source, field, "must be an object");
  PaletteGroup out;
  out.name = String(Member(g, "name", source, field), source, field + ".name");
  out.style = String(Member(g, "style", source, field), source, field + ".style");
  const json& frames = Member(g, "frames", source, field);
  if (!frames.is_array()) Fail(source, field + ".frames", "must be an array of paths");
  for (size_t i = 0; i < frames.size(); ++i)
    out.frames.push_back(String(frames[i], source, field + ".frames[" + std::to_string(i) + "]"));
  out.pixels = Integer(Member(g, "pixels", source, field), source, field + ".pixels");
  const json& colors = Member(g, "colors", source, field);
  if (!colors.is_array()) Fail(source, field + ".colors", "must be an array");
  for (size_t i = 0; i < colors.size(); ++i)
    out.colors.push_back(ParseColor(colors[i], source, field + ".colors[" + std::to_string(i) + "]"));
  return out;
}

}  // namespace

void ValidatePalettes(const PaletteFile& file, const std::string& source) {
  std::set<std::string> names;
  for (size_t gi = 0; gi < file.groups.size(); ++gi) {
    const PaletteGroup& g = file.groups[gi];
    const std::string field = "groups[" + std::to_string(gi) + "]";
    if (g.name.empty()) Fail(source, field + ".name", "empty");
    if (!names.insert(g.name).second) Fail(source, field + ".name", "duplicate group name '" + g.name + "'");
    if (g.pixels < 0) Fail(source, field + ".pixels", "negative pixel count " + std::to_string(g.pixels));
    int64_t sum = 0;
    std::set<Rgb> seen;
    for (size_t ci = 0; ci < g.colors.size(); ++ci) {
      const PaletteColor& c = g.colors[ci];
      const std::string cf = field + ".colors[" + std::to_string(ci) + "]";
      if (c.count < 0) Fail(source, cf + ".count", "negative count " + std::to_string(c.count));
      if (!seen.insert(c.rgb).second) Fail(source, cf + ".rgb", "duplicate colour " + RgbHex(c.rgb));
      if (ci > 0 && ColorBefore(c, g.colors[ci - 1]))
        Fail(source, cf, "colours are not sorted (count descending, then rgb ascending)");
      if (c.count > INT64_MAX - sum) Fail(source, cf + ".count", "counts overflow");
      sum += c.count;
    }
    if (sum > g.pixels)
      Fail(source, field + ".pixels", "the colour counts sum to " + std::to_string(sum) + ", more than pixels = " +
                                          std::to_string(g.pixels));
  }
}

PaletteFile ParsePalettes(const std::string& text, const std::string& source) {
  const json root = ParseJsonText(text, source);
  if (!root.is_object()) ThrowFileError(source, "not a palette file (the top level must be an object)");
  const int64_t version = Integer(Member(root, "version", source, ""), source, "version");
  if (version != PaletteFile::kVersion)
    Fail(source, "version", std::to_string(version) + " is not supported (this build reads version " +
                                std::to_string(PaletteFile::kVersion) + ")");
  const json& groups = Member(root, "groups", source, "");
  if (!groups.is_array()) Fail(source, "groups", "must be an array");
  PaletteFile out;
  for (size_t i = 0; i < groups.size(); ++i)
    out.groups.push_back(ParseGroup(groups[i], source, "groups[" + std::to_string(i) + "]"));
  ValidatePalettes(out, source);
  return out;
}

std::string SerializePalettes(const PaletteFile& file) {
  // Written by hand so that each colour sits on one line: files stay diffable and readable.
  std::string out = "{\n  \"version\": " + std::to_string(PaletteFile::kVersion) + ",\n  \"groups\": [";
  for (size_t gi = 0; gi < file.groups.size(); ++gi) {
    const PaletteGroup& g = file.groups[gi];
    out += gi ? ",\n    {\n" : "\n    {\n";
    out += "      \"name\": " + json(g.name).dump() + ",\n";
    out += "      \"style\": " + json(g.style).dump() + ",\n";
    out += "      \"frames\": [";
    for (size_t i = 0; i < g.frames.size(); ++i) out += (i ? ",\n        " : "\n        ") + json(g.frames[i]).dump();
    out += g.frames.empty() ? "],\n" : "\n      ],\n";
    out += "      \"pixels\": " + std::to_string(g.pixels) + ",\n";
    out += "      \"colors\": [";
    for (size_t i = 0; i < g.colors.size(); ++i) {
      const PaletteColor& c = g.colors[i];
      out += (i ? ",\n        " : "\n        ");
      out += "{\"rgb\": [" + std::to_string(c.rgb[0]) + ", " + std::to_string(c.rgb[1]) + ", " +
             std::to_string(c.rgb[2]) + "], \"count\": " + std::to_string(c.count) + "}";
    }
    out += g.colors.empty() ? "]\n" : "\n      ]\n";
    out += "    }";
  }
  out += file.groups.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

PaletteFile LoadPalettes(const std::filesystem::path& path) {
  return ParsePalettes(ReadFileText(path, kMaxJsonFileBytes), path.string());
}

void SavePalettes(const std::filesystem::path& path, const PaletteFile& file) {
  ValidatePalettes(file, path.string());
  WriteFileAtomic(path, SerializePalettes(file));
}

}  // namespace animerun::palette
