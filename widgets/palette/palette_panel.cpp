#include "widgets/palette/palette_panel.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QImageReader>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QVBoxLayout>

#include <algorithm>
#include <filesystem>

#include "core/palette/sampler.h"
#include "core/util/error.h"
#include "widgets/common/qt_image.h"
#include "widgets/common/qt_jobs.h"
#include "widgets/common/session_model.h"
#include "widgets/palette/palette_preview_box.h"
#include "widgets/palette/palette_views.h"

namespace animerun::widgets {

namespace fs = std::filesystem;
using palette::PaletteController;
using palette::PaletteGroup;

namespace {

// A strip of the group's main colours, widths proportional to counts, for the group list.
QIcon GroupIcon(const PaletteGroup& g) {
  QPixmap pm(48, 16);
  pm.fill(QColor(230, 230, 230));
  QPainter p(&pm);
  int64_t total = 0;
  for (const auto& c : g.colors) total += c.count;
  double x = 0;
  for (const auto& c : g.colors) {
    if (total <= 0) break;
    const double w = 48.0 * c.count / total;
    p.fillRect(QRectF(x, 0, w + 0.5, 16), QColor(c.rgb[0], c.rgb[1], c.rgb[2]));
    x += w;
  }
  if (g.colors.empty()) {
    p.setPen(QColor(150, 150, 150));
    p.drawText(pm.rect(), Qt::AlignCenter, QStringLiteral("?"));
  }
  return QIcon(pm);
}

std::vector<std::string> ToStrings(const QStringList& list) {
  std::vector<std::string> out;
  for (const QString& s : list) out.push_back(s.toStdString());
  return out;
}

}  // namespace

void PalettePanelOptions::Check() const { Require(max_thumbnails >= 0, "palette panel: max_thumbnails must be >= 0"); }

PalettePanel::PalettePanel(QWidget* parent, const PalettePanelOptions& options) : QWidget(parent), options_(options) {
  options_.Check();
  controller_ = std::make_unique<PaletteController>(QtPost());
  thumbnails_ = std::make_unique<JobRunner>(QtPost());
  BuildUi();
  controller_->Observe([this](PaletteController::Event e) { OnEvent(e); });
  RefreshGroups();
  UpdateActions();
}

PalettePanel::~PalettePanel() = default;  // the runners stop their workers

void PalettePanel::SetSession(SessionModel* model) {
  const session::Session& s = model->session();
  connect(model, &SessionModel::datasetChanged, this, [this, &s] {
    controller_->SetDataset(s.dataset(), s.folder(), s.split());
    controller_->LoadBeside(s.folder());
  });
  connect(model, &SessionModel::pairChanged, this, [this, &s] {
    const data::FramePair* p = s.frame_pair();
    if (!p) return;
    controller_->SetCut(p->scene, p->index, s.pair(), s.pass());
  });
}

void PalettePanel::OnEvent(PaletteController::Event e) {
  switch (e) {
    case PaletteController::Event::kPalettes:
      RefreshGroups();
      emit palettesChanged();
      break;
    case PaletteController::Event::kSuggestion: {
      QStringList lines;
      for (const auto& g : Suggestion().groups)
        lines << tr("%1: %2 frame(s)").arg(QString::fromStdString(g.name)).arg(g.frames.size());
      suggestion_label_->setText(lines.isEmpty() ? QString()
                                                 : tr("Suggested %1 group(s):\n%2").arg(lines.size()).arg(lines.join('\n')));
      UpdateActions();
      break;
    }
    case PaletteController::Event::kPreview:
      preview_->ShowPreview();
      if (!controller_->PreviewRecoloured().empty()) emit previewReady();
      break;
    case PaletteController::Event::kPassName: preview_->ShowPassName(); break;
    case PaletteController::Event::kJob:
      progress_->setVisible(controller_->JobRunning());
      progress_->setValue(static_cast<int>(controller_->JobProgress() * 1000));
      status_->setText(Status());
      UpdateActions();
      break;
    case PaletteController::Event::kJobFinished:
      emit jobFinished(controller_->LastJobOk(), QString::fromStdString(controller_->LastJobMessage()));
      break;
    case PaletteController::Event::kPassWritten: {
      QStringList scenes;
      for (const std::string& s : controller_->WrittenScenes()) scenes << QString::fromStdString(s);
      emit passWritten(QString::fromStdString(controller_->WrittenPass()), scenes);
      break;
    }
    case PaletteController::Event::kStatus: status_->setText(Status()); break;
    case PaletteController::Event::kError:
      if (options_.modal_errors) QMessageBox::warning(this, tr("Palettes"), LastError());
      break;
  }
}

void PalettePanel::BuildUi() {
  auto* root = new QVBoxLayout(this);
  root->setContentsMargins(4, 4, 4, 4);
  auto* file_row = new QHBoxLayout;
  auto* open = new QPushButton(tr("Open…"));
  auto* save = new QPushButton(tr("Save"));
  auto* save_as = new QPushButton(tr("Export…"));
  open->setToolTip(tr("Open a palette file (palettes.json)"));
  save_as->setToolTip(tr("Save the palettes to a new file"));
  file_row->addWidget(open);
  file_row->addWidget(save);
  file_row->addWidget(save_as);
  file_row->addStretch(1);
  root->addLayout(file_row);
  connect(open, &QPushButton::clicked, this, [this] {
    const QString p = QFileDialog::getOpenFileName(this, tr("Open palettes"), PalettePath(), tr("Palette files (*.json)"));
    if (!p.isEmpty()) loadPalettes(p);
  });
  connect(save, &QPushButton::clicked, this, [this, save_as] {
    if (PalettePath().isEmpty()) save_as->click();
    else savePalettes(PalettePath());
  });
  connect(save_as, &QPushButton::clicked, this, [this] {
    const QString p = QFileDialog::getSaveFileName(
        this, tr("Export palettes"), PalettePath().isEmpty() ? QStringLiteral("palettes.json") : PalettePath(),
        tr("Palette files (*.json)"));
    if (!p.isEmpty()) savePalettes(p);
  });

  auto* split = new QSplitter(Qt::Horizontal);
  root->addWidget(split, 1);
  split->addWidget(BuildGroupsColumn());
  split->addWidget(BuildPaletteColumn());
  auto* right = new QGroupBox(tr("Preview"));
  auto* rl = new QVBoxLayout(right);
  rl->setContentsMargins(0, 0, 0, 0);
  preview_ = new PalettePreviewBox(controller_.get());
  rl->addWidget(preview_);
  split->addWidget(right);
  split->setStretchFactor(0, 2);
  split->setStretchFactor(1, 3);
  split->setStretchFactor(2, 3);

  auto* status_row = new QHBoxLayout;
  progress_ = new QProgressBar;
  progress_->setRange(0, 1000);
  progress_->setMaximumWidth(220);
  progress_->setVisible(false);
  status_ = new QLabel;
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  status_row->addWidget(progress_);
  status_row->addWidget(status_, 1);
  root->addLayout(status_row);
}

QWidget* PalettePanel::BuildGroupsColumn() {
  auto* box = new QGroupBox(tr("Groups"));
  auto* gl = new QVBoxLayout(box);
  groups_ = new QListWidget;
  groups_->setIconSize(QSize(48, 16));
  groups_->setTextElideMode(Qt::ElideRight);  // narrow docks: elide, the tooltip has it all
  groups_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  gl->addWidget(groups_, 1);
  auto* form = new QFormLayout;
  name_edit_ = new QLineEdit;
  style_edit_ = new QComboBox;
  style_edit_->setEditable(true);
  style_edit_->addItems({QString(), QStringLiteral("disney"), QStringLiteral("japanese"), QStringLiteral("western"),
                         QStringLiteral("other")});
  form->addRow(tr("Name"), name_edit_);
  form->addRow(tr("Style"), style_edit_);
  gl->addLayout(form);
  auto* buttons = new QHBoxLayout;
  auto* new_group = new QPushButton(tr("New"));
  remove_group_button_ = new QPushButton(tr("Remove"));
  suggest_button_ = new QPushButton(tr("Suggest…"));
  suggest_button_->setToolTip(tr("Split the selected group's frames into groups of similar colours "
                                 "(k-means on colour histograms)"));
  buttons->addWidget(new_group);
  buttons->addWidget(remove_group_button_);
  buttons->addWidget(suggest_button_);
  gl->addLayout(buttons);
  box->setMinimumWidth(200);
  suggestion_box_ = new QWidget;
  auto* sl = new QVBoxLayout(suggestion_box_);
  sl->setContentsMargins(0, 0, 0, 0);
  suggestion_label_ = new QLabel;
  suggestion_label_->setWordWrap(true);
  auto* sb = new QHBoxLayout;
  auto* accept = new QPushButton(tr("Accept"));
  auto* discard = new QPushButton(tr("Discard"));
  sb->addWidget(accept);
  sb->addWidget(discard);
  sl->addWidget(suggestion_label_);
  sl->addLayout(sb);
  suggestion_box_->setVisible(false);
  gl->addWidget(suggestion_box_);

  connect(groups_, &QListWidget::currentRowChanged, this, [this] {
    ShowGroup();
    controller_->SetPreviewGroup(CurrentGroup().toStdString());
  });
  connect(name_edit_, &QLineEdit::editingFinished, this, [this] {
    const QString cur = CurrentGroup();
    if (!cur.isEmpty() && name_edit_->text() != cur && !RenameGroup(cur, name_edit_->text())) name_edit_->setText(cur);
  });
  connect(style_edit_, &QComboBox::currentTextChanged, this, [this](const QString& s) {
    if (!CurrentGroup().isEmpty()) SetGroupStyle(CurrentGroup(), s);
  });
  connect(new_group, &QPushButton::clicked, this, [this] {
    const QString name = QString::fromStdString(controller_->NewGroupName());
    if (AddGroup(name)) selectGroup(name);
    name_edit_->setFocus();
    name_edit_->selectAll();
  });
  connect(remove_group_button_, &QPushButton::clicked, this, [this] { RemoveGroup(CurrentGroup()); });
  connect(suggest_button_, &QPushButton::clicked, this, &PalettePanel::ChooseSuggestion);
  connect(accept, &QPushButton::clicked, this, [this] { AcceptSuggestion(); });
  connect(discard, &QPushButton::clicked, this, [this] { DiscardSuggestion(); });
  return box;
}

QWidget* PalettePanel::BuildPaletteColumn() {
  auto* middle = new QSplitter(Qt::Vertical);
  auto* pal_box = new QGroupBox(tr("Palette (area = count)"));
  auto* pl = new QVBoxLayout(pal_box);
  swatches_ = new PaletteSwatches;
  group_info_ = new QLabel;
  group_info_->setWordWrap(true);
  auto* extract_row = new QHBoxLayout;
  extract_button_ = new QPushButton(tr("Extract"));
  extract_button_->setToolTip(tr("Count the 16-level colours of the group's frames (kept above 0.05%)"));
  extract_row->addWidget(group_info_, 1);
  extract_row->addWidget(extract_button_);
  pl->addWidget(swatches_, 1);
  pl->addLayout(extract_row);
  middle->addWidget(pal_box);
  auto* frames_box = new QGroupBox(tr("Frames (drop images or folders here)"));
  auto* fl = new QVBoxLayout(frames_box);
  frames_ = new PaletteFrameList;
  fl->addWidget(frames_, 1);
  auto* frame_buttons = new QHBoxLayout;
  add_frames_button_ = new QPushButton(tr("Add frames…"));
  auto* add_folder = new QPushButton(tr("Add folder…"));
  auto* remove_frames = new QPushButton(tr("Remove"));
  remove_frames->setToolTip(tr("Remove the selected frames from the group (Delete)"));
  frame_buttons->addWidget(add_frames_button_);
  frame_buttons->addWidget(add_folder);
  frame_buttons->addWidget(remove_frames);
  frame_buttons->addStretch(1);
  fl->addLayout(frame_buttons);
  middle->addWidget(frames_box);
  middle->setStretchFactor(0, 3);
  middle->setStretchFactor(1, 2);

  connect(extract_button_, &QPushButton::clicked, this, [this] {
    if (!CurrentGroup().isEmpty()) ExtractGroups({CurrentGroup()});
  });
  connect(frames_, &PaletteFrameList::filesDropped, this, [this](const QStringList& paths) {
    if (CurrentGroup().isEmpty()) AddGroup(QString::fromStdString(controller_->NewGroupName()));
    AddFrames(CurrentGroup(), paths);
  });
  connect(frames_, &PaletteFrameList::removeRequested, this,
          [this](const QStringList& paths) { RemoveFrames(CurrentGroup(), paths); });
  connect(add_frames_button_, &QPushButton::clicked, this, [this] {
    const QStringList files = QFileDialog::getOpenFileNames(this, tr("Add reference frames"), QString(),
                                                            tr("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp)"));
    if (!files.isEmpty()) AddFrames(CurrentGroup(), files);
  });
  connect(add_folder, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Add a folder of reference frames"));
    if (!dir.isEmpty()) AddFrames(CurrentGroup(), {dir});
  });
  connect(remove_frames, &QPushButton::clicked, this, [this] { RemoveFrames(CurrentGroup(), frames_->SelectedPaths()); });
  return middle;
}

