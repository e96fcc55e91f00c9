// The palette panel: reference-palette colour augmentation for artists. Shows the groups
// of a palette file and their colours as swatches sized by count, the frames of a group as
// thumbnails (drop images or folders to add them), a preview of the current dataset frame
// recoloured from the chosen group beside the original (re-roll the seed to try another
// draw), and applies the recolouring to a cut or the whole dataset with progress. Long work
// (extraction, suggestion, materials of a cut, apply, thumbnails) runs on worker threads.
//
// Self-contained: the main window docks it and feeds it through the public slots
// setDatasetRoot() and setCurrentFrame(). Method and formats: docs/palette.md.
#pragma once

#include <QImage>
#include <QStringList>
#include <QWidget>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include <opencv2/core.hpp>

#include "core/data/animerun_dataset.h"
#include "core/palette/palette.h"
#include "core/palette/recolor.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QToolButton;
class QWidget;

namespace animerun::gui {
class BackgroundTask;
}

namespace animerun::widgets {

class PaletteSwatches;
class PaletteFrameList;

struct PalettePanelOptions {
  bool modal_errors = true;  // also show errors in message boxes (tests turn this off)
  int max_thumbnails = 300;  // thumbnails loaded per group (the list shows every frame)
  void Check() const {}
};

class PalettePanel : public QWidget {
  Q_OBJECT

 public:
  explicit PalettePanel(QWidget* parent = nullptr, const PalettePanelOptions& options = {});
  ~PalettePanel() override;

  // State, for the main window and tests.
  const palette::PaletteFile& Palettes() const { return file_; }
  QString PalettePath() const { return path_; }
  bool Modified() const { return modified_; }
  QString CurrentGroup() const;
  quint64 Seed() const;
  bool Busy() const;
  // Processes events until no background work runs (or timeout); true when idle.
  bool WaitIdle(int timeout_ms);
  QString Status() const;       // the status line
  QString LastError() const { return last_error_; }
  QImage PreviewOriginal() const { return preview_original_; }
  QImage PreviewRecoloured() const { return preview_recoloured_; }
  const palette::PaletteFile& Suggestion() const { return suggestion_; }
  PaletteSwatches* swatches() const { return swatches_; }
  PaletteFrameList* frameList() const { return frames_; }
  QListWidget* groupList() const { return groups_; }

  // Group editing (what the buttons, the editors and drag and drop do). Changing the
  // frames of a group clears its colours: they must be extracted again.
  bool AddGroup(const QString& name, const QString& style = QString());
  bool RemoveGroup(const QString& name);
  bool RenameGroup(const QString& from, const QString& to);
  void SetGroupStyle(const QString& name, const QString& style);
  // files or folders (folders add their images, recursively)
  void AddFrames(const QString& group, const QStringList& paths);
  void RemoveFrames(const QString& group, const QStringList& paths);

  // Background jobs: one at a time; jobFinished follows.
  void ExtractGroups(const QStringList& names);  // empty = every group lacking colours
  void SuggestGroups(const QStringList& frames, int groups, quint64 seed);
  void AcceptSuggestion();   // adds the suggested groups (and drops the source group)
  void DiscardSuggestion();
  void Apply(bool whole_dataset);  // recolour the current cut or every cut
  void CancelJob();

  // The apply/preview settings.
  void SetPassName(const QString& pass);
  QString PassName() const;
  void SetOverwrite(bool on);
  void SetRandomGroup(bool on);

 public slots:
  // root holds train/ and test/ (or is a split folder). Indexed in the background.
  void setDatasetRoot(const QString& root, const QString& split = QStringLiteral("test"));
  // The frame to preview: a scene (cut) name and a 0-based frame index within it.
  void setCurrentFrame(const QString& scene, int frame);
  bool loadPalettes(const QString& path);
  bool savePalettes(const QString& path);
  void selectGroup(const QString& name);
  void setSeed(quint64 seed);
  void rerollSeed();  // seed + 1

 signals:
  void palettesChanged();
  void previewReady();
  // A pass was written for these cuts (the main window may re-index to show it).
  void passWritten(const QString& pass, const QStringList& scenes);
  void jobFinished(bool ok, const QString& message);

 private:
  void BuildUi();
  void RefreshGroups();          // list from file_, keeps the selection
  void ShowGroup();              // swatches + frames + editors of the current group
  void MarkModified();
  void UpdateActions();
  void SetStatus(const QString& text);
  void ReportError(const QString& text);
  palette::RecolorOptions CurrentOptions() const;
  void SuggestPassName();

  // palette_panel_jobs.cpp
  void StartJob(const QString& title, std::function<void(const JobContext&)> work,
                std::function<void(bool ok, bool cancelled, const QString& error)> done);
  void LoadThumbnails();
  void LoadPreviewFrame();
  void RenderPreview();
  void UpdatePreviewPixmaps();  // scales the preview images to the labels

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:

  PalettePanelOptions options_;
  palette::PaletteFile file_;
  palette::PaletteFile suggestion_;
  QString suggestion_source_;   // the group the suggestion splits ("" = none)
  QString path_;
  bool modified_ = false;
  QString last_error_;

  // Dataset and preview state.
  QString root_, split_ = QStringLiteral("test");
  std::optional<data::AnimeRunDataset> dataset_;
  QString scene_;
  int frame_ = 0;
  std::map<std::string, palette::MaterialCounts> materials_;  // per cut
  cv::Mat frame_rgb_, frame_mask_;  // the previewed frame and its line mask
  QString frame_key_;               // "<scene>/<frame>" of frame_rgb_
  QImage preview_original_, preview_recoloured_;

  gui::BackgroundTask* job_ = nullptr;        // extract / suggest / apply
  gui::BackgroundTask* preview_task_ = nullptr;  // dataset index, materials, frame
  gui::BackgroundTask* thumb_task_ = nullptr;
  std::function<void(bool, bool, const QString&)> job_done_, preview_done_, thumb_done_;

  // Widgets.
  QListWidget* groups_ = nullptr;
  QLineEdit* name_edit_ = nullptr;
  QComboBox* style_edit_ = nullptr;
  QWidget* suggestion_box_ = nullptr;
  QLabel* suggestion_label_ = nullptr;
  PaletteSwatches* swatches_ = nullptr;
  QLabel* group_info_ = nullptr;
  PaletteFrameList* frames_ = nullptr;
  QLabel* original_view_ = nullptr;
  QLabel* recoloured_view_ = nullptr;
  QLabel* preview_info_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QCheckBox* random_group_ = nullptr;
  QLineEdit* pass_edit_ = nullptr;
  QComboBox* scope_ = nullptr;
  QCheckBox* overwrite_ = nullptr;
  QPushButton* apply_button_ = nullptr;
  QPushButton* cancel_button_ = nullptr;
  QPushButton* extract_button_ = nullptr;
  QPushButton* suggest_button_ = nullptr;
  QPushButton* remove_group_button_ = nullptr;
  QPushButton* add_frames_button_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* status_ = nullptr;
};

}  // namespace animerun::widgets
