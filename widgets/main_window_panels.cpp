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

#include "widgets/colorize_view.h"
#include "widgets/correspondence_panel.h"
#include "widgets/filmstrip.h"
#include "widgets/flow_panel.h"
#include "widgets/main_window.h"
#include "widgets/pair_view.h"
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

  // Flow: run the flow networks on the shown pair and score them against its ground truth
  // (issue "Flow models: PWC-Net, RAFT, GMA and GMFlow in LibTorch").
  FlowPanelOptions flow_options;
  flow_options.use_settings = options_.use_settings;
  flow_panel_ = new FlowPanel(this, flow_options);
  AddPanelDock(tr("Flow"), "dock_flow", flow_panel_);
  connect(this, &MainWindow::datasetOpened, flow_panel_, [this](bool ok) {
    if (!ok) flow_panel_->clearPair(tr("No dataset open"));
  });
  connect(this, &MainWindow::pairShown, flow_panel_, [this](int scene, int pair) {
    if (!dataset_ || scene < 0 || scene >= static_cast<int>(dataset_->scenes().size()) || !pair_view_->HasPair()) {
      flow_panel_->clearPair(tr("No pair loaded"));
      return;
    }
    const data::Scene& s = dataset_->scenes()[scene];
    if (pair < 0 || pair >= static_cast<int>(s.pairs.size())) return;
    flow_panel_->setPair(pair_view_->pair(), QString::fromStdString(s.name + "  " + s.pairs[pair].name1 + " -> " +
                                                                     s.pairs[pair].name2));
  });

  // Correspondences: correct the segment matches of the shown pair (issue "Segments, AnT
  // matching, correspondence annotation and colorization"). Edits go to
  // <split>/Annotations/SegMatching, never to the ground truth.
  widgets::CorrespondencePanelOptions correspondence_options;
  correspondence_options.modal_errors = options_.modal_errors;
  correspondence_panel_ = new widgets::CorrespondencePanel(this, correspondence_options);
  AddPanelDock(tr("Correspondences"), "dock_correspondence", correspondence_panel_);
  connect(this, &MainWindow::datasetOpened, correspondence_panel_, [this](bool ok) {
    if (!ok) correspondence_panel_->clearPair(tr("No dataset open"));
  });
  connect(this, &MainWindow::pairShown, correspondence_panel_, [this](int scene, int pair) {
    if (!dataset_ || scene < 0 || scene >= static_cast<int>(dataset_->scenes().size()) || !pair_view_->HasPair()) {
      correspondence_panel_->clearPair(tr("No pair loaded"));
      return;
    }
    const auto& pairs = dataset_->scenes()[scene].pairs;
    if (pair < 0 || pair >= static_cast<int>(pairs.size())) return;
    correspondence_panel_->setPair(QString::fromStdString(dataset_->root().string()), pairs[pair], pair_view_->pair());
  });
  // A segment picked in frame t of the pair view is selected in the panel too.
  connect(pair_view_, &PairView::segmentPicked, correspondence_panel_, [this](const view::SegmentPick& pick) {
    if (pick.frame == 0 && pick.valid()) correspondence_panel_->SelectSegment(pick.segment);
  });

  // Colorization: colours the shown cut's line art (contour/) from its first frame by
  // segment matching, with paint-bucket fixes (same issue). Follows the shown cut and pair.
  widgets::ColorizeViewOptions colorize_options;
  colorize_options.modal_errors = options_.modal_errors;
  colorize_view_ = new widgets::ColorizeView(this, colorize_options);
  QDockWidget* colorize_dock = AddPanelDock(tr("Colorize"), "dock_colorize", colorize_view_);
  connect(this, &MainWindow::datasetOpened, colorize_view_, [this](bool ok) {
    if (!ok && !dataset_) colorize_view_->Clear();  // pairShown (before this) set a cut when ok
  });
  // Propagation segments and matches a whole cut: only while the tab is in front, and
  // catching up with the shown cut when it comes to the front.
  auto sync_colorize = [this, colorize_dock] {
    if (!colorize_dock->isVisible() || !dataset_ || scene_index_ < 0 ||
        scene_index_ >= static_cast<int>(dataset_->scenes().size()))
      return;
    colorize_view_->SetScene(dataset_->scenes()[scene_index_]);
    colorize_view_->showFrame(pair_index_);
  };
  connect(this, &MainWindow::pairShown, colorize_view_, sync_colorize);
  connect(colorize_dock, &QDockWidget::visibilityChanged, colorize_view_, [sync_colorize](bool visible) {
    if (visible) sync_colorize();
  });

  frames_dock_->raise();  // the filmstrip is the tab shown first
}

}  // namespace animerun::gui
