// The Palette panel: a thin view over palette::PaletteController (reference-palette
// colour augmentation, core/palette/palette_controller.h). The groups of a palette file
// with their colours as swatches sized by count, the frames of a group as thumbnails (drop
// images or folders to add them), the preview of the shown frame recoloured from the chosen
// group (PalettePreviewBox), and applying it to a cut or the dataset with progress. Method
// and formats: docs/palette.md.
//
// Docked, it follows the session (SetSession): its dataset, the shown cut and frame, and
// a palettes.json beside the dataset folder when no palette file is open yet.
#pragma once

#include <QImage>
#include <QStringList>
#include <QWidget>

#include <cstdint>
#include <memory>

#include "core/jobs/job_runner.h"
#include "core/palette/palette_controller.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;

namespace animerun::widgets {

class PaletteFrameList;
class PalettePreviewBox;
class PaletteSwatches;
class SessionModel;

struct PalettePanelOptions {
  bool modal_errors = true;  // also show errors in message boxes (tests turn this off)
  int max_thumbnails = 300;  // thumbnails loaded per group (the list shows every frame); >= 0
  void Check() const;
};

class PalettePanel : public QWidget {
  Q_OBJECT

 public:
  explicit PalettePanel(QWidget* parent = nullptr, const PalettePanelOptions& options = {});
  ~PalettePanel() override;

  // Follows the session's dataset and shown frame.
  void SetSession(SessionModel* session);
  palette::PaletteController& controller() { return *controller_; }

  // State, for the main window and tests.
  const palette::PaletteFile& Palettes() const { return controller_->palettes(); }
  QString PalettePath() const { return QString::fromStdString(controller_->path()); }
  bool Modified() const { return controller_->modified(); }
  QString CurrentGroup() const;
  quint64 Seed() const { return controller_->seed(); }
  bool Busy() const;
  bool WaitIdle(int timeout_ms);  // processes events until no background work runs
  QString Status() const;
  QString LastError() const { return QString::fromStdString(controller_->LastError()); }
  QImage PreviewOriginal() const;
  QImage PreviewRecoloured() const;
  const palette::PaletteFile& Suggestion() const { return controller_->suggestion(); }
  PaletteSwatches* swatches() const { return swatches_; }
  PaletteFrameList* frameList() const { return frames_; }
  QListWidget* groupList() const { return groups_; }

  // What the buttons, editors and drag and drop do.
  bool AddGroup(const QString& name, const QString& style = QString());
  bool RemoveGroup(const QString& name);
  bool RenameGroup(const QString& from, const QString& to);
  void SetGroupStyle(const QString& name, const QString& style);
  void AddFrames(const QString& group, const QStringList& paths);  // files or folders
  void RemoveFrames(const QString& group, const QStringList& paths);
  void ExtractGroups(const QStringList& names);  // empty = every group lacking colours
  void SuggestGroups(const QStringList& frames, int groups, quint64 seed);
  void AcceptSuggestion() { controller_->AcceptSuggestion(); }
  void DiscardSuggestion() { controller_->DiscardSuggestion(); }
  void Apply(bool whole_dataset);
  void CancelJob() { controller_->CancelJob(); }
  void SetPassName(const QString& pass);
  QString PassName() const;
  void SetOverwrite(bool on);
  void SetRandomGroup(bool on);

 public slots:
  bool loadPalettes(const QString& path);
  bool savePalettes(const QString& path);
  void selectGroup(const QString& name);
  void setSeed(quint64 seed);
  void rerollSeed();

 signals:
  void palettesChanged();
  void previewReady();
  // A pass was written for these cuts (the main window re-indexes to show it).
  void passWritten(const QString& pass, const QStringList& scenes);
  void jobFinished(bool ok, const QString& message);

 private:
  void BuildUi();
  QWidget* BuildGroupsColumn();
  QWidget* BuildPaletteColumn();
  void OnEvent(palette::PaletteController::Event event);
  void RefreshGroups();  // list from the file, keeps the selection
  void ShowGroup();      // swatches, frames, editors of the current group
  void UpdateActions();
  void LoadThumbnails();
  void ChooseSuggestion();

  PalettePanelOptions options_;
  std::unique_ptr<palette::PaletteController> controller_;
  std::unique_ptr<JobRunner> thumbnails_;  // the group's thumbnails, read on a worker

  QListWidget* groups_ = nullptr;
  QLineEdit* name_edit_ = nullptr;
  QComboBox* style_edit_ = nullptr;
  QWidget* suggestion_box_ = nullptr;
  QLabel* suggestion_label_ = nullptr;
  PaletteSwatches* swatches_ = nullptr;
  QLabel* group_info_ = nullptr;
  PaletteFrameList* frames_ = nullptr;
  PalettePreviewBox* preview_ = nullptr;
  QPushButton* extract_button_ = nullptr;
  QPushButton* suggest_button_ = nullptr;
  QPushButton* remove_group_button_ = nullptr;
  QPushButton* add_frames_button_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* status_ = nullptr;
};

}  // namespace animerun::widgets
