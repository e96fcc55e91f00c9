// The dataset mixture of a flow training run as a table (Tools > Train, task flow): one row
// per dataset with its kind (detected when a folder is added), folder, repetition factor,
// and what "Check" found there (pairs, resolution, or the problem that stops training). A
// thin view over train::MixtureController (core), which owns the rows and the scan.
#pragma once

#include <QWidget>

#include <memory>

#include "core/train/mixture_controller.h"

class QLabel;
class QPushButton;
class QTableWidget;

namespace animerun::widgets {

class MixtureTable : public QWidget {
  Q_OBJECT

 public:
  explicit MixtureTable(QWidget* parent = nullptr);
  ~MixtureTable() override;

  train::MixtureController& controller() { return *controller_; }
  QTableWidget* table() const { return table_; }
  QString scanStatus() const;

  // Adds a dataset folder or pairs list (its kind detected), as "Add..." does.
  void addPath(const QString& path);

 public slots:
  void check();  // scans every row in the background

 signals:
  // The rows changed: the spec to write into TrainOptions::datasets.
  void specChanged(const QString& spec);
  void scanFinished();

 private:
  void Rebuild();
  void OnEvent(train::MixtureController::Event e);

  std::unique_ptr<train::MixtureController> controller_;
  QTableWidget* table_ = nullptr;
  QLabel* status_ = nullptr;
  QPushButton* check_ = nullptr;
  bool rebuilding_ = false;
};

}  // namespace animerun::widgets
