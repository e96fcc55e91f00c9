// The tool panels of the main window. Each panel is a self-contained widget over core; here
// it is docked and fed the open dataset and the shown pair. One block per panel.
//
// Where: tabbed with the filmstrip at the bottom. The pair view shows two 16:9 frames side
// by side, so width is what it lacks and height it has to spare; the panels are wide (three
// columns). A panel sits in a scroll area so that its minimum size never squeezes the pair
// view, and bringing its tab to the front grows the bottom area to the panel's preferred
// height (at most 55% of the window); the filmstrip's tab shrinks it back.
#include <QDockWidget>
#include <QScrollArea>
#include <QTimer>

#include <algorithm>

#include "widgets/filmstrip.h"
#include "widgets/main_window.h"
#include "widgets/palette_panel.h"

namespace animerun::gui {

namespace {

void FitBottomArea(QMainWindow* window, QDockWidget* dock, int preferred) {
  const int height = std::clamp(preferred, 120, static_cast<int>(window->height() * 0.55));
  window->resizeDocks({dock}, {height}, Qt::Vertical);
}

}  // namespace

QDockWidget* MainWindow::AddPanelDock(const QString& title, const QString& name, QWidget* content) {
  auto* scroll = new QScrollArea(this);
  scroll->setWidget(content);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  auto* d = new QDockWidget(title, this);
  d->setObjectName(name);  // saveState() needs names
  d->setWidget(scroll);
  addDockWidget(Qt::BottomDockWidgetArea, d);
  tabifyDockWidget(frames_dock_, d);
  connect(d, &QDockWidget::visibilityChanged, this, [this, d, content](bool visible) {
    if (visible && !d->isFloating())
      QTimer::singleShot(0, this, [this, d, content] { FitBottomArea(this, d, content->sizeHint().height() + 40); });
  });
  return d;
}

QStringList MainWindow::PanelNames() const {
  QStringList names;
  for (const QDockWidget* d : findChildren<QDockWidget*>())
    if (d->objectName().startsWith("dock_")) names << d->objectName().mid(5);
  return names;
}

bool MainWindow::ShowPanel(const QString& name) {
  auto* d = findChild<QDockWidget*>("dock_" + name);
  if (!d) return false;
  d->show();
  d->raise();
  return true;
}

void MainWindow::BuildPanels() {
  connect(frames_dock_, &QDockWidget::visibilityChanged, this, [this](bool visible) {
    if (visible && !frames_dock_->isFloating())
      QTimer::singleShot(0, this, [this] { FitBottomArea(this, frames_dock_, filmstrip_->sizeHint().height() + 30); });
  });

  // Palette: colour augmentation of the open dataset (issue "colour augmentation").
  palette_panel_ = new widgets::PalettePanel(this);
  AddPanelDock(tr("Palette"), "dock_palette", palette_panel_);
  connect(this, &MainWindow::datasetOpened, palette_panel_, [this](bool ok) {
    if (ok) palette_panel_->setDatasetRoot(folder_, split_.isEmpty() ? QStringLiteral("test") : split_);
  });
  connect(this, &MainWindow::pairShown, palette_panel_, [this](int scene, int pair) {
    if (!dataset_ || scene < 0 || scene >= static_cast<int>(dataset_->scenes().size())) return;
    palette_panel_->setCurrentFrame(QString::fromStdString(dataset_->scenes()[scene].name), pair);
  });
  // A new colour pass shows up in the pass selector: re-index, keeping scene and pair.
  connect(palette_panel_, &widgets::PalettePanel::passWritten, this,
          [this](const QString& pass, const QStringList&) { SetPass(pass); });

  frames_dock_->raise();  // the filmstrip is the tab shown first
}

}  // namespace animerun::gui
