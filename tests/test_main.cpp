// Shared GoogleTest main: widget tests need a QApplication, the rest need nothing.
#include <gtest/gtest.h>

#ifdef ANIMERUN_TEST_WITH_QT
#include <QApplication>
#endif

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
#ifdef ANIMERUN_TEST_WITH_QT
  QApplication app(argc, argv);
#endif
  return RUN_ALL_TESTS();
}
