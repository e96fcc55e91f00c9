#include "widgets/train/train_options_form.h"

#include <QCheckBox>
#include <QFormLayout>
#include <QLineEdit>
#include <QSpinBox>

#include <climits>

#include "core/util/error.h"

namespace animerun::widgets {

using Kind = train::TrainOptionField::Kind;

TrainOptionsForm::TrainOptionsForm(QWidget* parent) : QWidget(parent) {
  auto* layout = new QFormLayout(this);
  layout->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  for (const auto& f : train::TrainOptionFields()) {
    QWidget* w = nullptr;
    switch (f.kind) {
      case Kind::kBool: w = new QCheckBox(this); break;
      case Kind::kInt: {
        auto* s = new QSpinBox(this);
        s->setRange(f.key == "seed" ? 0 : -1, INT_MAX);
        w = s;
        break;
      }
      case Kind::kDouble:  // a line edit: lr = 1e-4 needs scientific notation
      case Kind::kString: w = new QLineEdit(this); break;
    }
    w->setObjectName(QString::fromStdString("option_" + f.key));
    w->setToolTip(QString::fromStdString(f.help));
    layout->addRow(QString::fromStdString(f.key), w);
    editors_[f.key] = w;
  }
  setOptions(train::TrainOptions{});
}

QWidget* TrainOptionsForm::editor(const std::string& key) const {
  const auto it = editors_.find(key);
  return it == editors_.end() ? nullptr : it->second;
}

void TrainOptionsForm::setOptions(const train::TrainOptions& options) {
  const nlohmann::json j = options.ToJson();
  for (const auto& f : train::TrainOptionFields()) {
    QWidget* w = editors_.at(f.key);
    const nlohmann::json& v = j.at(f.key);
    switch (f.kind) {
      case Kind::kBool: static_cast<QCheckBox*>(w)->setChecked(v.get<bool>()); break;
      case Kind::kInt: static_cast<QSpinBox*>(w)->setValue(v.get<int>()); break;
      case Kind::kDouble: static_cast<QLineEdit*>(w)->setText(QString::number(v.get<double>(), 'g', 10)); break;
      case Kind::kString: static_cast<QLineEdit*>(w)->setText(QString::fromStdString(v.get<std::string>())); break;
    }
  }
}

train::TrainOptions TrainOptionsForm::options() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : train::TrainOptionFields()) {
    QWidget* w = editors_.at(f.key);
    switch (f.kind) {
      case Kind::kBool: j[f.key] = static_cast<QCheckBox*>(w)->isChecked(); break;
      case Kind::kInt: j[f.key] = static_cast<QSpinBox*>(w)->value(); break;
      case Kind::kDouble: {
        bool ok = false;
        const double d = static_cast<QLineEdit*>(w)->text().trimmed().toDouble(&ok);
        if (!ok) throw Error(f.key + ": not a number");
        j[f.key] = d;
        break;
      }
      case Kind::kString: j[f.key] = static_cast<QLineEdit*>(w)->text().toStdString(); break;
    }
  }
  train::TrainOptions o;
  o.MergeJson(j, "form");
  return o;
}

}  // namespace animerun::widgets
