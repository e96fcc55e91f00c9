#include "widgets/main_window.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProgressDialog>
#include <QScrollArea>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QStyle>
#include <QThread>
#include <QToolBar>

#include <exception>

#include "core/data/synth.h"
#include "core/view/pair_summary.h"
#include "widgets/background_task.h"
#include "widgets/filmstrip.h"
#include "widgets/info_panel.h"
#include "widgets/pair_view.h"
#include "widgets/qt_image.h"
#include "widgets/scene_list.h"
#include "widgets/train_dialog.h"

// Resources of a static library must be registered by hand (outside any namespace).
static void InitAnimeRunResources() { Q_INIT_RESOURCE(resources); }

namespace animerun::gui {

namespace fs = std::filesystem;

QIcon AppIcon() {
  InitAnimeRunResources();
  QIcon icon;
  for (int size : {32, 64, 256}) icon.addFile(QString(":/icons/animerun-%1.png").arg(size), QSize(size, size));
  return icon;
}

MainWindow::MainWindow(const MainWindowOptions& options, QWidget* parent) : QMainWindow(parent), options_(options) {
  options_.Check();
  setWindowTitle(tr("AnimeRun Studio"));
  setWindowIcon(AppIcon());
  setAcceptDrops(true);
  task_ = new BackgroundTask(this);
  connect(task_, &BackgroundTask::progress, this, [this](double fraction, const QString& message) {
    if (!progress_) return;
    progress_->setValue(static_cast<int>(fraction * 1000));
    if (!message.isEmpty()) progress_->setLabelText(progress_->property("title").toString() + "\n" + message);
  });
  connect(task_, &BackgroundTask::finished, this, &MainWindow::OnJobFinished);
  BuildUi();
  BuildMenus();
  resize(1500, 900);
  if (options_.use_settings) RestoreSettings();
  UpdateOverlays();
  UpdateStatus();
}

MainWindow::~MainWindow() { task_->Stop(); }

void MainWindow::BuildUi() {
  pair_view_ = new PairView(this);
  setCentralWidget(pair_view_);

  auto dock = [this](const QString& title, const QString& name, QWidget* content, Qt::DockWidgetArea area) {
    auto* d = new QDockWidget(title, this);
    d->setObjectName(name);  // saveState() needs names
    d->setWidget(content);
    addDockWidget(area, d);
    return d;
  };
  scene_list_ = new SceneList(this);
  QDockWidget* scenes = dock(tr("Scenes"), "dock_scenes", scene_list_, Qt::LeftDockWidgetArea);
  filmstrip_ = new Filmstrip(this);
  frames_dock_ = dock(tr("Frames"), "dock_frames", filmstrip_, Qt::BottomDockWidgetArea);
  info_ = new InfoPanel(this);
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
  BuildPanels();

  hover_label_ = new QLabel(this);
  position_label_ = new QLabel(this);
  zoom_label_ = new QLabel(this);
  statusBar()->addWidget(hover_label_, 1);
  statusBar()->addPermanentWidget(position_label_);
  statusBar()->addPermanentWidget(zoom_label_);

  connect(scene_list_, &SceneList::sceneActivated, this, &MainWindow::SetScene);
  connect(filmstrip_, &Filmstrip::pairActivated, this, &MainWindow::SetPair);
  connect(pair_view_, &PairView::segmentPicked, this, [this](const view::SegmentPick& pick) {
    info_->SetSelection(pick);
    statusBar()->showMessage(QString::fromStdString(pick.Describe()), 6000);
  });
  connect(pair_view_, &PairView::hovered, this, [this](const view::FlowProbe& probe) {
    info_->SetHover(probe);
    hover_label_->setText(QString::fromStdString(probe.Describe()));
  });
  connect(pair_view_, &PairView::hoverCleared, this, [this] {
    info_->ClearHover();
    hover_label_->clear();
  });
  connect(pair_view_, &PairView::zoomChanged, this, [this] { UpdateStatus(); });
  connect(pair_view_, &PairView::renderFailed, this, &MainWindow::ReportError);
}

void MainWindow::BuildMenus() {
  auto add = [this](QMenu* menu, const QString& text, const QList<QKeySequence>& keys, auto slot) {
    auto* a = menu->addAction(text);
    a->setShortcuts(keys);
    connect(a, &QAction::triggered, this, slot);
    return a;
  };
  QToolBar* bar = addToolBar(tr("Main"));
  bar->setObjectName("toolbar_main");
  bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);

  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* open = add(file, tr("&Open Folder..."), {QKeySequence::Open}, [this] { ChooseFolder(); });
  open->setIcon(style()->standardIcon(QStyle::SP_DirOpenIcon));
  QAction* demo = add(file, tr("Open &Demo"), {QKeySequence("Ctrl+D")}, [this] { OpenDemo(); });
  demo->setIcon(windowIcon());
  file->addSeparator();
  add(file, tr("&Load Predicted Flow..."), {QKeySequence("Ctrl+L")}, [this] { LoadPrediction(); });
  add(file, tr("&Save View Images..."), {QKeySequence::Save}, [this] { SaveViewImages(); });
  file->addSeparator();
  add(file, tr("&Quit"), {QKeySequence::Quit}, [this] { close(); });
  bar->addAction(open);
  bar->addAction(demo);
  bar->addSeparator();

