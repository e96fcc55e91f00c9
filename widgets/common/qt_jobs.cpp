#include "widgets/common/qt_jobs.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QMetaObject>
#include <QThread>

namespace animerun::widgets {

PostFn QtPost() {
  return [](std::function<void()> fn) {
    // The posted call checks itself whether its runner is still there (JobRunner's serial).
    QMetaObject::invokeMethod(QCoreApplication::instance(), std::move(fn), Qt::QueuedConnection);
  };
}

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

}  // namespace animerun::widgets