void PalettePanel::ChooseSuggestion() {
  const PaletteGroup* g = Palettes().Find(CurrentGroup().toStdString());
  if (!g || g->frames.size() < 2) {  // the controller refuses and says why
    controller_->Suggest(g ? g->frames : std::vector<std::string>(), 0, Seed());
    return;
  }
  bool ok = false;
  const int k = QInputDialog::getInt(this, tr("Suggest groups"), tr("Number of groups (0 = automatic):"), 0, 0, 64, 1, &ok);
  if (ok) controller_->Suggest(g->frames, k, Seed(), g->name);
}

QString PalettePanel::CurrentGroup() const {
  const QListWidgetItem* it = groups_->currentItem();
  return it ? it->data(Qt::UserRole).toString() : QString();
}

bool PalettePanel::Busy() const { return controller_->Busy() || thumbnails_->Running(); }

bool PalettePanel::WaitIdle(int timeout_ms) {
  return ProcessEventsWhile([this] { return Busy(); }, timeout_ms);
}

QString PalettePanel::Status() const { return QString::fromStdString(controller_->Status()); }
QImage PalettePanel::PreviewOriginal() const { return preview_->Original(); }
QImage PalettePanel::PreviewRecoloured() const { return preview_->Recoloured(); }
void PalettePanel::setSeed(quint64 seed) { preview_->SetSeed(seed); }
void PalettePanel::rerollSeed() { preview_->Reroll(); }
void PalettePanel::SetPassName(const QString& pass) { preview_->SetPassName(pass); }
QString PalettePanel::PassName() const { return preview_->PassName(); }
void PalettePanel::SetOverwrite(bool on) { preview_->SetOverwrite(on); }
void PalettePanel::SetRandomGroup(bool on) { preview_->SetRandomGroup(on); }
void PalettePanel::Apply(bool whole_dataset) { preview_->Apply(whole_dataset); }

