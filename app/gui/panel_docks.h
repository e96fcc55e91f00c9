// Where the tool panels live in the main window: docked at the bottom, tabbed with the
// filmstrip. The pair view shows two 16:9 frames side by side, so width is what it lacks
// and height it has to spare; the panels are wide. A panel sits in a scroll area so that
// its minimum size never squeezes the pair view, and bringing its tab to the front grows
// the bottom area to the panel's preferred height (at most 55% of the window); the
// filmstrip's tab shrinks it back.
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>

class QDockWidget;
class QMainWindow;
class QWidget;

namespace animerun::gui {

class PanelDocks : public QObject {
  Q_OBJECT

 public:
  // frames_dock: the filmstrip's dock, which the panels tab with; frames is its content.
  PanelDocks(QMainWindow* window, QDockWidget* frames_dock, QWidget* frames);

  // Docks content as "dock_<name>" titled title, tabbed behind the filmstrip.
  QDockWidget* Add(const QString& title, const QString& name, QWidget* content);
  // Brings the dock "dock_<name>" (any dock of the window) to the front; false when absent.
  bool Show(const QString& name) const;
  // The names Show knows.
  QStringList Names() const;

 private:
  void FitBottomArea(QDockWidget* dock, int preferred) const;

  QMainWindow* window_;
  QDockWidget* frames_dock_;
};

}  // namespace animerun::gui
