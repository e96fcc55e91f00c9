// The colorization view's background work: propagation (with restart after edits) and
// export, on a worker thread with progress and cancel (colorize_view.h).
#include <QComboBox>
#include <QFileDialog>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>

#include <algorithm>
#include <mutex>

#include "widgets/background_task.h"
#include "widgets/colorize_view.h"
#include "widgets/qt_image.h"

namespace animerun::widgets {

namespace fs = std::filesystem;
using gui::ToPath;
using gui::ToQImage;

// What a job hands back to the UI thread (written by the worker, read after finished).
struct ColorizeView::Pending {
  colorize::ColorizeOptions options;
  std::vector<colorize::FrameOutcome> frames;
  std::vector<colorize::ColourState> keys;
  int written = 0;
};

// The matcher stays loaded between propagations (AnT and flow networks load weights); a
// new cache is made whenever the matcher settings change.
struct ColorizeView::MatcherCache {
  std::mutex mutex;
  std::unique_ptr<segments::SegmentMatcher> matcher;
};

void ColorizeView::ApplyControls() {
  const std::string text = matcher_box_->currentText().toStdString();
  segments::MatcherOptions m = options_.matcher_options;
  m.flow_model.reset();
  const std::string weights = weights_edit_->text().trimmed().toStdString();
  if (text.rfind("flow:", 0) == 0) {
    flow::FlowRunOptions f;
    f.model = text.substr(5);
    f.weights = weights;
    f.iters = 12;  // interactive: fewer refinement steps than the evaluation's 32
    m.flow_model = f;
    options_.matcher = "flow";
  } else {
    m.weights = weights;
    options_.matcher = text;
  }
  options_.matcher_options = m;
  matcher_cache_.reset();
}

void ColorizeView::Propagate() {
  if (!have_sequence_) return;
  if (task_->IsRunning()) {
    // Restart when the running job has stopped; an export is left to finish.
    restart_ = true;
    if (job_kind_ == Job::kPropagate) task_->Cancel();
    return;
  }
  StartPropagation();
}

void ColorizeView::StartPropagation() {
  restart_ = false;
  last_error_.clear();
  try {
    options_.Check(/*need_out=*/false);
  } catch (const Error& e) {
    ReportError(QString::fromStdString(e.what()));
    return;
  }
  if (!matcher_cache_) matcher_cache_ = std::make_shared<MatcherCache>();
  auto pending = std::make_shared<Pending>();
  pending->options = options_;
  pending_ = pending;
  job_kind_ = Job::kPropagate;
  const colorize::Overrides overrides = overrides_;
  auto cache = matcher_cache_;
  progress_->setValue(0);
  SetStatus(tr("Propagating with %1 (%2)…")
                .arg(QString::fromStdString(options_.matcher), QString::fromStdString(options_.mode)));
  task_->Start([pending, overrides, cache](const JobContext& job) {
    std::lock_guard<std::mutex> lock(cache->mutex);
    if (!cache->matcher)
      cache->matcher = segments::CreateMatcher(pending->options.matcher, pending->options.matcher_options);
    pending->keys = colorize::Propagate(pending->options, *cache->matcher, overrides,
                                        [&](colorize::FrameOutcome&& f) { pending->frames.push_back(std::move(f)); }, &job);
    std::sort(pending->frames.begin(), pending->frames.end(),
              [](const colorize::FrameOutcome& a, const colorize::FrameOutcome& b) { return a.index < b.index; });
  });
  UpdateActions();
}

bool ColorizeView::ExportTo(const QString& dir) {
  if (frames_.empty() || task_->IsRunning()) {
    last_error_ = frames_.empty() ? tr("Nothing to export: propagate first") : tr("Busy: wait or cancel first");
    SetStatus(last_error_);
    return false;
  }
  last_error_.clear();
  auto pending = std::make_shared<Pending>();
  pending->options = options_;
  pending->options.out = ToPath(dir);
  pending->frames = frames_;  // cv::Mat copies share pixels; the UI does not change them meanwhile
  pending_ = pending;
  job_kind_ = Job::kExport;
  export_dir_ = dir;
  const std::string matcher = options_.matcher;
  progress_->setValue(0);
  SetStatus(tr("Exporting %1 frame(s) to %2…").arg(frames_.size()).arg(dir));
  task_->Start([pending, matcher](const JobContext& job) {
    fs::create_directories(pending->options.out);
    const double n = static_cast<double>(pending->frames.size());
    for (const auto& f : pending->frames) {
      job.CheckCancel();
      colorize::WriteFrameOutputs(pending->options, f, matcher);
      ++pending->written;
      job.Report(pending->written / n, "exported " + f.state.name);
    }
  });
  UpdateActions();
  return true;
}

void ColorizeView::ChooseExportDir() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Export colorized frames to"));
  if (!dir.isEmpty()) ExportTo(dir);
}

void ColorizeView::Cancel() {
  restart_ = false;
  task_->Cancel();
}

bool ColorizeView::Busy() const { return task_->IsRunning() || restart_; }

void ColorizeView::OnFinished(bool ok, bool cancelled, const QString& error) {
  const Job kind = job_kind_;
  job_kind_ = Job::kNone;
  std::shared_ptr<Pending> pending = std::move(pending_);
  if (kind == Job::kPropagate) {
    // A result for a sequence no longer shown (the cut changed meanwhile) is dropped.
    const bool current = pending && pending->options.refs == options_.refs && pending->options.frames == options_.frames;
    if (ok && current) {
      frames_ = std::move(pending->frames);
      keys_ = std::move(pending->keys);
      RenderAll();
      RefreshFrame();
      SetStatus(tr("Propagated %1 frame(s) with %2 (%3): %4 unfilled segment(s)")
                    .arg(frames_.size())
                    .arg(QString::fromStdString(pending->options.matcher), QString::fromStdString(pending->options.mode))
                    .arg(TotalUnfilled()));
    } else if (!ok && !cancelled) {
      ReportError(error);
    } else if (!restart_) {
      SetStatus(tr("Propagation cancelled"));
    }
  } else if (kind == Job::kExport) {
    if (ok) SetStatus(tr("Exported %1 frame(s) to %2").arg(pending ? pending->written : 0).arg(export_dir_));
    else if (cancelled) SetStatus(tr("Export cancelled"));
    else ReportError(error);
  }
  UpdateActions();
  if (restart_ && have_sequence_) {
    StartPropagation();
    return;
  }
  if (kind == Job::kPropagate) emit propagated(ok);
  if (kind == Job::kExport) emit exported(ok, export_dir_);
}

}  // namespace animerun::widgets
