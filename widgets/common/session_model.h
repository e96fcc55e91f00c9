// The Qt adapter of the one session (core/session/session.h): owns it, delivers its
// background work on the GUI thread and re-emits its notifications as signals. The main
// window creates one; every panel observes it (SetSession) and reads the dataset, the
// current pair and its key from session().
#pragma once

#include <QObject>
#include <QString>

#include <memory>

#include "core/session/session.h"

namespace animerun::widgets {

class SessionModel : public QObject {
  Q_OBJECT

 public:
  explicit SessionModel(QObject* parent = nullptr);
  ~SessionModel() override;

  session::Session& session() { return *session_; }
  const session::Session& session() const { return *session_; }
  bool Busy() const { return session_->Busy(); }
  // Processes events until no open runs (or timeout); true when idle.
  bool WaitIdle(int timeout_ms);

 signals:
  void opening();                                   // an open started
  void datasetChanged();                            // a dataset was installed
  void sceneChanged();                              // the current scene changed
  void pairChanged();                               // the shown pair changed (or failed to load)
  void openFinished(bool ok, const QString& error);  // error is "" for a cancelled open
  void progress(double fraction, const QString& message);
  void logLine(const QString& level, const QString& message);

 private:
  std::unique_ptr<session::Session> session_;
};

}  // namespace animerun::widgets
