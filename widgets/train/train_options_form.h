// A form with one editor per field of train::TrainOptionFields() (line edit, spin box,
// check box, or a drop-down for fields with a fixed set of values): the struct the CLI
// reads, so that a new option shows up in the training dialog without touching this file.
// Fields of the other task (an AnT field while a flow network is set up) are hidden.
#pragma once

#include <QWidget>

#include <map>
#include <string>

#include "core/train/train_options.h"

class QFormLayout;

namespace animerun::widgets {

class TrainOptionsForm : public QWidget {
  Q_OBJECT

 public:
  explicit TrainOptionsForm(QWidget* parent = nullptr);
  void setOptions(const train::TrainOptions& options);
  // Throws Error naming the field when an editor holds an unparsable value.
  train::TrainOptions options() const;
  QWidget* editor(const std::string& key) const;  // for tests
  // The value of one field's editor as text (what --set would take).
  QString value(const std::string& key) const;
  void setValue(const std::string& key, const QString& value);
  // Shows the fields of task ("ant" or "flow") and those of both.
  void showTask(const std::string& task);

 signals:
  void valueChanged(const QString& key);

 private:
  QFormLayout* layout_ = nullptr;
  std::map<std::string, QWidget*> editors_;
};

}  // namespace animerun::widgets
