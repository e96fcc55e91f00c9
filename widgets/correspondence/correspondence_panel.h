// The Correspondences panel: a thin view over segments::CorrespondenceController
// (core/segments/correspondence_controller.h), where artists correct the segment matches
// of the shown pair. Its own two frame panes (t | t+1, segment boundaries drawn) show the
// selected segment of t and its current match in t+1; a click on t selects, a click on
// t+1 reassigns the selection there. Keys: U / Delete mark unmatched, R restores the
// proposal, N / Shift+N step through the review queue (least confident first), Ctrl+Z /
// Ctrl+Shift+Z undo and redo (a QUndoStack whose commands edit through the controller).
// Edits are saved a moment after the last one (debounced) and when the pair changes.
//
// Docked, it follows the session's pair (SetSession); setPair() feeds it directly.
#pragma once

#include <QImage>
#include <QString>
#include <QWidget>

#include <array>
#include <memory>
#include <vector>

#include <opencv2/core.hpp>

#include "core/data/animerun_dataset.h"
#include "core/segments/correspondence_controller.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTimer;
class QToolButton;
class QUndoStack;

namespace animerun::widgets {

class DeviceCombo;

class ImagePane;
class SessionModel;

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

  // Follows the session's shown pair; a segment picked in frame t of the window's pair
  // view is selected here too (SelectSegment).
  void SetSession(SessionModel* session);
  segments::CorrespondenceController& controller() { return *controller_; }

  // State, for the main window and tests.
  bool HasSession() const { return controller_->HasSession(); }
  const segments::AnnotationSession& session() const { return controller_->session(); }
  const segments::AnnotationFiles& Files() const { return controller_->files(); }
  int Selected() const { return controller_->selected(); }
  int QueuePosition() const { return controller_->queue_position(); }
  int QueueSize() const { return controller_->queue_size(); }
  QString QueueText() const;      // "k of n"
  QString SelectionText() const;  // the info line
  QString Status() const;
  QString LastError() const;
  QUndoStack* undoStack() const { return undo_; }
  const QImage& RenderedImage(int frame) const { return rendered_[frame]; }
  ImagePane* Pane(int frame) const { return panes_[frame]; }
  bool AutosavePending() const;
  bool Busy() const { return controller_->Busy(); }
  bool WaitIdle(int timeout_ms);
  // Tall enough for frames that show their segments (the main window sizes the dock by it).
  QSize sizeHint() const override { return QSize(960, 420); }

  // What clicks and keys do. Edits go through the undo stack and return false (reported)
  // when there is nothing to edit.
  void SelectSegment(int id);
  void ClickAt(int frame, cv::Point pixel);  // frame 0 selects, frame 1 reassigns
  bool ReassignSelected(int target);
  bool MarkSelectedUnmatched();
  bool RestoreSelected();
  void NextInQueue() { controller_->NextInQueue(); }
  void PrevInQueue() { controller_->PrevInQueue(); }
  bool SaveNow();  // what the autosave timer does
  void RunMatcher(const QString& name, const segments::MatcherOptions& options = {});
  void CancelMatcher() { controller_->CancelMatcher(); }

 public slots:
  void setPair(const QString& split_root, const animerun::data::FramePair& pair,
               std::shared_ptr<const animerun::data::PairData> data);
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
  void BuildControls(QWidget* controls);
  void OnEvent(segments::CorrespondenceController::Event event);
  bool PushEdit(int id, int target, const QString& text);
  void Render();
  void RevealSelection();  // zoomed in: scrolls each pane to the selection / its match
  void UpdateLabels();

  CorrespondencePanelOptions options_;
  std::unique_ptr<segments::CorrespondenceController> controller_;
  std::array<QImage, 2> rendered_;
  QUndoStack* undo_ = nullptr;
  QTimer* autosave_ = nullptr;

  QComboBox* source_ = nullptr;
  QLineEdit* weights_ = nullptr;
  DeviceCombo* device_ = nullptr;
  QLabel* device_label_ = nullptr;
  QPushButton* run_ = nullptr;
  QPushButton* cancel_ = nullptr;
  std::array<QLabel*, 2> titles_{};
  std::array<ImagePane*, 2> panes_{};
  QLabel* info_ = nullptr;
  QLabel* queue_label_ = nullptr;
  QLabel* status_ = nullptr;
  std::vector<QToolButton*> edit_buttons_;
};

}  // namespace animerun::widgets
