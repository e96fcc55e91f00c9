#include "app/gui/window_menus.h"

#include <QAction>
#include <QActionGroup>
#include <QComboBox>
#include <QDockWidget>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QStyle>
#include <QToolBar>

#include "app/gui/main_window.h"
#include "widgets/pair/pair_view.h"

namespace animerun::gui {

namespace {

QAction* Add(QObject* owner, QMenu* menu, const QString& text, const QList<QKeySequence>& keys,
             std::function<void()> slot) {
  QAction* a = menu->addAction(text);
  a->setShortcuts(keys);
  QObject::connect(a, &QAction::triggered, owner, std::move(slot));
  return a;
}

}  // namespace

WindowMenus::WindowMenus(MainWindow* window) : QObject(window), window_(window) {
  QToolBar* bar = window_->addToolBar(tr("Main"));
  bar->setObjectName("toolbar_main");
  bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  BuildFile();
  BuildView();
  BuildGoToolsHelp();
}

void WindowMenus::BuildFile() {
  QToolBar* bar = window_->findChild<QToolBar*>("toolbar_main");
  QMenu* file = window_->menuBar()->addMenu(tr("&File"));
  QAction* open = Add(this, file, tr("&Open Folder..."), {QKeySequence::Open}, [this] { window_->ChooseFolder(); });
  open->setIcon(window_->style()->standardIcon(QStyle::SP_DirOpenIcon));
  QAction* demo = Add(this, file, tr("Open &Demo"), {QKeySequence("Ctrl+D")}, [this] { window_->OpenDemo(); });
  demo->setIcon(window_->windowIcon());
  file->addSeparator();
  Add(this, file, tr("&Load Predicted Flow..."), {QKeySequence("Ctrl+L")}, [this] { window_->LoadPrediction(); });
  Add(this, file, tr("&Save View Images..."), {QKeySequence::Save}, [this] { window_->SaveViewImages(); });
  file->addSeparator();
  Add(this, file, tr("&Quit"), {QKeySequence::Quit}, [this] { window_->close(); });
  bar->addAction(open);
  bar->addAction(demo);
  bar->addSeparator();
}

void WindowMenus::BuildView() {
  QToolBar* bar = window_->findChild<QToolBar*>("toolbar_main");
  widgets::PairView* view = window_->pairView();
  QMenu* viewm = window_->menuBar()->addMenu(tr("&View"));
  const char* names[] = {QT_TR_NOOP("&Colour Flow"), QT_TR_NOOP("Flow &Arrows"), QT_TR_NOOP("Segment &Boundaries"),
                         QT_TR_NOOP("&Occlusion Mask"), QT_TR_NOOP("&Line Mask")};
  const char* short_names[] = {"Flow", "Arrows", "Boundaries", "Occlusion", "Lines"};
  for (int i = 0; i < static_cast<int>(Overlay::kCount); ++i) {
    QAction* a = viewm->addAction(tr(names[i]));
    a->setCheckable(true);
    a->setShortcut(QKeySequence(QString::number(i + 1)));
    a->setIconText(tr(short_names[i]));
    a->setToolTip(tr("%1 (%2)").arg(tr(short_names[i])).arg(i + 1));
    connect(a, &QAction::toggled, this, &WindowMenus::overlaysChanged);
    overlays_[i] = a;
    bar->addAction(a);
  }
  viewm->addSeparator();
  QAction* zin = Add(this, viewm, tr("Zoom &In"), {QKeySequence("+"), QKeySequence("="), QKeySequence::ZoomIn},
                     [view] { view->ZoomIn(); });
  QAction* zout = Add(this, viewm, tr("Zoom O&ut"), {QKeySequence("-"), QKeySequence::ZoomOut}, [view] { view->ZoomOut(); });
  QAction* fit = Add(this, viewm, tr("&Fit to Window"), {QKeySequence("0"), QKeySequence("F")}, [view] { view->FitToWindow(); });
  Add(this, viewm, tr("Actual &Pixels"), {QKeySequence("Ctrl+0")}, [view] { view->SetZoom(1.0); });
  Add(this, viewm, tr("Clear &Selection"), {QKeySequence("Esc")}, [this] { window_->ClearSelection(); });
  bar->addSeparator();
  zin->setIconText(tr("Zoom +"));
  zout->setIconText(tr("Zoom -"));
  fit->setIconText(tr("Fit"));
  bar->addAction(zin);
  bar->addAction(zout);
  bar->addAction(fit);
  bar->addSeparator();
  bar->addWidget(new QLabel(tr(" Pass "), window_));
  pass_box_ = new QComboBox(window_);
  pass_box_->setToolTip(tr("Which Frame_Anime pass supplies the images"));
  pass_box_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  pass_box_->setFocusPolicy(Qt::NoFocus);
  connect(pass_box_, &QComboBox::activated, this, [this](int i) { window_->SetPass(pass_box_->itemText(i)); });
  bar->addWidget(pass_box_);
  viewm->addSeparator();
  split_menu_ = viewm->addMenu(tr("S&plit"));
  split_group_ = new QActionGroup(this);
  viewm->addSeparator();
  for (QDockWidget* d : window_->findChildren<QDockWidget*>()) viewm->addAction(d->toggleViewAction());
}

void WindowMenus::BuildGoToolsHelp() {
  QMenu* go = window_->menuBar()->addMenu(tr("&Go"));
  Add(this, go, tr("&Next Pair"), {QKeySequence(Qt::Key_Right), QKeySequence("N")}, [this] { window_->NextPair(); });
  Add(this, go, tr("&Previous Pair"), {QKeySequence(Qt::Key_Left), QKeySequence("P")}, [this] { window_->PrevPair(); });
  Add(this, go, tr("&First Pair"), {QKeySequence(Qt::Key_Home)}, [this] { window_->FirstPair(); });
  Add(this, go, tr("&Last Pair"), {QKeySequence(Qt::Key_End)}, [this] { window_->LastPair(); });
  go->addSeparator();
  Add(this, go, tr("Next &Scene"), {QKeySequence(Qt::Key_PageDown)}, [this] { window_->NextScene(); });
  Add(this, go, tr("Previous S&cene"), {QKeySequence(Qt::Key_PageUp)}, [this] { window_->PrevScene(); });

  QMenu* tools = window_->menuBar()->addMenu(tr("&Tools"));
  QAction* train = Add(this, tools, tr("&Train..."), {}, [this] { window_->ShowTrainDialog(); });
  train->setObjectName("action_train");

  QMenu* help = window_->menuBar()->addMenu(tr("&Help"));
  Add(this, help, tr("&Keyboard Shortcuts"), {QKeySequence::HelpContents}, [this] { ShowShortcuts(); });
  Add(this, help, tr("&About AnimeRun Studio"), {}, [this] { ShowAbout(); });
}

void WindowMenus::SetPasses(const std::vector<std::string>& passes, const QString& current) {
  pass_box_->clear();
  for (const std::string& p : passes) pass_box_->addItem(QString::fromStdString(p));
  pass_box_->setCurrentText(current);
}

void WindowMenus::SetSplits(const std::vector<std::string>& splits, const QString& current) {
  split_menu_->clear();
  for (QAction* a : split_group_->actions()) split_group_->removeAction(a);
  split_menu_->setEnabled(splits.size() > 1 || (splits.size() == 1 && !splits[0].empty()));
  for (const std::string& s : splits) {
    if (s.empty()) continue;
    const QString name = QString::fromStdString(s);
    QAction* a = split_menu_->addAction(name);
    a->setCheckable(true);
    a->setChecked(name == current);
    split_group_->addAction(a);
    connect(a, &QAction::triggered, this, [this, name] { window_->OpenFolder(window_->CurrentFolder(), name); });
  }
}

QStringList WindowMenus::ShortcutLines() {
  // The table mirrors the actions built above; the test checks that they agree.
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

void WindowMenus::ShowShortcuts() {
  QString html = "<table cellspacing=4>";
  for (const QString& line : ShortcutLines()) {
    const QStringList parts = line.split('\t');
    html += "<tr><td><b>" + parts[0].toHtmlEscaped() + "</b></td><td>" + parts.value(1).toHtmlEscaped() + "</td></tr>";
  }
  html += "</table>";
  QMessageBox box(QMessageBox::NoIcon, tr("Keyboard Shortcuts"), html, QMessageBox::Close, window_);
  box.setTextFormat(Qt::RichText);
  box.exec();
}

void WindowMenus::ShowAbout() {
  QMessageBox::about(window_, tr("About AnimeRun Studio"),
                     tr("<b>AnimeRun Studio</b><br>Optical flow, segment matching and colorization for 2D "
                        "animation, built around the AnimeRun dataset (NeurIPS 2022 datasets track)."));
}

}  // namespace animerun::gui
