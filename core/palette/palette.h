// Reference palettes for colour augmentation (AnimeRun supplementary, section 1.1): named
// groups of reference frames with a style tag, each with the quantised colours that occur
// in the group and how often. The file format is documented in docs/palette.md.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace animerun::palette {

using Rgb = std::array<uint8_t, 3>;

// One colour of a group's palette: the representative colour of a 16x16x16 bin and the
// number of the group's pixels that fell in that bin.
struct PaletteColor {
  Rgb rgb{0, 0, 0};
  int64_t count = 0;
};

// A group of reference frames and (once extracted) its palette. A group straight from
// `palette suggest-groups` or the GUI has frames but no colours yet (pixels == 0).
struct PaletteGroup {
  std::string name;                 // unique within a file, not empty
  std::string style;                // free tag: "disney", "japanese", ... ("" = untagged)
  std::vector<std::string> frames;  // the reference images, as given (files, not folders)
  int64_t pixels = 0;               // total pixels of the frames that were counted
  std::vector<PaletteColor> colors; // count descending, ties by rgb ascending

  bool extracted() const { return pixels > 0; }
};

// Orders colours as the file stores them: count descending, then rgb ascending.
bool ColorBefore(const PaletteColor& a, const PaletteColor& b);
void SortColors(std::vector<PaletteColor>* colors);

struct PaletteFile {
  static constexpr int kVersion = 1;
  std::vector<PaletteGroup> groups;

  const PaletteGroup* Find(const std::string& name) const;
  PaletteGroup* Find(const std::string& name);
  // Replaces the group of the same name in place, or appends it.
  void Upsert(PaletteGroup group);
  bool Remove(const std::string& name);
  std::vector<std::string> Names() const;
};

// JSON text <-> PaletteFile. Parse validates everything (see docs/palette.md) and throws
// Error("<source>: <field>: <problem>"), e.g. "p.json: groups[1].colors[3].rgb: 300 is
// out of range 0..255"; source names the file in messages. Limits: those of ParseJsonText
// (core/util/json_text.h); LoadPalettes reads files of at most kMaxJsonFileBytes.
PaletteFile ParsePalettes(const std::string& text, const std::string& source);
std::string SerializePalettes(const PaletteFile& file);

// Load/save. Save validates first (a file we write always loads) and writes atomically.
PaletteFile LoadPalettes(const std::filesystem::path& path);
void SavePalettes(const std::filesystem::path& path, const PaletteFile& file);

// Checks the invariants Parse checks (names, counts, order, pixels) on an in-memory file;
// throws Error prefixed with source.
void ValidatePalettes(const PaletteFile& file, const std::string& source);

// "#rrggbb"
std::string RgbHex(const Rgb& rgb);

}  // namespace animerun::palette
