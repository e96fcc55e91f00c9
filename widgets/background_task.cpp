#include "widgets/background_task.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QMetaObject>
#include <QPointer>
#include <QThread>

#include <exception>

namespace animerun::gui {

bool ProcessEventsWhile(const std::function<bool()>& busy, int timeout_ms) {
  QElapsedTimer timer;
  timer.start();
  while (busy() && timer.elapsed() < timeout_ms) {
    QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    if (busy()) QThread::msleep(2);
  }
  QCoreApplication::processEvents();
  return !busy();
}

BackgroundTask::BackgroundTask(QObject* parent) : QObject(parent) {}

BackgroundTask::~BackgroundTask() { Stop(); }

void BackgroundTask::Stop() {
  if (job_) job_->RequestCancel();
  if (thread_.joinable()) thread_.join();
  running_ = false;
}

void BackgroundTask::Cancel() {
  if (job_) job_->RequestCancel();
}

int BackgroundTask::Start(Work work) {
  Stop();
  const int serial = ++serial_;
  // Progress from the worker is posted to this object's thread; a stale job's reports are
  // dropped by the serial check there.
  auto job = std::make_shared<JobContext>([this, serial](double fraction, const std::string& message) {
    const QString text = QString::fromStdString(message);
    QMetaObject::invokeMethod(
        this, [this, serial, fraction, text] {
          if (serial == serial_) emit progress(fraction, text);
        },
        Qt::QueuedConnection);
  });
  job_ = job;
  running_ = true;
  thread_ = std::thread([this, job, serial, work = std::move(work)] {
    bool ok = false, cancelled = false;
    QString error;
    try {
      work(*job);
      ok = !job->IsCancelled();
      cancelled = job->IsCancelled();
    } catch (const Cancelled&) {
      cancelled = true;
    } catch (const std::exception& e) {
      error = QString::fromStdString(e.what());
    } catch (...) {
      error = QStringLiteral("unknown error");
    }
    QMetaObject::invokeMethod(
        this, [this, serial, ok, cancelled, error] {
          if (serial != serial_) return;
          if (thread_.joinable()) thread_.join();
          running_ = false;
          emit finished(ok, cancelled, error);
        },
        Qt::QueuedConnection);
  });
  return serial;
}

}  // namespace animerun::gui
