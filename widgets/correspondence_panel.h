// The correspondence annotation panel: artists correct segment matches of the shown pair.
// Its own two frame panes (t | t+1, segment boundaries drawn) show the selected segment
// of t and its current match in t+1; a click on t selects, a click on t+1 reassigns the
// selection there. Keys: U / Delete mark unmatched, R restores the proposal, N / Shift+N
// step through the review queue (least confident first), Ctrl+Z / Ctrl+Shift+Z undo and
// redo (a QUndoStack; every edit is undoable).
//
// The matches to correct come from the ground truth or a matcher (CreateMatcher: flow with
// the pair's flow, geometric, ant with weights) run on a worker thread. Edits are saved
// (debounced, atomically) as AnimeRun SegMatching JSON under
// <split folder>/Annotations/SegMatching/<scene>/forward/<frame t>.json, or under
// <AppDataLocation>/annotations/<dataset>-<hash>/ when the dataset is read-only; the
// ground truth is never written. Reopening the pair loads them back (core/segments/annotation.h).
//
// The panel is self-contained: the main window docks it and calls setPair() when it shows
// a pair (the main pair view keeps showing the ground truth and overlays).
#pragma once

#include <QImage>
#include <QString>
#include <QWidget>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <opencv2/core.hpp>

#include "core/data/animerun_dataset.h"
#include "core/segments/annotation.h"
#include "core/segments/matcher_factory.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTimer;
class QToolButton;
class QUndoStack;

namespace animerun::gui {
class BackgroundTask;
class ImagePane;
}  // namespace animerun::gui

namespace animerun::widgets {

struct CorrespondencePanelOptions {
  bool modal_errors = true;     // also show errors in message boxes (tests turn this off)
  int autosave_delay_ms = 600;  // edits within this many ms are saved together; >= 0
  QString fallback_dir;         // annotations of read-only datasets ("" = <AppDataLocation>/annotations)
  void Check() const;           // throws Error on bad values
};

class CorrespondencePanel : public QWidget {
  Q_OBJECT

 public:
  explicit CorrespondencePanel(QWidget* parent = nullptr, const CorrespondencePanelOptions& options = {});
  ~CorrespondencePanel() override;  // saves pending edits

  // State, for the main window and tests.
  bool HasSession() const { return has_session_; }
  const segments::AnnotationSession& session() const { return session_; }
  const segments::AnnotationFiles& Files() const { return files_; }
  int Selected() const { return selected_; }             // segment of frame t, -1 = none
  int QueuePosition() const { return queue_pos_; }       // index in ReviewQueue(), -1 = before the first
  int QueueSize() const { return static_cast<int>(queue_.size()); }
  QString QueueText() const;                             // "k of n"
  QString SelectionText() const;                         // the info line
  QString Status() const;
  QString LastError() const { return last_error_; }
  QUndoStack* undoStack() const { return undo_; }
  const QImage& RenderedImage(int frame) const { return rendered_[frame]; }
  gui::ImagePane* Pane(int frame) const { return panes_[frame]; }
  bool AutosavePending() const;
  bool Busy() const;
  bool WaitIdle(int timeout_ms);  // processes events until no matcher runs
  // Tall enough for frames that show their segments (the main window sizes the dock by it).
  QSize sizeHint() const override { return QSize(960, 420); }

  // What clicks and keys do, callable directly. Edits go through the undo stack and
  // return false (reported) when there is nothing to edit.
  void SelectSegment(int id);
  // A click at pixel of frame 0 (selects) or 1 (reassigns the selection to that segment).
  void ClickAt(int frame, cv::Point pixel);
  bool ReassignSelected(int target);
  bool MarkSelectedUnmatched();
  bool RestoreSelected();
  void NextInQueue();
  void PrevInQueue();
  // Writes pending edits now (what the autosave timer does); false on error (reported).
  bool SaveNow();

  // Replaces the proposal: "gt" (synchronous) or a matcher name (worker thread;
  // matcherFinished follows). Edited segments keep their edits.
  void RunMatcher(const QString& name, const segments::MatcherOptions& options = {});
  void CancelMatcher();

 public slots:
  // Shows a pair and opens its annotation session: the saved edits when there are some,
  // otherwise the ground truth (or nothing matched when the pair has none). split_root is
  // the dataset's split folder (AnimeRunDataset::root()).
  void setPair(const QString& split_root, const animerun::data::FramePair& pair, const animerun::data::PairData& data);
  void clearPair(const QString& message = QString());

 signals:
  void matchesChanged();
  void selectionChanged(int segment, int match);
  void saved(const QString& path);
  void matcherFinished(bool ok, const QString& message);

 protected:
  bool event(QEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  bool eventFilter(QObject* watched, QEvent* event) override;  // panes refit on resize

 private:
  friend class SetMatchCommand;
  void BuildUi();
  // Applies one edit (from the undo stack): selects id, redraws, schedules the autosave.
  void ApplySet(int id, int target);
  bool PushSet(int id, int target, const QString& text);
  void OnProposalChanged();
  void Render();
  // Zoomed in: scrolls each pane to the selection / its match when it is out of view.
  void RevealSelection();
  void UpdateLabels();
  void SetStatus(const QString& text);
  void ReportError(const QString& text);
  segments::MatcherOptions CurrentMatcherOptions() const;

  CorrespondencePanelOptions options_;
  data::FramePair pair_;
  data::PairData data_;
  segments::AnnotationSession session_;
  segments::AnnotationFiles files_;
  bool has_session_ = false;
  int selected_ = -1;
  std::vector<int> queue_;
  int queue_pos_ = -1;
  std::array<QImage, 2> rendered_;
  QString last_error_;

  QUndoStack* undo_ = nullptr;
  QTimer* autosave_ = nullptr;
  gui::BackgroundTask* task_ = nullptr;
  std::function<void(bool, bool, const QString&)> task_done_;

  QComboBox* source_ = nullptr;
  QLineEdit* weights_ = nullptr;
  QPushButton* run_ = nullptr;
  QPushButton* cancel_ = nullptr;
  std::array<QLabel*, 2> titles_{};
  std::array<gui::ImagePane*, 2> panes_{};
  QLabel* info_ = nullptr;
  QLabel* queue_label_ = nullptr;
  QLabel* status_ = nullptr;
  std::vector<QToolButton*> edit_buttons_;
};

}  // namespace animerun::widgets
