#include "widgets/palette_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include <algorithm>

#include "core/palette/extract.h"
#include "core/palette/sampler.h"
#include "widgets/background_task.h"
#include "widgets/palette_views.h"
#include "widgets/qt_image.h"

namespace animerun::widgets {

namespace fs = std::filesystem;
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

}  // namespace

PalettePanel::PalettePanel(QWidget* parent, const PalettePanelOptions& options) : QWidget(parent), options_(options) {
  options_.Check();
  job_ = new gui::BackgroundTask(this);
  preview_task_ = new gui::BackgroundTask(this);
  thumb_task_ = new gui::BackgroundTask(this);
  BuildUi();
  connect(job_, &gui::BackgroundTask::progress, this, [this](double f, const QString& msg) {
    progress_->setValue(static_cast<int>(f * 1000));
    SetStatus(msg);
  });
  connect(job_, &gui::BackgroundTask::finished, this, [this](bool ok, bool cancelled, const QString& error) {
    progress_->setVisible(false);
    auto done = std::move(job_done_);
    job_done_ = nullptr;
    if (done) done(ok, cancelled, error);
    UpdateActions();
  });
  // Each start sets the matching *_done_ handler; a superseded job's end is not delivered.
  auto relay = [](std::function<void(bool, bool, const QString&)>* slot) {
    return [slot](bool ok, bool cancelled, const QString& error) {
      auto done = std::move(*slot);
      *slot = nullptr;
      if (done) done(ok, cancelled, error);
    };
  };
  connect(preview_task_, &gui::BackgroundTask::finished, this, relay(&preview_done_));
  connect(thumb_task_, &gui::BackgroundTask::finished, this, relay(&thumb_done_));
  RefreshGroups();
  UpdateActions();
}

PalettePanel::~PalettePanel() {
  // Workers capture `this`: stop them before the members go.
  job_->Stop();
  preview_task_->Stop();
  thumb_task_->Stop();
}

