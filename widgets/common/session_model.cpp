#include "widgets/common/session_model.h"

#include "widgets/common/qt_jobs.h"

namespace animerun::widgets {

SessionModel::SessionModel(QObject* parent) : QObject(parent), session_(std::make_unique<session::Session>(QtPost())) {
  session_->Observe([this](session::Change change) {
    switch (change) {
      case session::Change::kOpening: emit opening(); break;
      case session::Change::kDataset: emit datasetChanged(); break;
      case session::Change::kScene: emit sceneChanged(); break;
      case session::Change::kPair: emit pairChanged(); break;
      case session::Change::kOpened:
        emit openFinished(session_->opened(), QString::fromStdString(session_->last_error()));
        break;
    }
  });
  session_->ObserveProgress(
      [this](double fraction, const std::string& message) { emit progress(fraction, QString::fromStdString(message)); });
  session_->ObserveLog([this](const std::string& level, const std::string& message) {
    emit logLine(QString::fromStdString(level), QString::fromStdString(message));
  });
}

SessionModel::~SessionModel() = default;

bool SessionModel::WaitIdle(int timeout_ms) {
  return ProcessEventsWhile([this] { return Busy(); }, timeout_ms);
}

}  // namespace animerun::widgets
