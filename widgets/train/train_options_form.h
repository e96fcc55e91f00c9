// A form with one editor per field of train::TrainOptionFields() (line edit, spin box or
// check box): the struct the CLI reads, so that a new option shows up in the training
// dialog without touching this file.
#pragma once

#include <QWidget>

#include <map>
#include <string>

#include "core/train/train_options.h"

namespace animerun::widgets {

class TrainOptionsForm : public QWidget {
  Q_OBJECT

 public:
  explicit TrainOptionsForm(QWidget* parent = nullptr);
  void setOptions(const train::TrainOptions& options);
  // Throws Error naming the field when an editor holds an unparsable value.
  train::TrainOptions options() const;
  QWidget* editor(const std::string& key) const;  // for tests

 private:
  std::map<std::string, QWidget*> editors_;
};

}  // namespace animerun::widgets
