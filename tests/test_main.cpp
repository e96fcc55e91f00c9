// Shared GoogleTest main: widget tests need a QApplication, the rest need nothing.
#include <gtest/gtest.h>

#ifdef ANIMERUN_TEST_WITH_QT
#include <QApplication>

#include <cstdlib>
#endif

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
#ifdef ANIMERUN_TEST_WITH_QT
  // Without a display (the build runs the binary to list its tests) the offscreen
  // platform is used, as ctest does.
  if (!std::getenv("QT_QPA_PLATFORM") && !std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY"))
    setenv("QT_QPA_PLATFORM", "offscreen", 1);
  QApplication app(argc, argv);
#endif
  return RUN_ALL_TESTS();
}