void PalettePanel::BuildUi() {
  auto* root = new QVBoxLayout(this);
  root->setContentsMargins(4, 4, 4, 4);

  // File row.
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
    const QString p = QFileDialog::getOpenFileName(this, tr("Open palettes"), path_, tr("Palette files (*.json)"));
    if (!p.isEmpty()) loadPalettes(p);
  });
  connect(save, &QPushButton::clicked, this, [this, save_as] {
    if (path_.isEmpty()) save_as->click();
    else savePalettes(path_);
  });
  connect(save_as, &QPushButton::clicked, this, [this] {
    const QString p = QFileDialog::getSaveFileName(this, tr("Export palettes"),
                                                   path_.isEmpty() ? QStringLiteral("palettes.json") : path_,
                                                   tr("Palette files (*.json)"));
    if (!p.isEmpty()) savePalettes(p);
  });

  auto* split = new QSplitter(Qt::Horizontal);
  root->addWidget(split, 1);

  // Groups column.
  auto* groups_box = new QGroupBox(tr("Groups"));
  auto* gl = new QVBoxLayout(groups_box);
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
  auto* group_buttons = new QHBoxLayout;
  auto* new_group = new QPushButton(tr("New"));
  remove_group_button_ = new QPushButton(tr("Remove"));
  suggest_button_ = new QPushButton(tr("Suggest…"));
  suggest_button_->setToolTip(tr("Split the selected group's frames into groups of similar colours "
                                 "(k-means on colour histograms)"));
  group_buttons->addWidget(new_group);
  group_buttons->addWidget(remove_group_button_);
  group_buttons->addWidget(suggest_button_);
  gl->addLayout(group_buttons);
  groups_box->setMinimumWidth(200);
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
  split->addWidget(groups_box);

  connect(groups_, &QListWidget::currentRowChanged, this, [this] {
    ShowGroup();
    RenderPreview();
  });
  connect(name_edit_, &QLineEdit::editingFinished, this, [this] {
    const QString cur = CurrentGroup();
    if (!cur.isEmpty() && name_edit_->text() != cur && !RenameGroup(cur, name_edit_->text())) name_edit_->setText(cur);
  });
  connect(style_edit_, &QComboBox::currentTextChanged, this, [this](const QString& s) {
    const QString cur = CurrentGroup();
    if (!cur.isEmpty()) SetGroupStyle(cur, s);
  });
  connect(new_group, &QPushButton::clicked, this, [this] {
    QString name;
    for (int n = static_cast<int>(file_.groups.size()) + 1; name.isEmpty() || file_.Find(name.toStdString()); ++n)
      name = QStringLiteral("group_%1").arg(n);
    if (AddGroup(name)) selectGroup(name);
    name_edit_->setFocus();
    name_edit_->selectAll();
  });
  connect(remove_group_button_, &QPushButton::clicked, this, [this] { RemoveGroup(CurrentGroup()); });
  connect(suggest_button_, &QPushButton::clicked, this, [this] {
    const PaletteGroup* g = file_.Find(CurrentGroup().toStdString());
    if (!g || g->frames.size() < 2) {
      ReportError(tr("Select a group with at least two frames to split into suggested groups."));
      return;
    }
    bool ok = false;
    const int k = QInputDialog::getInt(this, tr("Suggest groups"), tr("Number of groups (0 = automatic):"), 0, 0, 64,
                                       1, &ok);
    if (!ok) return;
    QStringList frames;
    for (const auto& f : g->frames) frames << QString::fromStdString(f);
    suggestion_source_ = CurrentGroup();
    SuggestGroups(frames, k, Seed());
  });
  connect(accept, &QPushButton::clicked, this, [this] { AcceptSuggestion(); });
  connect(discard, &QPushButton::clicked, this, [this] { DiscardSuggestion(); });

  // Palette + frames column.
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
  split->addWidget(middle);

  connect(extract_button_, &QPushButton::clicked, this, [this] {
    if (!CurrentGroup().isEmpty()) ExtractGroups({CurrentGroup()});
  });
  connect(frames_, &PaletteFrameList::filesDropped, this, [this](const QStringList& paths) {
    if (CurrentGroup().isEmpty()) AddGroup(QStringLiteral("group_1"));
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

  // Preview + apply column.
  auto* right = new QGroupBox(tr("Preview"));
  auto* rl = new QVBoxLayout(right);
  auto make_view = [](const QString& title) {
    auto* l = new QLabel(title);
    l->setAlignment(Qt::AlignCenter);
    l->setMinimumSize(192, 108);
    l->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    l->setStyleSheet(QStringLiteral("QLabel { background: #202020; color: #b0b0b0; }"));
    return l;
  };
  original_view_ = make_view(tr("Open a dataset to preview"));
  recoloured_view_ = make_view(QString());
  rl->addWidget(new QLabel(tr("Original")));
  rl->addWidget(original_view_, 1);
  rl->addWidget(new QLabel(tr("Recoloured")));
  rl->addWidget(recoloured_view_, 1);
  preview_info_ = new QLabel;
  preview_info_->setWordWrap(true);
  rl->addWidget(preview_info_);
  // Two short rows each for the draw and for applying, so the panel fits a dock.
  auto* controls = new QGridLayout;
  seed_ = new QSpinBox;
  seed_->setRange(0, std::numeric_limits<int>::max());
  auto* reroll = new QPushButton(tr("Re-roll"));
  reroll->setToolTip(tr("Next seed: another draw of colours"));
  random_group_ = new QCheckBox(tr("Random group per cut"));
  pass_edit_ = new QLineEdit(QStringLiteral("color_2"));
  pass_edit_->setMinimumWidth(80);
  scope_ = new QComboBox;
  scope_->addItems({tr("Current cut"), tr("All cuts")});
  overwrite_ = new QCheckBox(tr("Overwrite"));
  apply_button_ = new QPushButton(tr("Apply"));
  cancel_button_ = new QPushButton(tr("Cancel"));
  controls->addWidget(new QLabel(tr("Seed")), 0, 0);
  controls->addWidget(seed_, 0, 1);
  controls->addWidget(reroll, 0, 2);
  controls->addWidget(random_group_, 1, 1, 1, 2);
  controls->addWidget(new QLabel(tr("Pass")), 2, 0);
  controls->addWidget(pass_edit_, 2, 1);
  controls->addWidget(scope_, 2, 2);
  controls->addWidget(overwrite_, 3, 1);
  auto* apply_buttons = new QHBoxLayout;
  apply_buttons->addWidget(apply_button_);
  apply_buttons->addWidget(cancel_button_);
  controls->addLayout(apply_buttons, 3, 2);
  controls->setColumnStretch(1, 1);
  rl->addLayout(controls);
  split->addWidget(right);
  split->setStretchFactor(0, 2);
  split->setStretchFactor(1, 3);
  split->setStretchFactor(2, 3);

  connect(seed_, qOverload<int>(&QSpinBox::valueChanged), this, [this] { RenderPreview(); });
  connect(reroll, &QPushButton::clicked, this, &PalettePanel::rerollSeed);
  connect(random_group_, &QCheckBox::toggled, this, [this] { RenderPreview(); });
  connect(apply_button_, &QPushButton::clicked, this, [this] { Apply(scope_->currentIndex() == 1); });
  connect(cancel_button_, &QPushButton::clicked, this, &PalettePanel::CancelJob);

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

QString PalettePanel::CurrentGroup() const {
  const QListWidgetItem* it = groups_->currentItem();
  return it ? it->data(Qt::UserRole).toString() : QString();
}

quint64 PalettePanel::Seed() const { return static_cast<quint64>(seed_->value()); }
void PalettePanel::setSeed(quint64 seed) { seed_->setValue(static_cast<int>(std::min<quint64>(seed, INT32_MAX))); }
void PalettePanel::rerollSeed() { seed_->setValue(seed_->value() == seed_->maximum() ? 0 : seed_->value() + 1); }
QString PalettePanel::Status() const { return status_->text(); }
void PalettePanel::SetPassName(const QString& pass) { pass_edit_->setText(pass); }
QString PalettePanel::PassName() const { return pass_edit_->text().trimmed(); }
void PalettePanel::SetOverwrite(bool on) { overwrite_->setChecked(on); }
void PalettePanel::SetRandomGroup(bool on) { random_group_->setChecked(on); }

bool PalettePanel::Busy() const { return job_->IsRunning() || preview_task_->IsRunning() || thumb_task_->IsRunning(); }

bool PalettePanel::WaitIdle(int timeout_ms) {
  return gui::ProcessEventsWhile([this] { return Busy(); }, timeout_ms);
}

void PalettePanel::SetStatus(const QString& text) { status_->setText(text); }

void PalettePanel::ReportError(const QString& text) {
  last_error_ = text;
  SetStatus(text);
  if (options_.modal_errors) QMessageBox::warning(this, tr("Palettes"), text);
}

void PalettePanel::MarkModified() {
  modified_ = true;
  RefreshGroups();
  emit palettesChanged();
}

void PalettePanel::RefreshGroups() {
  const QString keep = CurrentGroup();
  const QSignalBlocker block(groups_);
  groups_->clear();
  for (const auto& g : file_.groups) {
    const QString name = QString::fromStdString(g.name);
    QString text = name;
    if (!g.style.empty()) text += QStringLiteral("  [%1]").arg(QString::fromStdString(g.style));
    text += QStringLiteral("\n%1 frame(s), %2").arg(g.frames.size())
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
  ShowGroup();
  UpdateActions();
}

void PalettePanel::selectGroup(const QString& name) {
  for (int i = 0; i < groups_->count(); ++i)
    if (groups_->item(i)->data(Qt::UserRole).toString() == name) groups_->setCurrentRow(i);
}

void PalettePanel::ShowGroup() {
  const PaletteGroup* g = file_.Find(CurrentGroup().toStdString());
  {
    const QSignalBlocker b1(name_edit_), b2(style_edit_);
    name_edit_->setText(g ? QString::fromStdString(g->name) : QString());
    style_edit_->setCurrentText(g ? QString::fromStdString(g->style) : QString());
  }
  if (!g) {
    swatches_->Clear();
    frames_->clear();
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
  frames_->clear();
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
  const bool busy = job_->IsRunning();
  const bool has_group = !CurrentGroup().isEmpty();
  extract_button_->setEnabled(!busy && has_group);
  suggest_button_->setEnabled(!busy && has_group);
  remove_group_button_->setEnabled(!busy && has_group);
  add_frames_button_->setEnabled(has_group);
  apply_button_->setEnabled(!busy && dataset_.has_value());
  cancel_button_->setEnabled(busy);
  suggestion_box_->setVisible(!suggestion_.groups.empty());
}

bool PalettePanel::AddGroup(const QString& name, const QString& style) {
  const std::string n = name.trimmed().toStdString();
  if (n.empty() || file_.Find(n)) {
    ReportError(n.empty() ? tr("A group needs a name.") : tr("A group named '%1' exists already.").arg(name));
    return false;
  }
  PaletteGroup g;
  g.name = n;
  g.style = style.trimmed().toStdString();
  file_.groups.push_back(g);
  MarkModified();
  selectGroup(QString::fromStdString(n));
  return true;
}

bool PalettePanel::RemoveGroup(const QString& name) {
  if (!file_.Remove(name.toStdString())) return false;
  MarkModified();
  RenderPreview();
  return true;
}

bool PalettePanel::RenameGroup(const QString& from, const QString& to) {
  PaletteGroup* g = file_.Find(from.toStdString());
  const std::string n = to.trimmed().toStdString();
  if (!g || n.empty()) return false;
  if (n == g->name) return true;
  if (file_.Find(n)) {
    ReportError(tr("A group named '%1' exists already.").arg(to));
    return false;
  }
  g->name = n;
  MarkModified();
  selectGroup(QString::fromStdString(n));
  return true;
}

void PalettePanel::SetGroupStyle(const QString& name, const QString& style) {
  PaletteGroup* g = file_.Find(name.toStdString());
  if (!g || g->style == style.trimmed().toStdString()) return;
  g->style = style.trimmed().toStdString();
  MarkModified();
}

void PalettePanel::AddFrames(const QString& group, const QStringList& paths) {
  PaletteGroup* g = file_.Find(group.toStdString());
  if (!g) {
    ReportError(tr("Select or create a group first."));
    return;
  }
  std::vector<std::string> inputs;
  for (const QString& p : paths) inputs.push_back(gui::ToPath(p).string());
  std::vector<fs::path> files;
  try {
    files = palette::ExpandFrameInputs(inputs);
  } catch (const std::exception& e) {
    ReportError(QString::fromStdString(e.what()));
    return;
  }
  size_t added = 0;
  for (const auto& f : files) {
    if (!palette::IsImageFile(f)) continue;
    if (std::find(g->frames.begin(), g->frames.end(), f.string()) != g->frames.end()) continue;
    g->frames.push_back(f.string());
    ++added;
  }
  if (added > 0 && g->extracted()) {  // the colours no longer describe the frames
    g->colors.clear();
    g->pixels = 0;
  }
  SetStatus(tr("Added %1 frame(s) to %2").arg(added).arg(group));
  if (added > 0) MarkModified();
}

void PalettePanel::RemoveFrames(const QString& group, const QStringList& paths) {
  PaletteGroup* g = file_.Find(group.toStdString());
  if (!g || paths.isEmpty()) return;
  const size_t before = g->frames.size();
  for (const QString& p : paths) {
    const std::string s = p.toStdString();
    g->frames.erase(std::remove(g->frames.begin(), g->frames.end(), s), g->frames.end());
  }
  if (g->frames.size() == before) return;
  g->colors.clear();
  g->pixels = 0;
  SetStatus(tr("Removed %1 frame(s) from %2").arg(before - g->frames.size()).arg(group));
  MarkModified();
}

bool PalettePanel::loadPalettes(const QString& path) {
  try {
    file_ = palette::LoadPalettes(gui::ToPath(path));
  } catch (const std::exception& e) {
    ReportError(QString::fromStdString(e.what()));
    return false;
  }
  path_ = path;
  modified_ = false;
  RefreshGroups();
  RenderPreview();
  SetStatus(tr("Opened %1 (%2 groups)").arg(path).arg(file_.groups.size()));
  emit palettesChanged();
  return true;
}

bool PalettePanel::savePalettes(const QString& path) {
  try {
    palette::SavePalettes(gui::ToPath(path), file_);
  } catch (const std::exception& e) {
    ReportError(QString::fromStdString(e.what()));
    return false;
  }
  path_ = path;
  modified_ = false;
  SetStatus(tr("Saved %1").arg(path));
  return true;
}

}  // namespace animerun::widgets
