#include "app/gui/main_window.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProgressDialog>
#include <QScrollArea>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>

#include <exception>

#include "app/gui/panel_docks.h"
#include "core/io/flow_io.h"
#include "core/io/image_io.h"
#include "core/view/overlay.h"
#include "core/view/pair_summary.h"
#include "widgets/colorize/colorize_view.h"
#include "widgets/common/qt_image.h"
#include "widgets/common/qt_jobs.h"
#include "widgets/common/session_model.h"
#include "widgets/correspondence/correspondence_panel.h"
#include "widgets/flow/flow_panel.h"
#include "widgets/pair/filmstrip.h"
#include "widgets/pair/info_panel.h"
#include "widgets/pair/pair_view.h"
#include "widgets/pair/scene_list.h"
#include "widgets/palette/palette_panel.h"
#include "widgets/train/train_dialog.h"

// Resources of a static library must be registered by hand (outside any namespace).
static void InitAnimeRunResources() { Q_INIT_RESOURCE(resources); }

namespace animerun::gui {

namespace fs = std::filesystem;
using widgets::ToPath;
using widgets::ToQString;

namespace {

QIcon AppIcon() {
  InitAnimeRunResources();
  QIcon icon;
  for (int size : {32, 64, 256}) icon.addFile(QString(":/icons/animerun-%1.png").arg(size), QSize(size, size));
  return icon;
}

}  // namespace

MainWindow::MainWindow(const MainWindowOptions& options, QWidget* parent) : QMainWindow(parent), options_(options) {
  setWindowTitle(tr("AnimeRun Studio"));
  setWindowIcon(AppIcon());
  setAcceptDrops(true);
  session_ = new widgets::SessionModel(this);
  BuildUi();
  BuildPanels();
  menus_ = new WindowMenus(this);
  connect(menus_, &WindowMenus::overlaysChanged, this, &MainWindow::UpdateOverlays);
  ConnectSession();
  resize(1500, 900);
  if (options_.use_settings) RestoreSettings();
  UpdateOverlays();
  UpdateStatus();
}

MainWindow::~MainWindow() = default;

void MainWindow::BuildUi() {
  pair_view_ = new widgets::PairView(this);
  setCentralWidget(pair_view_);
  auto dock = [this](const QString& title, const QString& name, QWidget* content, Qt::DockWidgetArea area) {
    auto* d = new QDockWidget(title, this);
    d->setObjectName(name);  // saveState() needs names
    d->setWidget(content);
    addDockWidget(area, d);
    return d;
  };
  scene_list_ = new widgets::SceneList(this);
  QDockWidget* scenes = dock(tr("Scenes"), "dock_scenes", scene_list_, Qt::LeftDockWidgetArea);
  filmstrip_ = new widgets::Filmstrip(this);
  frames_dock_ = dock(tr("Frames"), "dock_frames", filmstrip_, Qt::BottomDockWidgetArea);
  info_ = new widgets::InfoPanel(this);
  auto* scroll = new QScrollArea(this);
  scroll->setWidget(info_);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  QDockWidget* info = dock(tr("Info"), "dock_info", scroll, Qt::RightDockWidgetArea);
  log_ = new QPlainTextEdit(this);
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(5000);
  QDockWidget* log = dock(tr("Log"), "dock_log", log_, Qt::RightDockWidgetArea);
  splitDockWidget(info, log, Qt::Vertical);
  resizeDocks({scenes, info}, {220, 300}, Qt::Horizontal);
  resizeDocks({info, log}, {700, 130}, Qt::Vertical);

  hover_label_ = new QLabel(this);
  position_label_ = new QLabel(this);
  zoom_label_ = new QLabel(this);
  statusBar()->addWidget(hover_label_, 1);
  statusBar()->addPermanentWidget(position_label_);
  statusBar()->addPermanentWidget(zoom_label_);

  connect(scene_list_, &widgets::SceneList::sceneActivated, this, &MainWindow::SetScene);
  connect(filmstrip_, &widgets::Filmstrip::pairActivated, this, &MainWindow::SetPair);
  connect(pair_view_, &widgets::PairView::segmentPicked, this, [this](const view::SegmentPick& pick) {
    info_->SetSelection(pick);
    statusBar()->showMessage(QString::fromStdString(pick.Describe()), 6000);
  });
  connect(pair_view_, &widgets::PairView::hovered, this, [this](const view::FlowProbe& probe) {
    info_->SetHover(probe);
    hover_label_->setText(QString::fromStdString(probe.Describe()));
  });
  connect(pair_view_, &widgets::PairView::hoverCleared, this, [this] {
    info_->ClearHover();
    hover_label_->clear();
  });
  connect(pair_view_, &widgets::PairView::zoomChanged, this, [this] { UpdateStatus(); });
  connect(pair_view_, &widgets::PairView::renderFailed, this, &MainWindow::ReportError);
}

void MainWindow::BuildPanels() {
  docks_ = new PanelDocks(this, frames_dock_, filmstrip_);
  // Each panel observes the session itself; only what crosses panels is wired here.
  widgets::PalettePanelOptions palette_options;
  palette_options.modal_errors = options_.modal_errors;
  palette_panel_ = new widgets::PalettePanel(this, palette_options);
  palette_panel_->SetSession(session_);
  docks_->Add(tr("Palette"), "dock_palette", palette_panel_);
  // A written colour pass shows up in the pass selector: re-index, keeping scene and pair.
  connect(palette_panel_, &widgets::PalettePanel::passWritten, this, [this](const QString& pass) {
    if (pass == CurrentPass())
      session_->session().Reload();
    else
      SetPass(pass);
  });

  widgets::FlowPanelOptions flow_options;
  flow_options.use_settings = options_.use_settings;
  flow_panel_ = new widgets::FlowPanel(this, flow_options);
  flow_panel_->SetSession(session_);
  docks_->Add(tr("Flow"), "dock_flow", flow_panel_);

  widgets::CorrespondencePanelOptions correspondence_options;
  correspondence_options.modal_errors = options_.modal_errors;
  correspondence_panel_ = new widgets::CorrespondencePanel(this, correspondence_options);
  correspondence_panel_->SetSession(session_);
  docks_->Add(tr("Correspondences"), "dock_correspondence", correspondence_panel_);
  // A segment picked in frame t of the pair view is selected in the panel too.
  connect(pair_view_, &widgets::PairView::segmentPicked, correspondence_panel_, [this](const view::SegmentPick& pick) {
    if (pick.frame == 0 && pick.valid()) correspondence_panel_->SelectSegment(pick.segment);
  });

  widgets::ColorizeViewOptions colorize_options;
  colorize_options.modal_errors = options_.modal_errors;
  colorize_view_ = new widgets::ColorizeView(this, colorize_options);
  colorize_view_->SetSession(session_);  // works only while its tab is in front
  docks_->Add(tr("Colorize"), "dock_colorize", colorize_view_);

  frames_dock_->raise();  // the filmstrip is the tab shown first
}

void MainWindow::ConnectSession() {
  connect(session_, &widgets::SessionModel::logLine, this, &MainWindow::Log);
  connect(session_, &widgets::SessionModel::opening, this, &MainWindow::OnOpening);
  connect(session_, &widgets::SessionModel::progress, this, [this](double fraction, const QString& message) {
    if (!progress_) return;
    if (!message.isEmpty()) progress_->setLabelText(opening_title_ + "\n" + message);
    // Last: a modal dialog's setValue processes events, in which the open may end and the
    // dialog go.
    progress_->setValue(static_cast<int>(fraction * 1000));
  });
  connect(session_, &widgets::SessionModel::datasetChanged, this, &MainWindow::OnDatasetChanged);
  connect(session_, &widgets::SessionModel::sceneChanged, this, &MainWindow::OnSceneChanged);
  connect(session_, &widgets::SessionModel::pairChanged, this, &MainWindow::OnPairChanged);
  connect(session_, &widgets::SessionModel::openFinished, this, &MainWindow::OnOpenFinished);
}

// --- Opening ---------------------------------------------------------------------------

QString MainWindow::DemoFolder() { return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/demo"; }

bool MainWindow::Busy() const { return session_->Busy(); }

bool MainWindow::WaitIdle(int timeout_ms) {
  return widgets::ProcessEventsWhile([this] { return Busy(); }, timeout_ms);
}

bool MainWindow::WaitPanelsIdle(int timeout_ms) {
  return widgets::ProcessEventsWhile(
      [this] { return Busy() || palette_panel_->Busy() || flow_panel_->Busy() || colorize_view_->Busy() ||
                      correspondence_panel_->Busy() || filmstrip_->Loading(); },
      timeout_ms);
}

void MainWindow::OpenFolder(const QString& folder, const QString& split) {
  opening_title_ = tr("Indexing %1...").arg(QFileInfo(folder).fileName());
  session_->session().Open(ToPath(folder), split.toStdString());
}

void MainWindow::OpenDemo() {
  opening_title_ = tr("Generating the demo dataset (first run only)...");
  session_->session().OpenDemo(ToPath(DemoFolder()));
}

void MainWindow::OpenStartup() {
  if (options_.use_settings) {
    QSettings s;
    const QString last = s.value("data/lastFolder").toString();
    if (!last.isEmpty() && QFileInfo(last).isDir() && !view::DetectSplits(ToPath(last)).empty()) {
      OpenFolder(last, s.value("data/lastSplit").toString());
      return;
    }
  }
  OpenDemo();
}

void MainWindow::ChooseFolder() {
  const QString folder = CurrentFolder();
  const QString start = folder.isEmpty() ? QDir::homePath() : QFileInfo(folder).absolutePath();
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Open an AnimeRun folder"), start);
  if (!dir.isEmpty()) OpenFolder(dir);
}

void MainWindow::OnOpening() {
  if (progress_) progress_->deleteLater();
  progress_ = nullptr;
  statusBar()->showMessage(opening_title_);
  if (!options_.progress_dialog) return;
  progress_ = new QProgressDialog(opening_title_, tr("Cancel"), 0, 1000, this);
  progress_->setWindowTitle(tr("AnimeRun Studio"));
  progress_->setWindowModality(Qt::WindowModal);
  progress_->setMinimumDuration(400);
  progress_->setAutoClose(false);
  progress_->setAutoReset(false);
  progress_->setValue(0);
  connect(progress_, &QProgressDialog::canceled, this, [this] { session_->session().CancelOpen(); });
}

void MainWindow::OnDatasetChanged() {
  const session::Session& s = session_->session();
  setWindowTitle(tr("%1 - AnimeRun Studio").arg(QDir::toNativeSeparators(CurrentFolder())));
  scene_list_->SetScenes(s.dataset()->scenes());
  menus_->SetSplits(view::DetectSplits(s.folder()), CurrentSplit());
  const size_t problems = s.dataset()->AllProblems().size();
  if (problems) statusBar()->showMessage(tr("%1 problem(s) found: see the Log panel").arg(problems), 10000);
  if (options_.use_settings) {
    QSettings settings;
    settings.setValue("data/lastFolder", CurrentFolder());
    settings.setValue("data/lastSplit", CurrentSplit());
  }
}

void MainWindow::OnSceneChanged() {
  const data::Scene* scene = session_->session().scene();
  if (!scene) {
    filmstrip_->ClearFrames();
    return;
  }
  scene_list_->SetCurrentScene(SceneIndex());
  filmstrip_->SetFrames(scene->frames, static_cast<int>(scene->pairs.size()));
  menus_->SetPasses(scene->passes, CurrentPass());
}

void MainWindow::OnPairChanged() {
  const session::Session& s = session_->session();
  info_->ClearSelection();
  info_->ClearPrediction();
  const data::Scene* scene = s.scene();
  const data::FramePair* p = s.frame_pair();
  if (s.pair() && p) {
    const QString grey = "<span style=\"color:gray\">%1</span>";
    const QString name1 = QString::fromStdString(p->name1), name2 = QString::fromStdString(p->name2);
    pair_view_->SetPair(s.pair(), "<b>t</b> &nbsp;" + name1.toHtmlEscaped() + " &nbsp;" + grey.arg(tr("forward flow")),
                        "<b>t+1</b> &nbsp;" + name2.toHtmlEscaped() + " &nbsp;" + grey.arg(tr("backward flow")));
    std::vector<std::string> lines = view::SummarizePair(*s.pair()).Lines();
    if (!scene->problems.empty())
      lines.push_back(std::to_string(scene->problems.size()) + " problem(s) in this scene: see the Log panel");
    info_->SetPair(tr("%1  %2 -> %3").arg(QString::fromStdString(scene->name), name1, name2), lines);
  } else if (p) {  // the pair's files could not be loaded
    pair_view_->ClearPair(tr("Pair %1 -> %2 could not be loaded").arg(QString::fromStdString(p->name1),
                                                                      QString::fromStdString(p->name2)));
    info_->ClearPair(QString::fromStdString(s.pair_error()));
    ReportError(QString::fromStdString(s.pair_error()));
  } else if (scene) {
    QString msg = tr("Scene %1 has no complete frame pair.").arg(QString::fromStdString(scene->name));
    pair_view_->ClearPair(msg);
    for (const std::string& problem : scene->problems) msg += "\n" + QString::fromStdString(problem);
    info_->ClearPair(msg);
  } else {
    pair_view_->ClearPair(tr("%1 has no scenes").arg(CurrentFolder()));
    info_->ClearPair();
  }
  filmstrip_->SetCurrentPair(PairIndex());
  UpdateStatus();
  emit pairShown(SceneIndex(), PairIndex());
}

void MainWindow::OnOpenFinished(bool ok, const QString& error) {
  if (progress_) {
    progress_->disconnect(this);  // closing the dialog emits canceled()
    progress_->close();
    progress_->deleteLater();
    progress_ = nullptr;
  }
  statusBar()->clearMessage();
  if (!ok && !error.isEmpty()) ReportError(error);
  emit datasetOpened(ok);
}

// --- Navigation --------------------------------------------------------------------------

void MainWindow::SetScene(int index) { session_->session().SetScene(index); }
void MainWindow::SetPair(int index) { session_->session().SetPair(index); }
void MainWindow::FirstPair() { session_->session().FirstPair(); }
void MainWindow::LastPair() { session_->session().LastPair(); }
void MainWindow::NextPair() { session_->session().NextPair(); }
void MainWindow::PrevPair() { session_->session().PrevPair(); }
void MainWindow::NextScene() { session_->session().NextScene(); }
void MainWindow::PrevScene() { session_->session().PrevScene(); }
int MainWindow::SceneIndex() const { return session_->session().scene_index(); }
int MainWindow::PairIndex() const { return session_->session().pair_index(); }
const data::AnimeRunDataset* MainWindow::Dataset() const { return session_->session().dataset().get(); }
QString MainWindow::CurrentFolder() const { return ToQString(session_->session().folder()); }
QString MainWindow::CurrentSplit() const { return QString::fromStdString(session_->session().split()); }
void MainWindow::SetPass(const QString& pass) { session_->session().SetPass(pass.toStdString()); }
QString MainWindow::CurrentPass() const { return QString::fromStdString(session_->session().pass()); }

// --- View, files -------------------------------------------------------------------------

void MainWindow::SetOverlay(Overlay overlay, bool on) { menus_->OverlayAction(overlay)->setChecked(on); }
bool MainWindow::OverlayOn(Overlay overlay) const { return menus_->OverlayAction(overlay)->isChecked(); }

void MainWindow::UpdateOverlays() {
  view::OverlayOptions o = pair_view_->overlays();
  o.flow_color = OverlayOn(Overlay::kFlowColor);
  o.flow_arrows = OverlayOn(Overlay::kFlowArrows);
  o.boundaries = OverlayOn(Overlay::kBoundaries);
  o.occlusion = OverlayOn(Overlay::kOcclusion);
  o.lines = OverlayOn(Overlay::kLines);
  pair_view_->SetOverlays(o);
}

void MainWindow::ClearSelection() {
  pair_view_->ClearSelection();
  info_->ClearSelection();
}

void MainWindow::ShowTrainDialog() {
  // One training dialog per window, kept while training runs in it.
  auto* dialog = findChild<widgets::TrainDialog*>();
  if (!dialog) {
    dialog = new widgets::TrainDialog(this);
    connect(dialog, &widgets::TrainDialog::compareInFlowPanel, this,
            [this](const QString& model, const QString& trained, const QString& start) {
              CompareFlowWeights(model, trained, start);
            });
    if (const data::AnimeRunDataset* ds = Dataset()) {  // the open split's parent holds the splits
      train::TrainOptions o = dialog->options();
      o.data = ds->root().parent_path().string();
      dialog->setOptions(o);
    }
  }
  dialog->show();
  dialog->raise();
}

void MainWindow::CompareFlowWeights(const QString& model, const QString& trained, const QString& start) {
  // Model A: the weights the run exported; model B: those it started from. A run that
  // started from random weights has nothing to compare against: A alone.
  ShowPanel(QStringLiteral("flow"));
  flow_panel_->SetModel(0, model);
  flow_panel_->SetWeights(0, trained);
  const bool compare = !start.isEmpty();
  if (compare) {
    flow_panel_->SetModel(1, model);
    flow_panel_->SetWeights(1, start);
  }
  flow_panel_->SetCompare(compare);
  statusBar()->showMessage(compare ? tr("Flow panel: A = %1 (trained), B = %2 (start)").arg(trained, start)
                                   : tr("Flow panel: A = %1 (trained; the run started from random weights)").arg(trained),
                           10000);
  if (flow_panel_->HasPair()) flow_panel_->run();
}

void MainWindow::LoadPrediction() {
  if (!pair_view_->HasPair()) return;
  const QString file = QFileDialog::getOpenFileName(this, tr("Load a predicted flow for this pair"), CurrentFolder(),
                                                    tr("Flow files (*.flo *.png *.pfm);;All files (*)"));
  if (!file.isEmpty()) LoadPredictionFile(file);
}

bool MainWindow::LoadPredictionFile(const QString& file) {
  const auto pair = session_->session().pair();
  if (!pair) {
    ReportError(tr("%1: no pair is shown to compare the prediction with").arg(file));
    return false;
  }
  try {
    const cv::Mat flow = io::ReadFlowAuto(ToPath(file));
    const view::PredictionScore score = view::ScorePrediction(*pair, flow, file.toStdString());
    info_->SetPrediction(QFileInfo(file).fileName(), score.Lines());
    for (const std::string& l : score.Lines()) Log("score", QFileInfo(file).fileName() + ": " + QString::fromStdString(l));
    return true;
  } catch (const std::exception& e) {
    ReportError(QString::fromStdString(e.what()));
    return false;
  }
}

void MainWindow::SaveViewImages() {
  if (!pair_view_->HasPair()) return;
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Save the two views as PNG into"), QDir::homePath());
  if (!dir.isEmpty()) SaveViewImagesTo(dir);
}

bool MainWindow::SaveViewImagesTo(const QString& dir) {
  const session::Session& s = session_->session();
  if (!pair_view_->HasPair() || !s.frame_pair()) return false;
  const std::string stem = s.frame_pair()->scene + "_" + s.frame_pair()->name1;
  try {
    for (int i = 0; i < 2; ++i) {
      const fs::path out = ToPath(dir) / (stem + (i == 0 ? "_t.png" : "_t1.png"));
      // The same composition the panes show, written by core (atomically).
      io::WriteImage(out, view::ComposeFrameView(pair_view_->pair(), i, pair_view_->overlays(), pair_view_->HighlightFor(i)));
      Log("info", tr("saved %1").arg(ToQString(out)));
    }
    return true;
  } catch (const std::exception& e) {
    ReportError(QString::fromStdString(e.what()));
    return false;
  }
}

bool MainWindow::ShowPanel(const QString& name) { return docks_->Show(name); }
QStringList MainWindow::PanelNames() const { return docks_->Names(); }

void MainWindow::UpdateStatus() {
  const data::AnimeRunDataset* ds = Dataset();
  if (ds && SceneIndex() >= 0) {
    position_label_->setText(tr("scene %1/%2  pair %3/%4")
                                 .arg(SceneIndex() + 1)
                                 .arg(ds->scenes().size())
                                 .arg(PairIndex() + 1)
                                 .arg(ds->scenes()[static_cast<size_t>(SceneIndex())].pairs.size()));
  } else {
    position_label_->setText(tr("no dataset"));
  }
  zoom_label_->setText(tr("zoom %1 %").arg(pair_view_->Zoom() * 100.0, 0, 'f', 0));
}

void MainWindow::Log(const QString& level, const QString& message) {
  const QString line = level.isEmpty() ? message : level + ": " + message;
  log_lines_ << line;
  log_->appendPlainText(line);
}

void MainWindow::ReportError(const QString& message) {
  last_error_ = message;
  Log("error", message);
  statusBar()->showMessage(message, 10000);
  if (options_.modal_errors) QMessageBox::warning(this, tr("AnimeRun Studio"), message);
}

// --- Window ------------------------------------------------------------------------------

void MainWindow::RestoreSettings() {
  QSettings s;
  restoreGeometry(s.value("window/geometry").toByteArray());
  restoreState(s.value("window/state").toByteArray());
  const int mask = s.value("view/overlays", 0).toInt();
  for (int i = 0; i < static_cast<int>(Overlay::kCount); ++i) SetOverlay(static_cast<Overlay>(i), mask & (1 << i));
}

void MainWindow::SaveSettings() {
  QSettings s;
  s.setValue("window/geometry", saveGeometry());
  s.setValue("window/state", saveState());
  int mask = 0;
  for (int i = 0; i < static_cast<int>(Overlay::kCount); ++i) mask |= OverlayOn(static_cast<Overlay>(i)) << i;
  s.setValue("view/overlays", mask);
  if (!CurrentFolder().isEmpty()) {
    s.setValue("data/lastFolder", CurrentFolder());
    s.setValue("data/lastSplit", CurrentSplit());
  }
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (options_.use_settings) SaveSettings();
  session_->session().CancelOpen();
  event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  const QMimeData* mime = event->mimeData();
  if (mime->hasUrls() && !mime->urls().isEmpty() && mime->urls().first().isLocalFile() &&
      QFileInfo(mime->urls().first().toLocalFile()).isDir())
    event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const QList<QUrl> urls = event->mimeData()->urls();
  if (urls.isEmpty()) return;
  event->acceptProposedAction();
  OpenFolder(urls.first().toLocalFile());
}

}  // namespace animerun::gui
