// PalettePanel's background work: extraction, group suggestion, dataset indexing and the
// preview's materials, applying, thumbnails. Workers get copies of what they read, and
// results come back to the UI thread through BackgroundTask's queued finished signal.
#include <QCheckBox>
#include <QImageReader>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QResizeEvent>
#include <QSpinBox>

#include <algorithm>

#include "core/io/image_io.h"
#include "core/palette/extract.h"
#include "core/palette/groups.h"
#include "core/palette/recolor.h"
#include "widgets/background_task.h"
#include "widgets/palette_panel.h"
#include "widgets/palette_views.h"
#include "widgets/qt_image.h"

namespace animerun::widgets {

namespace fs = std::filesystem;
using palette::PaletteGroup;

palette::RecolorOptions PalettePanel::CurrentOptions() const {
  palette::RecolorOptions o;
  o.split = split_.toStdString();
  o.pass = PassName().toStdString();
  o.random_group = random_group_->isChecked();
  if (!o.random_group) o.group = CurrentGroup().toStdString();
  o.seed = Seed();
  o.overwrite = overwrite_->isChecked();
  return o;
}

void PalettePanel::SuggestPassName() {
  // The first color_N the current cut does not have yet.
  if (!dataset_) return;
  const data::Scene* s = dataset_->FindScene(scene_.toStdString());
  if (!s) return;
  for (int n = 1;; ++n) {
    const std::string name = "color_" + std::to_string(n);
    if (std::find(s->passes.begin(), s->passes.end(), name) == s->passes.end()) {
      pass_edit_->setText(QString::fromStdString(name));
      return;
    }
  }
}

void PalettePanel::StartJob(const QString& title, std::function<void(const JobContext&)> work,
                            std::function<void(bool ok, bool cancelled, const QString& error)> done) {
  if (job_->IsRunning()) {
    ReportError(tr("Another palette job is running; wait or cancel it first."));
    return;
  }
  last_error_.clear();
  job_done_ = std::move(done);
  progress_->setValue(0);
  progress_->setVisible(true);
  SetStatus(title);
  job_->Start(std::move(work));
  UpdateActions();
}

void PalettePanel::CancelJob() { job_->Cancel(); }

void PalettePanel::ExtractGroups(const QStringList& names) {
  std::vector<PaletteGroup> todo;
  for (const auto& g : file_.groups) {
    const bool wanted = names.isEmpty() ? !g.extracted() : names.contains(QString::fromStdString(g.name));
    if (wanted && !g.frames.empty()) todo.push_back(g);
  }
  if (todo.empty()) {
    ReportError(tr("No group with frames to extract."));
    return;
  }
  auto result = std::make_shared<std::vector<PaletteGroup>>();
  StartJob(
      tr("Extracting %1 group(s)…").arg(todo.size()),
      [todo, result](const JobContext& job) {
        for (size_t i = 0; i < todo.size(); ++i) {
          // Progress maps into the outer bar; a cancel of the outer job stops the group
          // at the next frame (the throw leaves ExtractPaletteFromFiles like an error).
          JobContext sub([&](double f, const std::string& m) {
            job.CheckCancel();
            job.Report((i + f) / todo.size(), m);
          });
          job.CheckCancel();
          std::vector<fs::path> files(todo[i].frames.begin(), todo[i].frames.end());
          result->push_back(palette::ExtractPaletteFromFiles(todo[i].name, todo[i].style, files, {}, &sub));
          job.CheckCancel();
        }
      },
      [this, result](bool ok, bool cancelled, const QString& error) {
        if (!ok) {
          if (cancelled) SetStatus(tr("Extraction cancelled"));
          else ReportError(error);
          emit jobFinished(false, cancelled ? tr("cancelled") : error);
          return;
        }
        for (const PaletteGroup& r : *result) {
          PaletteGroup* g = file_.Find(r.name);
          if (!g || g->frames != r.frames) continue;  // edited meanwhile: keep the edit
          g->colors = r.colors;
          g->pixels = r.pixels;
        }
        MarkModified();
        RenderPreview();
        const QString msg = tr("Extracted %1 group(s)").arg(result->size());
        SetStatus(msg);
        emit jobFinished(true, msg);
      });
}

void PalettePanel::SuggestGroups(const QStringList& frames, int groups, quint64 seed) {
  std::vector<fs::path> files;
  for (const QString& f : frames) files.push_back(gui::ToPath(f));
  palette::SuggestOptions opt;
  opt.groups = groups;
  opt.seed = seed;
  opt.name_prefix = suggestion_source_.isEmpty() ? "suggested_" : suggestion_source_.toStdString() + "_";
  if (const PaletteGroup* src = file_.Find(suggestion_source_.toStdString())) opt.style = src->style;
  auto result = std::make_shared<palette::PaletteFile>();
  StartJob(
      tr("Suggesting groups for %1 frame(s)…").arg(files.size()),
      [files, opt, result](const JobContext& job) { *result = palette::SuggestGroups(files, opt, &job); },
      [this, result](bool ok, bool cancelled, const QString& error) {
        if (!ok) {
          if (!cancelled) ReportError(error);
          emit jobFinished(false, cancelled ? tr("cancelled") : error);
          return;
        }
        suggestion_ = *result;
        QStringList lines;
        for (const auto& g : suggestion_.groups)
          lines << tr("%1: %2 frame(s)").arg(QString::fromStdString(g.name)).arg(g.frames.size());
        suggestion_label_->setText(tr("Suggested %1 group(s):\n%2").arg(suggestion_.groups.size()).arg(lines.join('\n')));
        UpdateActions();
        const QString msg = tr("Suggested %1 group(s): accept or discard").arg(suggestion_.groups.size());
        SetStatus(msg);
        emit jobFinished(true, msg);
      });
}

void PalettePanel::AcceptSuggestion() {
  if (suggestion_.groups.empty()) return;
  if (!suggestion_source_.isEmpty()) file_.Remove(suggestion_source_.toStdString());
  QString first;
  for (PaletteGroup g : suggestion_.groups) {
    const std::string base = g.name;
    for (int n = 2; file_.Find(g.name); ++n) g.name = base + "-" + std::to_string(n);
    if (first.isEmpty()) first = QString::fromStdString(g.name);
    file_.groups.push_back(g);
  }
  const size_t n = suggestion_.groups.size();
  DiscardSuggestion();
  MarkModified();
  selectGroup(first);
  SetStatus(tr("Added %1 suggested group(s); extract them to get their palettes").arg(n));
}

void PalettePanel::DiscardSuggestion() {
  suggestion_ = {};
  suggestion_source_.clear();
  suggestion_label_->clear();
  UpdateActions();
}

void PalettePanel::Apply(bool whole_dataset) {
  if (!dataset_) {
    ReportError(tr("Open a dataset first."));
    return;
  }
  palette::RecolorOptions opt = CurrentOptions();
  if (!whole_dataset) {
    if (scene_.isEmpty()) {
      ReportError(tr("No current cut to apply to."));
      return;
    }
    opt.scenes = {scene_.toStdString()};
  }
  try {
    opt.Check();
  } catch (const std::exception& e) {
    ReportError(QString::fromStdString(e.what()));
    return;
  }
  const fs::path root = gui::ToPath(root_);
  const palette::PaletteFile pal = file_;
  auto report = std::make_shared<palette::ApplyReport>();
  StartJob(
      tr("Writing %1…").arg(QString::fromStdString(opt.pass)),
      [root, pal, opt, report](const JobContext& job) { *report = palette::ApplyPalettes(root, pal, opt, &job); },
      [this, report, opt](bool ok, bool cancelled, const QString& error) {
        if (!ok) {
          if (cancelled) SetStatus(tr("Apply cancelled: no pass was left half-written"));
          else ReportError(error);
          emit jobFinished(false, cancelled ? tr("cancelled") : error);
          return;
        }
        QStringList scenes;
        size_t frames = 0;
        for (const auto& s : report->scenes) {
          scenes << QString::fromStdString(s.scene);
          frames += s.frames;
        }
        const QString pass = QString::fromStdString(opt.pass);
        const QString msg = tr("Wrote %1 for %2 cut(s), %3 frame(s)").arg(pass).arg(scenes.size()).arg(frames);
        SetStatus(msg);
        emit passWritten(pass, scenes);
        emit jobFinished(true, msg);
        setDatasetRoot(root_, split_);  // re-index: the cuts have a new pass
      });
}

void PalettePanel::setDatasetRoot(const QString& root, const QString& split) {
  if (root != root_ || split != split_) {
    materials_.clear();
    frame_key_.clear();
    frame_rgb_.release();
  }
  root_ = root;
  split_ = split;
  auto result = std::make_shared<std::optional<data::AnimeRunDataset>>();
  data::DatasetOptions dopt;
  dopt.split = split.toStdString();
  dopt.check_sizes = false;
  const fs::path path = gui::ToPath(root);
  preview_done_ = [this, result](bool ok, bool, const QString& error) {
    if (!ok) {
      dataset_.reset();
      original_view_->setText(tr("Cannot open the dataset"));
      if (!error.isEmpty()) ReportError(error);
      UpdateActions();
      return;
    }
    dataset_ = std::move(*result);
    UpdateActions();
    if (scene_.isEmpty() && !dataset_->scenes().empty()) scene_ = QString::fromStdString(dataset_->scenes()[0].name);
    SuggestPassName();
    LoadPreviewFrame();
  };
  preview_task_->Start([path, dopt, result](const JobContext& job) {
    *result = data::AnimeRunDataset::Open(path, dopt, &job);
  });
}

void PalettePanel::setCurrentFrame(const QString& scene, int frame) {
  if (scene == scene_ && frame == frame_ && !frame_rgb_.empty()) return;
  const bool new_scene = scene != scene_;
  scene_ = scene;
  frame_ = frame;
  if (!dataset_) return;  // the preview follows when the dataset is open
  if (new_scene) SuggestPassName();
  // A running load finishes first; its handler then loads the newest frame.
  if (preview_task_->IsRunning()) return;
  LoadPreviewFrame();
}

void PalettePanel::LoadPreviewFrame() {
  if (!dataset_) return;
  const data::Scene* s = dataset_->FindScene(scene_.toStdString());
  if (!s || frame_ < 0 || frame_ >= static_cast<int>(s->frames.size()) ||
      s->frames[0].parent_path().filename() != "original") {
    frame_rgb_.release();
    preview_original_ = preview_recoloured_ = QImage();
    original_view_->setText(s ? tr("No `original` frame %1 in %2").arg(frame_).arg(scene_) : tr("No cut selected"));
    recoloured_view_->clear();
    return;
  }
  const data::Scene scene = *s;  // the worker's own copy
  const int frame = frame_;
  const bool need_counts = materials_.find(scene.name) == materials_.end();
  palette::RecolorOptions opt = CurrentOptions();
  struct Result {
    palette::MaterialCounts counts;
    cv::Mat rgb, mask;
  };
  auto result = std::make_shared<Result>();
  const QString key = QStringLiteral("%1/%2").arg(scene_).arg(frame);
  preview_done_ = [this, result, key, need_counts, name = scene.name](bool ok, bool cancelled, const QString& error) {
    if (!ok) {
      if (!cancelled) {
        original_view_->setText(tr("Cannot preview: %1").arg(error));
        last_error_ = error;
      }
      return;
    }
    if (need_counts) materials_[name] = std::move(result->counts);
    frame_rgb_ = result->rgb;
    frame_mask_ = result->mask;
    frame_key_ = key;
    RenderPreview();
    // The user moved on while this ran: load the newest frame.
    if (key != QStringLiteral("%1/%2").arg(scene_).arg(frame_)) LoadPreviewFrame();
  };
  original_view_->setText(need_counts ? tr("Finding the materials of %1…").arg(scene_) : tr("Loading…"));
  preview_task_->Start([scene, frame, need_counts, opt, result](const JobContext& job) {
    if (need_counts) result->counts = palette::CountSceneMaterials(scene, opt, &job);
    result->rgb = io::ReadImageRgb(scene.frames[frame]);
    result->mask = palette::LineMask(result->rgb, palette::LineFilesOfScene(scene)[frame], opt);
  });
}

void PalettePanel::RenderPreview() {
  if (frame_rgb_.empty()) return;
  preview_original_ = gui::ToQImage(frame_rgb_);
  preview_recoloured_ = QImage();
  const auto it = materials_.find(scene_.toStdString());
  QString info;
  if (it != materials_.end()) {
    palette::RecolorOptions opt = CurrentOptions();
    opt.pass = "color_1";  // the preview writes nothing; any valid name passes Check()
    try {
      if (!opt.random_group && opt.group.empty()) throw Error("select a group to preview");
      const palette::ScenePlan plan = palette::PlanRecolor(it->first, it->second, file_, opt);
      preview_recoloured_ = gui::ToQImage(palette::RecolorFrame(frame_rgb_, frame_mask_, plan.map));
      info = tr("%1, frame %2: %3 materials, group %4, seed %5")
                 .arg(scene_)
                 .arg(frame_)
                 .arg(plan.materials.size())
                 .arg(QString::fromStdString(plan.group))
                 .arg(Seed());
    } catch (const std::exception& e) {
      info = QString::fromStdString(e.what());
    }
  }
  preview_info_->setText(info);
  UpdatePreviewPixmaps();
  if (!preview_recoloured_.isNull()) emit previewReady();
}

void PalettePanel::UpdatePreviewPixmaps() {
  auto show = [](QLabel* label, const QImage& img) {
    if (img.isNull()) return;
    // Smooth when shrinking; nearest when enlarging keeps flat colours and lines crisp.
    const QSize target = img.size().scaled(label->size(), Qt::KeepAspectRatio);
    const auto mode = target.width() < img.width() ? Qt::SmoothTransformation : Qt::FastTransformation;
    label->setPixmap(QPixmap::fromImage(img.scaled(target, Qt::IgnoreAspectRatio, mode)));
  };
  if (preview_original_.isNull()) return;
  show(original_view_, preview_original_);
  if (preview_recoloured_.isNull()) recoloured_view_->setText(preview_info_->text());
  else show(recoloured_view_, preview_recoloured_);
}

void PalettePanel::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  UpdatePreviewPixmaps();
}