  QMenu* viewm = menuBar()->addMenu(tr("&View"));
  const char* names[] = {QT_TR_NOOP("&Colour Flow"), QT_TR_NOOP("Flow &Arrows"), QT_TR_NOOP("Segment &Boundaries"),
                         QT_TR_NOOP("&Occlusion Mask"), QT_TR_NOOP("&Line Mask")};
  const char* short_names[] = {"Flow", "Arrows", "Boundaries", "Occlusion", "Lines"};
  for (int i = 0; i < static_cast<int>(Overlay::kCount); ++i) {
    QAction* a = viewm->addAction(tr(names[i]));
    a->setCheckable(true);
    a->setShortcut(QKeySequence(QString::number(i + 1)));
    a->setIconText(tr(short_names[i]));
    a->setToolTip(tr("%1 (%2)").arg(tr(short_names[i])).arg(i + 1));
    connect(a, &QAction::toggled, this, [this] { UpdateOverlays(); });
    overlay_actions_[i] = a;
    bar->addAction(a);
  }
  viewm->addSeparator();
  QAction* zin = add(viewm, tr("Zoom &In"), {QKeySequence("+"), QKeySequence("="), QKeySequence::ZoomIn},
                     [this] { pair_view_->ZoomIn(); });
  QAction* zout = add(viewm, tr("Zoom O&ut"), {QKeySequence("-"), QKeySequence::ZoomOut}, [this] { pair_view_->ZoomOut(); });
  QAction* fit = add(viewm, tr("&Fit to Window"), {QKeySequence("0"), QKeySequence("F")}, [this] { pair_view_->FitToWindow(); });
  add(viewm, tr("Actual &Pixels"), {QKeySequence("Ctrl+0")}, [this] { pair_view_->SetZoom(1.0); });
  add(viewm, tr("Clear &Selection"), {QKeySequence("Esc")}, [this] {
    pair_view_->ClearSelection();
    info_->ClearSelection();
  });
  bar->addSeparator();
  zin->setIconText(tr("Zoom +"));
  zout->setIconText(tr("Zoom -"));
  fit->setIconText(tr("Fit"));
  bar->addAction(zin);
  bar->addAction(zout);
  bar->addAction(fit);
  bar->addSeparator();
  bar->addWidget(new QLabel(tr(" Pass "), this));
  pass_box_ = new QComboBox(this);
  pass_box_->setToolTip(tr("Which Frame_Anime pass supplies the images"));
  pass_box_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  pass_box_->setFocusPolicy(Qt::NoFocus);
  connect(pass_box_, &QComboBox::activated, this, [this](int i) { SetPass(pass_box_->itemText(i)); });
  bar->addWidget(pass_box_);
  viewm->addSeparator();
  split_menu_ = viewm->addMenu(tr("S&plit"));
  split_group_ = new QActionGroup(this);
  viewm->addSeparator();
  for (QDockWidget* d : findChildren<QDockWidget*>()) viewm->addAction(d->toggleViewAction());

  QMenu* go = menuBar()->addMenu(tr("&Go"));
  add(go, tr("&Next Pair"), {QKeySequence(Qt::Key_Right), QKeySequence("N")}, [this] { NextPair(); });
  add(go, tr("&Previous Pair"), {QKeySequence(Qt::Key_Left), QKeySequence("P")}, [this] { PrevPair(); });
  add(go, tr("&First Pair"), {QKeySequence(Qt::Key_Home)}, [this] { SetPair(0); });
  add(go, tr("&Last Pair"), {QKeySequence(Qt::Key_End)}, [this] { SetPair(1 << 30); });
  go->addSeparator();
  add(go, tr("Next &Scene"), {QKeySequence(Qt::Key_PageDown)}, [this] { NextScene(); });
  add(go, tr("Previous S&cene"), {QKeySequence(Qt::Key_PageUp)}, [this] { PrevScene(); });

  // Tools > Train...: one training dialog per window, kept while training runs in it.
  QMenu* tools = menuBar()->addMenu(tr("&Tools"));
  QAction* train = add(tools, tr("&Train..."), {}, [this] {
    auto* dialog = findChild<widgets::TrainDialog*>();
    if (!dialog) {
      dialog = new widgets::TrainDialog(this);
      if (dataset_) {  // the open dataset's parent holds the train/test splits
        train::TrainOptions o = dialog->options();
        o.data = dataset_->root().parent_path().string();
        dialog->setOptions(o);
      }
    }
    dialog->show();
    dialog->raise();
  });
  train->setObjectName("action_train");

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  add(help, tr("&Keyboard Shortcuts"), {QKeySequence::HelpContents}, [this] { ShowShortcuts(); });
  add(help, tr("&About AnimeRun Studio"), {}, [this] { ShowAbout(); });
}

