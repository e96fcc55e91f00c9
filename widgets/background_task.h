// Runs one long job (dataset indexing, demo generation, thumbnails) on a worker thread so
// the UI thread never blocks, and forwards the job's progress and end as queued signals.
// Qt Concurrent is not required: a std::thread and JobContext's cancel flag suffice.
#pragma once

#include <QObject>
#include <QString>

#include <functional>
#include <memory>
#include <thread>

#include "core/jobs/job.h"

namespace animerun::gui {

// Processes events until busy() turns false or timeout_ms passes, then once more; returns
// !busy(). What every panel's WaitIdle does (tests and --screenshot wait on background work).
bool ProcessEventsWhile(const std::function<bool()>& busy, int timeout_ms);

class BackgroundTask : public QObject {
  Q_OBJECT

 public:
  // The work runs on the worker thread; it reports through job and should call
  // job.CheckCancel() now and then. Exceptions end it: Cancelled quietly, others as errors.
  using Work = std::function<void(const JobContext& job)>;

  explicit BackgroundTask(QObject* parent = nullptr);
  ~BackgroundTask() override;  // cancels and joins

  // Starts work; a job still running is cancelled and joined first (its finished signal
  // is not delivered). Returns the job's serial number.
  int Start(Work work);
  // Asks the running job to stop; finished(…, cancelled = true) follows.
  void Cancel();
  // Cancels and waits for the worker thread (no event processing).
  void Stop();
  bool IsRunning() const { return running_; }

 signals:
  // fraction in [0, 1]. Queued to the thread that owns this object.
  void progress(double fraction, const QString& message);
  // ok: the work returned normally; error: the exception's message.
  void finished(bool ok, bool cancelled, const QString& error);

 private:
  std::thread thread_;
  std::shared_ptr<JobContext> job_;
  int serial_ = 0;
  bool running_ = false;
};

}  // namespace animerun::gui
