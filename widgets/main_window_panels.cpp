// The tool panels of the main window. Each panel is a self-contained widget over core; here
// it is docked (tabbed with the Info panel, so the pair view keeps its width) and fed the
// open dataset and the shown pair. One block per panel.
#include <QDockWidget>

#include "widgets/main_window.h"
#include "widgets/palette_panel.h"

namespace animerun::gui {

QDockWidget* MainWindow::AddPanelDock(const QString& title, const QString& name, QWidget* content) {
  auto* d = new QDockWidget(title, this);
  d->setObjectName(name);  // saveState() needs names
  d->setWidget(content);
  addDockWidget(Qt::RightDockWidgetArea, d);
  tabifyDockWidget(info_dock_, d);
  return d;
}

void MainWindow::BuildPanels() {
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
  connect(palette_panel_, &widgets::PalettePanel::passWritten, this, [this](const QString& pass, const QStringList&) {
    SetPass(pass);
  });

  info_dock_->raise();  // Info is the tab shown first
}

}  // namespace animerun::gui
