// The main window's menus and toolbar: File, View (overlays 1-5, zoom, the pass, the split,
// the docks), Go, Tools > Train..., Help. Each action calls the window (or its pair view);
// ShortcutLines() is the table Help > Keyboard Shortcuts shows, kept equal to the actions
// by a test.
#pragma once

#include <QObject>
#include <QStringList>

#include <array>
#include <string>
#include <vector>

class QAction;
class QActionGroup;
class QComboBox;
class QMenu;

namespace animerun::gui {

class MainWindow;

// The overlay toggles, in menu order; their shortcuts are the keys 1..5.
enum class Overlay { kFlowColor, kFlowArrows, kBoundaries, kOcclusion, kLines, kCount };

class WindowMenus : public QObject {
  Q_OBJECT

 public:
  // Builds the menu bar and the toolbar of window (after its docks exist: View lists them).
  explicit WindowMenus(MainWindow* window);

  QAction* OverlayAction(Overlay overlay) const { return overlays_[static_cast<int>(overlay)]; }
  // The pass selector lists passes, current selected; the split menu lists splits ("" is
  // skipped: a folder that is a split itself), current checked.
  void SetPasses(const std::vector<std::string>& passes, const QString& current);
  void SetSplits(const std::vector<std::string>& splits, const QString& current);

  static QStringList ShortcutLines();

 signals:
  void overlaysChanged();

 private:
  void BuildFile();
  void BuildView();
  void BuildGoToolsHelp();
  void ShowShortcuts();
  void ShowAbout();

  MainWindow* window_;
  std::array<QAction*, static_cast<int>(Overlay::kCount)> overlays_{};
  QComboBox* pass_box_ = nullptr;
  QMenu* split_menu_ = nullptr;
  QActionGroup* split_group_ = nullptr;
};

}  // namespace animerun::gui
