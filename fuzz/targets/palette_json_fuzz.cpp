// Palette JSON (core/palette/palette.h): parse; an accepted file serializes back to the same
// palettes.
#include <string>

#include "core/palette/palette.h"
#include "fuzz/fuzz_target.h"

namespace {
bool SameColors(const animerun::palette::PaletteGroup& a, const animerun::palette::PaletteGroup& b) {
  if (a.colors.size() != b.colors.size()) return false;
  for (size_t i = 0; i < a.colors.size(); ++i)
    if (a.colors[i].rgb != b.colors[i].rgb || a.colors[i].count != b.colors[i].count) return false;
  return true;
}
}  // namespace

ANIMERUN_FUZZ_TARGET(palette_json) {
  using namespace animerun;
  const std::string text(reinterpret_cast<const char*>(data), size);
  palette::PaletteFile f;
  if (!fuzz::Accepts("input.json", [&] { f = palette::ParsePalettes(text, "input.json"); })) return 0;
  const palette::PaletteFile g = palette::ParsePalettes(palette::SerializePalettes(f), "again.json");
  fuzz::Require(g.groups.size() == f.groups.size(), "palette round trip keeps the groups");
  for (size_t i = 0; i < f.groups.size(); ++i) {
    const auto &a = f.groups[i], &b = g.groups[i];
    fuzz::Require(a.name == b.name && a.style == b.style && a.frames == b.frames && a.pixels == b.pixels &&
                      SameColors(a, b),
                  "palette round trip keeps group " + a.name);
  }
  return 0;
}