bool PalettePanel::AddGroup(const QString& name, const QString& style) {
  if (!controller_->AddGroup(name.toStdString(), style.toStdString())) return false;
  selectGroup(name.trimmed());
  return true;
}

bool PalettePanel::RemoveGroup(const QString& name) { return controller_->RemoveGroup(name.toStdString()); }

bool PalettePanel::RenameGroup(const QString& from, const QString& to) {
  if (!controller_->RenameGroup(from.toStdString(), to.toStdString())) return false;
  selectGroup(to.trimmed());
  return true;
}

void PalettePanel::SetGroupStyle(const QString& name, const QString& style) {
  controller_->SetGroupStyle(name.toStdString(), style.toStdString());
}

void PalettePanel::AddFrames(const QString& group, const QStringList& paths) {
  controller_->AddFrames(group.toStdString(), ToStrings(paths));
}

void PalettePanel::RemoveFrames(const QString& group, const QStringList& paths) {
  controller_->RemoveFrames(group.toStdString(), ToStrings(paths));
}

void PalettePanel::ExtractGroups(const QStringList& names) { controller_->Extract(ToStrings(names)); }

void PalettePanel::SuggestGroups(const QStringList& frames, int groups, quint64 seed) {
  controller_->Suggest(ToStrings(frames), groups, seed);
}

