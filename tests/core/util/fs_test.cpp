#include "core/util/fs.h"

#include <gtest/gtest.h>

#include "core/util/error.h"
#include "test_paths.h"

namespace animerun {
namespace {

TEST(Fs, AtomicWriteReplacesAndLeavesNoTemp) {
  auto dir = test::ScratchDir("fs_atomic");
  auto path = dir / "sub" / "a.txt";
  WriteFileAtomic(path, std::string("first"));
  WriteFileAtomic(path, std::string("second"));
  EXPECT_EQ(ReadFileText(path), "second");
  int n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir / "sub")) (void)e, ++n;
  EXPECT_EQ(n, 1);
}

TEST(Fs, MissingFileErrorNamesFile) {
  try {
    ReadFileBytes("/nonexistent/dir/x.flo");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/x.flo"), std::string::npos);
  }
}

TEST(Fs, ListFilesSortsAndFilters) {
  auto dir = test::ScratchDir("fs_list");
  WriteFileAtomic(dir / "b.PNG", std::string("x"));
  WriteFileAtomic(dir / "a.png", std::string("x"));
  WriteFileAtomic(dir / "c.txt", std::string("x"));
  auto files = ListFiles(dir, {".png"});
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].filename(), "a.png");
  EXPECT_TRUE(ListFiles(dir / "missing", {".png"}).empty());
}

}  // namespace
}  // namespace animerun
