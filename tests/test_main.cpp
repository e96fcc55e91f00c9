// Shared GoogleTest main: widget tests need a QApplication, the rest need nothing. Passing
// tests' scratch folders are removed as they end (test_paths.h says why).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "test_paths.h"

#ifdef ANIMERUN_TEST_WITH_QT
#include <QApplication>

#include <cstdlib>
#endif

namespace {

namespace fs = std::filesystem;

class RemovePassingScratch : public ::testing::EmptyTestEventListener {
 public:
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (info.result() != nullptr && !info.result()->Failed()) Remove(animerun::test::ScratchRootOf(info));
  }

  // The process's own folders (ProcessScratch) once every test has passed.
  void OnTestProgramEnd(const ::testing::UnitTest& unit) override {
    if (unit.Failed()) return;
    const std::string suffix = animerun::test::ProcessScratchSuffix();
    std::error_code ec;
    for (fs::directory_iterator it(animerun::test::ScratchBase(), ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
        Remove(it->path());
    }
  }

 private:
  // Never throws: a folder left behind costs disk, not a test.
  static void Remove(const fs::path& p) {
    std::error_code ec;
    fs::remove_all(p, ec);
  }
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (!animerun::test::KeepScratch())
    ::testing::UnitTest::GetInstance()->listeners().Append(new RemovePassingScratch);
#ifdef ANIMERUN_TEST_WITH_QT
  // Without a display (the build runs the binary to list its tests) the offscreen
  // platform is used, as ctest does.
  if (!std::getenv("QT_QPA_PLATFORM") && !std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY"))
    setenv("QT_QPA_PLATFORM", "offscreen", 1);
  QApplication app(argc, argv);
#endif
  return RUN_ALL_TESTS();
}