bool PalettePanel::loadPalettes(const QString& path) { return controller_->Load(path.toStdString()); }
bool PalettePanel::savePalettes(const QString& path) { return controller_->Save(path.toStdString()); }

void PalettePanel::selectGroup(const QString& name) {
  for (int i = 0; i < groups_->count(); ++i)
    if (groups_->item(i)->data(Qt::UserRole).toString() == name) groups_->setCurrentRow(i);
}

void PalettePanel::RefreshGroups() {
  const QString keep = CurrentGroup();
  {
    const QSignalBlocker block(groups_);
    groups_->clear();
    for (const auto& g : Palettes().groups) {
      const QString name = QString::fromStdString(g.name);
      QString text = name;
      if (!g.style.empty()) text += QStringLiteral("  [%1]").arg(QString::fromStdString(g.style));
      text += QStringLiteral("\n%1 frame(s), %2")
                  .arg(g.frames.size())
                  .arg(g.extracted() ? tr("%1 colours").arg(g.colors.size()) : tr("not extracted"));
      auto* it = new QListWidgetItem(GroupIcon(g), text);
      it->setData(Qt::UserRole, name);
      it->setToolTip(text);
      groups_->addItem(it);
    }
    int row = 0;
    for (int i = 0; i < groups_->count(); ++i)
      if (groups_->item(i)->data(Qt::UserRole).toString() == keep) row = i;
    if (groups_->count() > 0) groups_->setCurrentRow(row);
  }
  ShowGroup();
  controller_->SetPreviewGroup(CurrentGroup().toStdString());
  UpdateActions();
}

