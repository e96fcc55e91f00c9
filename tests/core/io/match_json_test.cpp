#include "core/io/match_json.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "core/io/io_test_util.h"
#include "core/util/error.h"
#include "test_paths.h"

namespace animerun::io {
namespace {
namespace fs = std::filesystem;
using namespace test_util;

void WriteText(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(MatchJson, ReadsOfficialListFormat) {
  const auto dir = test::ScratchDir("io_json_official");
  WriteText(dir / "m.json", R"({"0": [5], "1": [-1], "2": [0], "10": [3]})");
  const auto m = ReadMatchJson(dir / "m.json");
  ASSERT_EQ(m.size(), 11u);  // sized by the largest key
  EXPECT_EQ(m[0], 5);
  EXPECT_EQ(m[1], -1);
  EXPECT_EQ(m[2], 0);
  EXPECT_EQ(m[10], 3);
  for (int i = 3; i < 10; ++i) EXPECT_EQ(m[i], -1) << i;  // missing ids are unmatched
}

TEST(MatchJson, ReadsPlainIntsAndPadsToNumSegments) {
  const auto dir = test::ScratchDir("io_json_plain");
  WriteText(dir / "m.json", "{ \"1\" : 4,\n \"0\": [2] }\n");
  const auto m = ReadMatchJson(dir / "m.json", 5);
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m, (std::vector<int>{2, 4, -1, -1, -1}));
  WriteText(dir / "e.json", "{}");
  EXPECT_TRUE(ReadMatchJson(dir / "e.json").empty());
  EXPECT_EQ(ReadMatchJson(dir / "e.json", 2), (std::vector<int>{-1, -1}));
}

TEST(MatchJson, RefusesInvalidKeysAndValues) {
  const auto dir = test::ScratchDir("io_json_bad");
  const auto p = dir / "b.json";
  struct Case {
    std::string text;
    std::string what;
  };
  const std::vector<Case> cases = {
      {R"({"-1": [0]})", "'-1'"},
      {R"({"a": [0]})", "'a'"},
      {R"({" 1": [0]})", "' 1'"},
      {R"({"1.5": [0]})", "'1.5'"},
      {R"({"": [0]})", "''"},
      {R"({"0": [-2]})", "-2"},
      {R"({"0": -7})", "-7"},
      {R"({"0": [1, 2]})", "'0'"},
      {R"({"0": []})", "'0'"},
      {R"({"0": "3"})", "'0'"},
      {R"({"0": [2.5]})", "'0'"},
      {R"({"0": null})", "'0'"},
      {R"({"0": [18446744073709551615]})", "out of range"},
      {R"({"0": [1], "0": [2]})", "twice"},
      {R"({"5": [1], "05": [2]})", "twice"},
      {R"({"99999999999": [0]})", "99999999999"},
      {R"([[0], [1]])", "object"},
      {R"(17)", "object"},
  };
  for (const auto& c : cases) {
    WriteText(p, c.text);
    SCOPED_TRACE(c.text);
    ExpectFileError([&] { ReadMatchJson(p); }, p, c.what);
  }
  WriteText(p, R"({"0": [1], "3": [2]})");
  EXPECT_NO_THROW(ReadMatchJson(p, 4));
  ExpectFileError([&] { ReadMatchJson(p, 3); }, p, "out of range");
}

TEST(MatchJson, CorruptAndTruncatedJsonNamesFileAndParseError) {
  const auto dir = test::ScratchDir("io_json_corrupt");
  const auto p = dir / "c.json";
  const std::string good = R"({"0": [5], "1": [-1], "2": [0]})";
  WriteText(p, good);
  ASSERT_EQ(ReadMatchJson(p).size(), 3u);
  for (size_t cut : {size_t{0}, size_t{1}, size_t{5}, size_t{9}, size_t{12}, good.size() - 1}) {
    WriteText(p, good.substr(0, cut));
    SCOPED_TRACE(cut);
    ExpectFileError([&] { ReadMatchJson(p); }, p, "not valid JSON");
  }
  WriteText(p, "{\"0\": [5],, }");
  ExpectFileError([&] { ReadMatchJson(p); }, p, "parse error");
  ExpectFileError([&] { ReadMatchJson(dir / "missing.json"); }, dir / "missing.json");
}

TEST(MatchJson, WritesNumericOrderInOfficialFormat) {
  const auto dir = test::ScratchDir("io_json_write");
  std::vector<int> m(12);
  for (int i = 0; i < 12; ++i) m[i] = i % 3 == 0 ? -1 : 20 - i;
  WriteMatchJson(dir / "m.json", m);
  const std::string text = ReadText(dir / "m.json");
  EXPECT_EQ(text.rfind(R"({"0": [-1], "1": [19], "2": [18], "3": [-1], )", 0), 0u) << text;
  EXPECT_NE(text.find(R"("9": [-1], "10": [10], "11": [9]})"), std::string::npos) << text;
  EXPECT_EQ(ReadMatchJson(dir / "m.json"), m);
  EXPECT_EQ(ReadMatchJson(dir / "m.json", 12), m);

  WriteMatchJson(dir / "empty.json", {});
  EXPECT_EQ(ReadText(dir / "empty.json"), "{}");
  ExpectFileError([&] { WriteMatchJson(dir / "bad.json", {0, -2}); }, dir / "bad.json", "-2");
  EXPECT_FALSE(fs::exists(dir / "bad.json"));
}

}  // namespace
}  // namespace animerun::io
