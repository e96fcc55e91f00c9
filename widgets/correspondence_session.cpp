// The correspondence panel's session logic: opening a pair (saved edits or the ground
// truth), undoable edits, the review queue, autosave, and matchers on a worker thread.
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QStandardPaths>
#include <QTimer>
#include <QUndoCommand>
#include <QUndoStack>

#include <filesystem>
#include <memory>
#include <system_error>

#include "core/util/error.h"
#include "core/view/segment_view.h"
#include "widgets/background_task.h"
#include "widgets/correspondence_panel.h"
#include "widgets/image_pane.h"
#include "widgets/qt_image.h"

namespace animerun::widgets {

namespace fs = std::filesystem;

// One edit: the match of segment id set to target; undo sets back what it was.
class SetMatchCommand : public QUndoCommand {
 public:
  SetMatchCommand(CorrespondencePanel* panel, int id, int before, int after, const QString& text)
      : QUndoCommand(text), panel_(panel), id_(id), before_(before), after_(after) {}
  void redo() override { panel_->ApplySet(id_, after_); }
  void undo() override { panel_->ApplySet(id_, before_); }

 private:
  CorrespondencePanel* panel_;
  int id_, before_, after_;
};

void CorrespondencePanel::clearPair(const QString& message) {
  SaveNow();
  task_->Stop();
  task_done_ = nullptr;
  undo_->clear();
  has_session_ = false;
  session_ = segments::AnnotationSession();
  files_ = segments::AnnotationFiles();
  data_ = data::PairData();
  selected_ = -1;
  queue_.clear();
  queue_pos_ = -1;
  for (int f = 0; f < 2; ++f) {
    rendered_[f] = QImage();
    panes_[f]->ClearImage();
    titles_[f]->setText(f == 0 ? message.toHtmlEscaped() : QString());
  }
  UpdateLabels();
}

void CorrespondencePanel::setPair(const QString& split_root, const data::FramePair& pair, const data::PairData& data) {
  clearPair();
  pair_ = pair;
  if (data.segment1.empty() || data.segment2.empty()) {
    clearPair(tr("This pair has no segment maps (Segment/%1/*.npy): nothing to annotate")
                  .arg(QString::fromStdString(pair.scene)));
    return;
  }
  try {
    const int n0 = segments::SegmentCount(data.segment1), n1 = segments::SegmentCount(data.segment2);
    segments::MatchProposal p;
    if (!data.match_forward.empty()) {
      p = segments::ProposalFromGroundTruth(data.match_forward, n0);
    } else {  // no ground truth: everything unmatched until a matcher runs
      p.source = "none";
      p.matches.assign(static_cast<size_t>(n0), -1);
      p.confidence.assign(static_cast<size_t>(n0), 0.f);
    }
    session_ = segments::AnnotationSession(n0, n1, std::move(p));
    session_.SetProtectedPath(pair.match_forward);
    const QString fallback =
        !options_.fallback_dir.isEmpty()
            ? options_.fallback_dir
            : QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/annotations");
    const fs::path root = segments::ChooseAnnotationRoot(gui::ToPath(split_root), gui::ToPath(fallback));
    // Named like the ground-truth file (frame t's name in AnimeRun), so that the tree is a
    // drop-in `eval-match --pred` folder.
    const std::string stem = pair.match_forward.empty() ? pair.name1 : pair.match_forward.stem().string();
    files_ = segments::AnnotationFilesFor(root, pair.scene, stem);
  } catch (const std::exception& e) {
    clearPair(tr("Pair %1 cannot be annotated").arg(QString::fromStdString(pair.name1)));
    ReportError(QString::fromStdString(e.what()));
    return;
  }
  data_ = data;
  has_session_ = true;
  SetStatus(tr("Edits are saved to %1").arg(gui::ToQString(files_.matches)));
  // Saved edits, and changes journaled after the last save (a crash); unusable files are
  // moved aside by the core, never overwritten.
  segments::OpenedAnnotation opened;
  try {
    opened = segments::OpenSavedAnnotation(&session_, files_);
  } catch (const std::exception& e) {
    clearPair(tr("Pair %1 cannot be annotated").arg(QString::fromStdString(pair.name1)));
    ReportError(QString::fromStdString(e.what()));
    return;
  }
  if (!opened.error.empty()) {
    QStringList kept;
    for (const fs::path& f : opened.kept_aside) kept << gui::ToQString(f);
    ReportError(tr("%1\nShowing the %2 instead; the unreadable file was kept as %3")
                    .arg(QString::fromStdString(opened.error),
                         opened.restored ? tr("saved edits")
                         : session_.proposal().source == "gt" ? tr("ground truth")
                                                              : tr("pair unmatched"),
                         kept.join(QStringLiteral(", "))));
  } else if (opened.restored) {
    SetStatus(opened.journaled > 0
                  ? tr("Restored %1 edit(s) from %2, %3 change(s) recovered after an interruption")
                        .arg(session_.NumEdited())
                        .arg(gui::ToQString(files_.matches))
                        .arg(opened.journaled)
                  : tr("Restored %1 edit(s) from %2").arg(session_.NumEdited()).arg(gui::ToQString(files_.matches)));
  }
  OnProposalChanged();
  for (gui::ImagePane* p : panes_) p->FitToView();
}

void CorrespondencePanel::OnProposalChanged() {
  queue_ = session_.ReviewQueue();
  queue_pos_ = -1;
  Render();
  UpdateLabels();
  if (session_.Dirty()) autosave_->start();
  emit matchesChanged();
}

void CorrespondencePanel::SelectSegment(int id) {
  if (!has_session_) return;
  selected_ = id >= 0 && id < session_.NumSegments0() ? id : -1;
  Render();
  UpdateLabels();
  RevealSelection();
  emit selectionChanged(selected_, session_.MatchOf(selected_));
}

void CorrespondencePanel::ClickAt(int frame, cv::Point pixel) {
  if (!has_session_) return;
  const int id = view::LabelAt(frame == 0 ? data_.segment1 : data_.segment2, pixel);
  if (frame == 0) {
    SelectSegment(id);
  } else if (selected_ < 0) {
    SetStatus(tr("Select a segment of t first, then click its match in t+1."));
  } else if (id >= 0) {
    ReassignSelected(id);
  }
}

bool CorrespondencePanel::PushSet(int id, int target, const QString& text) {
  if (!has_session_ || id < 0) {
    SetStatus(tr("Select a segment of t first."));
    return false;
  }
  if (target < -1 || target >= session_.NumSegments1()) {
    ReportError(tr("Segment %1 is not in frame t+1 (%2 segments)").arg(target).arg(session_.NumSegments1()));
    return false;
  }
  const int before = session_.MatchOf(id);
  if (before == target) {
    SetStatus(tr("Segment %1 already has that match.").arg(id));
    return true;
  }
  undo_->push(new SetMatchCommand(this, id, before, target, text));
  return true;
}

bool CorrespondencePanel::ReassignSelected(int target) {
  if (target < 0) return MarkSelectedUnmatched();
  return PushSet(selected_, target, tr("Match segment %1 to %2").arg(selected_).arg(target));
}

bool CorrespondencePanel::MarkSelectedUnmatched() {
  return PushSet(selected_, -1, tr("Mark segment %1 unmatched").arg(selected_));
}

bool CorrespondencePanel::RestoreSelected() {
  if (!has_session_ || selected_ < 0) return PushSet(-1, -1, QString());
  return PushSet(selected_, session_.proposal().matches[selected_], tr("Restore segment %1").arg(selected_));
}

void CorrespondencePanel::ApplySet(int id, int target) {
  try {
    session_.Set(id, target);
  } catch (const std::exception& e) {
    ReportError(QString::fromStdString(e.what()));
    return;
  }
  selected_ = id;
  Render();
  UpdateLabels();
  RevealSelection();
  autosave_->start();  // restarts: edits in quick succession are saved once
  emit matchesChanged();
  emit selectionChanged(selected_, session_.MatchOf(selected_));
}

void CorrespondencePanel::NextInQueue() {
  if (queue_.empty()) return;
  queue_pos_ = (queue_pos_ + 1) % static_cast<int>(queue_.size());
  SelectSegment(queue_[queue_pos_]);
}

void CorrespondencePanel::PrevInQueue() {
  if (queue_.empty()) return;
  queue_pos_ = queue_pos_ <= 0 ? static_cast<int>(queue_.size()) - 1 : queue_pos_ - 1;
  SelectSegment(queue_[queue_pos_]);
}

bool CorrespondencePanel::SaveNow() {
  autosave_->stop();
  if (!has_session_ || !session_.Dirty()) return true;
  try {
    session_.Save(files_);
  } catch (const std::exception& e) {
    ReportError(QString::fromStdString(e.what()));
    return false;
  }
  const QString path = gui::ToQString(files_.matches);
  SetStatus(tr("Saved %1 edit(s) to %2").arg(session_.NumEdited()).arg(path));
  emit saved(path);
  return true;
}

segments::MatcherOptions CorrespondencePanel::CurrentMatcherOptions() const {
  segments::MatcherOptions o;
  o.weights = weights_->text().trimmed().toStdString();
  return o;
}

void CorrespondencePanel::RunMatcher(const QString& name, const segments::MatcherOptions& options) {
  if (!has_session_) {
    ReportError(tr("No pair to match: open a dataset first."));
    emit matcherFinished(false, last_error_);
    return;
  }
  if (name == "gt") {
    if (data_.match_forward.empty()) {
      ReportError(tr("This pair has no ground-truth matching (SegMatching/%1/forward)")
                      .arg(QString::fromStdString(pair_.scene)));
      emit matcherFinished(false, last_error_);
      return;
    }
    session_.ReplaceProposal(segments::ProposalFromGroundTruth(data_.match_forward, session_.NumSegments0()));
    OnProposalChanged();
    SetStatus(tr("Matches from the ground truth (%1 edit(s) kept)").arg(session_.NumEdited()));
    emit matcherFinished(true, Status());
    return;
  }
  segments::MatchInput input;
  input.image0 = data_.image1;
  input.image1 = data_.image2;
  input.labels0 = data_.segment1;
  input.labels1 = data_.segment2;
  input.flow = data_.flow_forward;
  const std::string matcher = name.toStdString();
  auto result = std::make_shared<segments::MatchResult>();
  task_done_ = [this, name, result](bool ok, bool cancelled, const QString& error) {
    if (!ok) {
      if (cancelled)
        SetStatus(tr("Matcher %1 cancelled").arg(name));
      else
        ReportError(tr("Matcher %1: %2").arg(name, error));
      emit matcherFinished(false, cancelled ? Status() : last_error_);
      return;
    }
    try {
      session_.ReplaceProposal(segments::ProposalFromResult(*result, name.toStdString()));
    } catch (const std::exception& e) {
      ReportError(tr("Matcher %1: %2").arg(name, QString::fromStdString(e.what())));
      emit matcherFinished(false, last_error_);
      return;
    }
    OnProposalChanged();
    SetStatus(tr("Matches from %1 (%2 edit(s) kept); N steps through the least confident")
                  .arg(name)
                  .arg(session_.NumEdited()));
    emit matcherFinished(true, Status());
  };
  SetStatus(tr("Running matcher %1…").arg(name));
  task_->Start([matcher, options, input, result](const JobContext& job) {
    job.Report(0.0, "creating matcher " + matcher);
    std::unique_ptr<segments::SegmentMatcher> m = segments::CreateMatcher(matcher, options);
    job.CheckCancel();
    job.Report(0.1, "matching segments (" + matcher + ")");
    *result = m->Match(input);
    job.CheckCancel();
  });
  UpdateLabels();
}

void CorrespondencePanel::CancelMatcher() { task_->Cancel(); }

}  // namespace animerun::widgets