void PalettePanel::ShowGroup() {
  const PaletteGroup* g = Palettes().Find(CurrentGroup().toStdString());
  {
    const QSignalBlocker b1(name_edit_), b2(style_edit_);
    name_edit_->setText(g ? QString::fromStdString(g->name) : QString());
    style_edit_->setCurrentText(g ? QString::fromStdString(g->style) : QString());
  }
  frames_->clear();
  if (!g) {
    swatches_->Clear();
    group_info_->clear();
    return;
  }
  swatches_->SetGroup(*g);
  size_t excluded = 0;
  for (const auto& c : g->colors) excluded += c.count <= palette::kMinSampledCount;
  group_info_->setText(g->extracted() ? tr("%1 colours from %2 Mpx%3")
                                            .arg(g->colors.size())
                                            .arg(g->pixels / 1e6, 0, 'f', 2)
                                            .arg(excluded ? tr("; %1 with N <= 10 (hatched) are never drawn").arg(excluded)
                                                          : QString())
                                      : tr("Not extracted"));
  for (const auto& f : g->frames) {
    const QString path = QString::fromStdString(f);
    auto* it = new QListWidgetItem(QString::fromStdString(fs::path(f).filename().string()));
    it->setData(Qt::UserRole, path);
    it->setToolTip(path);
    frames_->addItem(it);
  }
  LoadThumbnails();
}

void PalettePanel::UpdateActions() {
  const bool busy = controller_->JobRunning();
  const bool has_group = !CurrentGroup().isEmpty();
  extract_button_->setEnabled(!busy && has_group);
  suggest_button_->setEnabled(!busy && has_group);
  remove_group_button_->setEnabled(!busy && has_group);
  add_frames_button_->setEnabled(has_group);
  suggestion_box_->setVisible(!Suggestion().groups.empty());
  preview_->ShowJobState();
}

void PalettePanel::LoadThumbnails() {
  const PaletteGroup* g = Palettes().Find(CurrentGroup().toStdString());
  if (!g || g->frames.empty()) return;
  const size_t n = std::min<size_t>(g->frames.size(), static_cast<size_t>(options_.max_thumbnails));
  const std::vector<std::string> frames(g->frames.begin(), g->frames.begin() + static_cast<std::ptrdiff_t>(n));
  const QSize size = frames_->iconSize();
  auto thumbs = std::make_shared<std::vector<QImage>>(frames.size());
  const QString group = CurrentGroup();
  thumbnails_->Start(
      [frames, size, thumbs](const JobContext& job) {
        for (size_t i = 0; i < frames.size(); ++i) {
          job.CheckCancel();
          QImageReader reader(QString::fromStdString(frames[i]));
          const QSize full = reader.size();
          if (full.isValid()) reader.setScaledSize(full.scaled(size, Qt::KeepAspectRatio));
          (*thumbs)[i] = reader.read();  // null on failure: the item keeps no icon
        }
      },
      [this, thumbs, frames, group](const JobOutcome& outcome) {
        if (!outcome.ok || CurrentGroup() != group) return;
        for (int i = 0; i < frames_->count() && i < static_cast<int>(thumbs->size()); ++i) {
          QListWidgetItem* it = frames_->item(i);
          if (it->data(Qt::UserRole).toString().toStdString() != frames[static_cast<size_t>(i)] ||
              (*thumbs)[static_cast<size_t>(i)].isNull())
            continue;
          it->setIcon(QIcon(QPixmap::fromImage((*thumbs)[static_cast<size_t>(i)])));
        }
      });
}

}  // namespace animerun::widgets