void PalettePanel::LoadThumbnails() {
  const PaletteGroup* g = file_.Find(CurrentGroup().toStdString());
  if (!g || g->frames.empty()) return;
  const std::vector<std::string> frames(g->frames.begin(),
                                        g->frames.begin() + std::min<size_t>(g->frames.size(), options_.max_thumbnails));
  const QSize size = frames_->iconSize();
  auto thumbs = std::make_shared<std::vector<QImage>>(frames.size());
  const QString group = CurrentGroup();
  thumb_done_ = [this, thumbs, frames, group](bool ok, bool, const QString&) {
    if (!ok || CurrentGroup() != group) return;
    for (int i = 0; i < frames_->count() && i < static_cast<int>(thumbs->size()); ++i) {
      QListWidgetItem* it = frames_->item(i);
      if (it->data(Qt::UserRole).toString().toStdString() != frames[i] || (*thumbs)[i].isNull()) continue;
      it->setIcon(QIcon(QPixmap::fromImage((*thumbs)[i])));
    }
  };
  thumb_task_->Start([frames, size, thumbs](const JobContext& job) {
    for (size_t i = 0; i < frames.size(); ++i) {
      job.CheckCancel();
      QImageReader reader(QString::fromStdString(frames[i]));
      const QSize full = reader.size();
      if (full.isValid()) reader.setScaledSize(full.scaled(size, Qt::KeepAspectRatio));
      (*thumbs)[i] = reader.read();  // null on failure: the item keeps no icon
    }
  });
}

}  // namespace animerun::widgets
