// The palette file format: round trips, validation of every field named in
// docs/palette.md, and atomic saves.
#include <gtest/gtest.h>

#include <fstream>

#include "core/palette/palette.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "test_paths.h"

namespace animerun::palette {
namespace {

namespace fs = std::filesystem;

PaletteFile Sample() {
  PaletteFile f;
  PaletteGroup a;
  a.name = "atd_disney";
  a.style = "disney";
  a.frames = {"refs/a/frame1.png", "refs/a/frame2.png"};
  a.pixels = 2000;
  a.colors = {{{202, 104, 54}, 1500}, {{0, 0, 0}, 497}, {{255, 255, 255}, 2}};
  PaletteGroup b;
  b.name = "suggested \"quoted\"";
  b.style = "";
  b.frames = {"x.png"};
  f.groups = {a, b};
  return f;
}

// Parses text and returns the error message ("" when it parsed).
std::string ParseError(const std::string& text) {
  try {
    ParsePalettes(text, "p.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string Valid(const std::string& group_body) {
  return R"({"version": 1, "groups": [{"name": "g", "style": "s", "frames": ["a.png"], "pixels": 100, )" +
         group_body + "}]}";
}

TEST(PaletteFile, RoundTripKeepsEverything) {
  const PaletteFile f = Sample();
  const PaletteFile g = ParsePalettes(SerializePalettes(f), "mem");
  ASSERT_EQ(g.groups.size(), 2u);
  EXPECT_EQ(g.groups[0].name, "atd_disney");
  EXPECT_EQ(g.groups[0].style, "disney");
  EXPECT_EQ(g.groups[0].frames, f.groups[0].frames);
  EXPECT_EQ(g.groups[0].pixels, 2000);
  ASSERT_EQ(g.groups[0].colors.size(), 3u);
  EXPECT_EQ(g.groups[0].colors[0].rgb, (Rgb{202, 104, 54}));
  EXPECT_EQ(g.groups[0].colors[2].count, 2);
  EXPECT_EQ(g.groups[1].name, "suggested \"quoted\"");
  EXPECT_FALSE(g.groups[1].extracted());
  EXPECT_EQ(SerializePalettes(g), SerializePalettes(f));
}

TEST(PaletteFile, AcceptsMinimalAndIgnoresUnknownFields) {
  EXPECT_EQ(ParseError(R"({"version": 1, "groups": []})"), "");
  EXPECT_EQ(ParseError(Valid(R"("colors": [{"rgb": [1, 2, 3], "count": 7, "note": "x"}], "extra": 1)")), "");
}

TEST(PaletteFile, RejectsBadVersionAndStructure) {
  EXPECT_NE(ParseError(R"({"version": 2, "groups": []})").find("p.json: version: 2 is not supported"), std::string::npos);
  EXPECT_NE(ParseError(R"({"groups": []})").find("p.json: version: missing"), std::string::npos);
  EXPECT_NE(ParseError(R"({"version": "1", "groups": []})").find("version: must be an integer"), std::string::npos);
  EXPECT_NE(ParseError(R"({"version": 1})").find("groups: missing"), std::string::npos);
  EXPECT_NE(ParseError(R"({"version": 1, "groups": {}})").find("groups: must be an array"), std::string::npos);
  EXPECT_NE(ParseError("[1, 2]").find("p.json: not a palette file"), std::string::npos);
  EXPECT_NE(ParseError("").find("p.json: not valid JSON"), std::string::npos);
}

// Found while writing the palette fuzz target: nlohmann reports a number overflow as
// out_of_range, not parse_error, and it escaped ParsePalettes as a library exception. Now
// every JSON problem is an Error naming the file; nesting and repeated keys too.
TEST(PaletteFile, NumberOverflowNestingAndRepeatedKeysAreNamedErrors) {
  EXPECT_NE(ParseError(R"({"version": 1e999, "groups": []})").find("p.json: not valid JSON"), std::string::npos);
  EXPECT_NE(ParseError(R"({"version": 1, "version": 1, "groups": []})").find("appears twice"), std::string::npos);
  EXPECT_NE(ParseError(R"({"version": 1, "groups": [)" + std::string(200, '[') + std::string(201, ']') + "}")
                .find("p.json: JSON nested deeper"),
            std::string::npos);
}

TEST(PaletteFile, RejectsTruncatedText) {
  const std::string text = SerializePalettes(Sample());
  for (size_t cut : {size_t(1), text.size() / 3, text.size() / 2, text.size() - 3}) {
    const std::string msg = ParseError(text.substr(0, cut));
    EXPECT_NE(msg.find("p.json: not valid JSON"), std::string::npos) << cut << ": " << msg;
  }
}

TEST(PaletteFile, RejectsMissingGroupFields) {
  for (const char* field : {"name", "style", "frames", "pixels", "colors"}) {
    std::string text = Valid(R"("colors": [])");
    const std::string key = std::string("\"") + field + "\": ";
    const size_t at = text.find(key);
    ASSERT_NE(at, std::string::npos);
    // Rename the key so that the field is missing.
    text.replace(at, key.size(), std::string("\"x_") + field + "\": ");
    EXPECT_NE(ParseError(text).find(std::string("groups[0].") + field + ": missing"), std::string::npos)
        << field << ": " << ParseError(text);
  }
}

TEST(PaletteFile, RejectsBadColours) {
  EXPECT_NE(ParseError(Valid(R"("colors": [{"rgb": [1, 300, 3], "count": 7}])"))
                .find("groups[0].colors[0].rgb: 300 is out of range 0..255"),
            std::string::npos);
  EXPECT_NE(ParseError(Valid(R"("colors": [{"rgb": [1, -1, 3], "count": 7}])")).find("out of range"),
            std::string::npos);
  EXPECT_NE(ParseError(Valid(R"("colors": [{"rgb": [1, 2], "count": 7}])")).find("colors[0].rgb: must be an array of 3"),
            std::string::npos);
  EXPECT_NE(ParseError(Valid(R"("colors": [{"rgb": [1, 2, 3.5], "count": 7}])")).find("rgb[2]: must be an integer"),
            std::string::npos);
  EXPECT_NE(ParseError(Valid(R"("colors": [{"rgb": [1, 2, 3], "count": -4}])"))
                .find("groups[0].colors[0].count: negative count -4"),
            std::string::npos);
  EXPECT_NE(ParseError(Valid(R"("colors": [{"rgb": [1, 2, 3]}])")).find("colors[0].count: missing"), std::string::npos);
  EXPECT_NE(ParseError(Valid(R"("colors": [{"rgb": [1, 2, 3], "count": 5}, {"rgb": [4, 5, 6], "count": 9}])"))
                .find("groups[0].colors[1]: colours are not sorted"),
            std::string::npos);
  // Equal counts must be in ascending rgb order.
  EXPECT_NE(ParseError(Valid(R"("colors": [{"rgb": [9, 0, 0], "count": 5}, {"rgb": [4, 5, 6], "count": 5}])"))
                .find("not sorted"),
            std::string::npos);
  EXPECT_EQ(ParseError(Valid(R"("colors": [{"rgb": [4, 5, 6], "count": 5}, {"rgb": [9, 0, 0], "count": 5}])")), "");
  EXPECT_NE(ParseError(Valid(R"("colors": [{"rgb": [4, 5, 6], "count": 9}, {"rgb": [4, 5, 6], "count": 5}])"))
                .find("duplicate colour #040506"),
            std::string::npos);
  EXPECT_NE(ParseError(Valid(R"("colors": [{"rgb": [4, 5, 6], "count": 90}, {"rgb": [1, 1, 1], "count": 11}])"))
                .find("groups[0].pixels: the colour counts sum to 101, more than pixels = 100"),
            std::string::npos);
}

TEST(PaletteFile, RejectsBadGroups) {
  EXPECT_NE(ParseError(R"({"version": 1, "groups": [{"name": "", "style": "", "frames": [], "pixels": 0, "colors": []}]})")
                .find("groups[0].name: empty"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"version": 1, "groups": [{"name": "a", "style": "", "frames": [], "pixels": 0, "colors": []},)"
                       R"({"name": "a", "style": "", "frames": [], "pixels": 0, "colors": []}]})")
                .find("groups[1].name: duplicate group name 'a'"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"version": 1, "groups": [{"name": "a", "style": "", "frames": [3], "pixels": 0, "colors": []}]})")
                .find("groups[0].frames[0]: must be a string"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"version": 1, "groups": [{"name": "a", "style": "", "frames": [], "pixels": -1, "colors": []}]})")
                .find("groups[0].pixels: negative"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"version": 1, "groups": [7]})").find("groups[0]: must be an object"), std::string::npos);
}

TEST(PaletteFile, SaveIsAtomicAndLoadNamesTheFile) {
  const fs::path dir = test::ScratchDir("palette_file");
  const fs::path path = dir / "palettes.json";
  SavePalettes(path, Sample());
  EXPECT_EQ(LoadPalettes(path).groups.size(), 2u);
  // No temporary file is left beside it.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  // An invalid in-memory file is refused before anything is written.
  PaletteFile bad = Sample();
  bad.groups[0].colors[0].count = 1;  // now unsorted
  EXPECT_THROW(SavePalettes(path, bad), Error);
  EXPECT_EQ(LoadPalettes(path).groups[0].colors[0].count, 1500);
  // Corrupt file on disk: the message names the path.
  std::ofstream(dir / "bad.json") << "{\"version\": 1, \"groups\": [";
  try {
    LoadPalettes(dir / "bad.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "bad.json").string()), std::string::npos);
  }
  EXPECT_THROW(LoadPalettes(dir / "missing.json"), Error);
}

TEST(PaletteFile, UpsertReplacesByNameAndKeepsOrder) {
  PaletteFile f = Sample();
  PaletteGroup g;
  g.name = "atd_disney";
  g.style = "new";
  f.Upsert(g);
  ASSERT_EQ(f.groups.size(), 2u);
  EXPECT_EQ(f.groups[0].style, "new");
  g.name = "third";
  f.Upsert(g);
  EXPECT_EQ(f.Names(), (std::vector<std::string>{"atd_disney", "suggested \"quoted\"", "third"}));
  EXPECT_TRUE(f.Remove("atd_disney"));
  EXPECT_FALSE(f.Remove("atd_disney"));
  EXPECT_EQ(f.groups.size(), 2u);
}

TEST(PaletteFile, SortColorsOrdersByCountThenRgb) {
  std::vector<PaletteColor> c = {{{5, 5, 5}, 3}, {{1, 2, 3}, 9}, {{0, 9, 9}, 3}, {{0, 9, 8}, 3}};
  SortColors(&c);
  EXPECT_EQ(c[0].count, 9);
  EXPECT_EQ(c[1].rgb, (Rgb{0, 9, 8}));
  EXPECT_EQ(c[2].rgb, (Rgb{0, 9, 9}));
  EXPECT_EQ(c[3].rgb, (Rgb{5, 5, 5}));
  EXPECT_EQ(RgbHex({255, 0, 16}), "#ff0010");
}

}  // namespace
}  // namespace animerun::palette