QStringList MainWindow::ShortcutLines() {
  // The table mirrors the actions BuildMenus creates; the test checks that they agree.
  return {
      "Ctrl+O\tFile > Open Folder...",
      "Ctrl+D\tFile > Open Demo",
      "Ctrl+L\tFile > Load Predicted Flow... (scores it against the ground truth)",
      "Ctrl+S\tFile > Save View Images...",
      "Ctrl+Q\tFile > Quit",
      "1\tView > Colour Flow (with legend)",
      "2\tView > Flow Arrows",
      "3\tView > Segment Boundaries",
      "4\tView > Occlusion Mask (UnmatchedForward = 0)",
      "5\tView > Line Mask (LineArea = 0)",
      "+, =, Ctrl++\tView > Zoom In",
      "-, Ctrl+-\tView > Zoom Out",
      "0, F\tView > Fit to Window",
      "Ctrl+0\tView > Actual Pixels",
      "Esc\tView > Clear Selection",
      "Right, N\tGo > Next Pair (continues into the next scene)",
      "Left, P\tGo > Previous Pair",
      "Home / End\tGo > First / Last Pair",
      "PgDown / PgUp\tGo > Next / Previous Scene",
      "F1\tHelp > Keyboard Shortcuts",
      "Mouse wheel\tZoom both frames around the pointer",
      "Drag\tPan both frames",
      "Click\tSelect a segment and its ground-truth match",
      "Hover\tShow the flow at the pixel and where it lands in the other frame",
      "Drop a folder\tOpen it",
      "N / Shift+N\tCorrespondences panel (focused): next / previous in the review queue",
      "U, Delete\tCorrespondences panel (focused): mark the selected segment unmatched",
      "R\tCorrespondences panel (focused): restore the proposed match",
      "Click in t+1\tCorrespondences panel: reassign the selected segment to the clicked one",
      "Ctrl+Z / Ctrl+Shift+Z\tCorrespondences panel (focused): undo / redo an edit",
  };
}

void MainWindow::ShowShortcuts() {
  QString html = "<table cellspacing=4>";
  for (const QString& line : ShortcutLines()) {
    const QStringList parts = line.split('\t');
    html += "<tr><td><b>" + parts[0].toHtmlEscaped() + "</b></td><td>" + parts.value(1).toHtmlEscaped() + "</td></tr>";
  }
  html += "</table>";
  QMessageBox box(QMessageBox::NoIcon, tr("Keyboard Shortcuts"), html, QMessageBox::Close, this);
  box.setTextFormat(Qt::RichText);
  box.exec();
}

void MainWindow::ShowAbout() {
  QMessageBox::about(this, tr("About AnimeRun Studio"),
                     tr("<b>AnimeRun Studio</b><br>Optical flow, segment matching and colorization for 2D "
                        "animation, built around the AnimeRun dataset (NeurIPS 2022 datasets track)."));
}

void MainWindow::RestoreSettings() {
  QSettings s;
  restoreGeometry(s.value("window/geometry").toByteArray());
  restoreState(s.value("window/state").toByteArray());
  const int mask = s.value("view/overlays", 0).toInt();
  for (int i = 0; i < static_cast<int>(Overlay::kCount); ++i) overlay_actions_[i]->setChecked(mask & (1 << i));
}

void MainWindow::SaveSettings() {
  QSettings s;
  s.setValue("window/geometry", saveGeometry());
  s.setValue("window/state", saveState());
  int mask = 0;
  for (int i = 0; i < static_cast<int>(Overlay::kCount); ++i) mask |= overlay_actions_[i]->isChecked() << i;
  s.setValue("view/overlays", mask);
  if (!folder_.isEmpty()) {
    s.setValue("data/lastFolder", folder_);
    s.setValue("data/lastSplit", split_);
  }
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (options_.use_settings) SaveSettings();
  task_->Stop();
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

void MainWindow::SetOverlay(Overlay overlay, bool on) { overlay_actions_[static_cast<int>(overlay)]->setChecked(on); }

bool MainWindow::OverlayOn(Overlay overlay) const { return overlay_actions_[static_cast<int>(overlay)]->isChecked(); }

void MainWindow::UpdateOverlays() {
  view::OverlayOptions o = pair_view_->overlays();
  o.flow_color = OverlayOn(Overlay::kFlowColor);
  o.flow_arrows = OverlayOn(Overlay::kFlowArrows);
  o.boundaries = OverlayOn(Overlay::kBoundaries);
  o.occlusion = OverlayOn(Overlay::kOcclusion);
  o.lines = OverlayOn(Overlay::kLines);
  pair_view_->SetOverlays(o);
}

void MainWindow::UpdateStatus() {
  if (dataset_ && scene_index_ >= 0) {
    const auto& scenes = dataset_->scenes();
    position_label_->setText(tr("scene %1/%2  pair %3/%4")
                                 .arg(scene_index_ + 1)
                                 .arg(scenes.size())
                                 .arg(pair_index_ + 1)
                                 .arg(scenes[scene_index_].pairs.size()));
  } else {
    position_label_->setText(tr("no dataset"));
  }
  zoom_label_->setText(tr("zoom %1 %").arg(pair_view_->Zoom() * 100.0, 0, 'f', 0));
}

}  // namespace animerun::gui
