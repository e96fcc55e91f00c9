#include "widgets/train/train_options_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QLineEdit>
#include <QSpinBox>

#include <climits>

#include "core/util/error.h"
#include "widgets/common/device_combo.h"

namespace animerun::widgets {

using Kind = train::TrainOptionField::Kind;

TrainOptionsForm::TrainOptionsForm(QWidget* parent) : QWidget(parent) {
  layout_ = new QFormLayout(this);
  layout_->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  for (const auto& f : train::TrainOptionFields()) {
    QWidget* w = nullptr;
    const QString key = QString::fromStdString(f.key);
    switch (f.kind) {
      case Kind::kBool: {
        auto* c = new QCheckBox(this);
        connect(c, &QCheckBox::toggled, this, [this, key] { emit valueChanged(key); });
        w = c;
        break;
      }
      case Kind::kInt: {
        auto* s = new QSpinBox(this);
        s->setRange(f.key == "seed" ? 0 : -1, INT_MAX);
        connect(s, &QSpinBox::valueChanged, this, [this, key] { emit valueChanged(key); });
        w = s;
        break;
      }
      case Kind::kDouble:  // a line edit: lr = 1e-4 needs scientific notation
      case Kind::kString: {
        if (f.key == "device") {  // the machine's devices, a GPU greyed out with the reason when none
          auto* d = new DeviceCombo(this);
          connect(d, &DeviceCombo::deviceChanged, this, [this, key] { emit valueChanged(key); });
          w = d;
        } else if (f.kind == Kind::kString && !f.choices.empty()) {
          auto* c = new QComboBox(this);
          for (const auto& choice : f.choices) c->addItem(QString::fromStdString(choice));
          connect(c, &QComboBox::currentTextChanged, this, [this, key] { emit valueChanged(key); });
          w = c;
        } else {
          auto* e = new QLineEdit(this);
          connect(e, &QLineEdit::textChanged, this, [this, key] { emit valueChanged(key); });
          w = e;
        }
        break;
      }
    }
    w->setObjectName(QString::fromStdString("option_" + f.key));
    // The device picker's tooltip says why no GPU can be used; keep it.
    if (!qobject_cast<DeviceCombo*>(w) || static_cast<DeviceCombo*>(w)->AnyGpu())
      w->setToolTip(QString::fromStdString(f.help));
    layout_->addRow(key, w);
    editors_[f.key] = w;
  }
  setOptions(train::TrainOptions{});
}

QString TrainOptionsForm::value(const std::string& key) const {
  QWidget* w = editor(key);
  if (auto* d = qobject_cast<DeviceCombo*>(w)) return QString::fromStdString(d->Device());
  if (auto* c = qobject_cast<QComboBox*>(w)) return c->currentText();
  if (auto* e = qobject_cast<QLineEdit*>(w)) return e->text();
  if (auto* s = qobject_cast<QSpinBox*>(w)) return QString::number(s->value());
  if (auto* b = qobject_cast<QCheckBox*>(w)) return b->isChecked() ? QStringLiteral("true") : QStringLiteral("false");
  return QString();
}

void TrainOptionsForm::setValue(const std::string& key, const QString& value) {
  QWidget* w = editor(key);
  if (auto* d = qobject_cast<DeviceCombo*>(w)) {
    d->SetDevice(value.toStdString());
  } else if (auto* c = qobject_cast<QComboBox*>(w)) {
    if (c->findText(value) < 0) c->addItem(value);  // shown as it is; Check() names the problem
    c->setCurrentText(value);
  } else if (auto* e = qobject_cast<QLineEdit*>(w)) {
    if (e->text() != value) e->setText(value);
  } else if (auto* s = qobject_cast<QSpinBox*>(w)) {
    s->setValue(value.toInt());
  } else if (auto* b = qobject_cast<QCheckBox*>(w)) {
    b->setChecked(value == QStringLiteral("true"));
  }
}

void TrainOptionsForm::showTask(const std::string& task) {
  for (const auto& f : train::TrainOptionFields())
    layout_->setRowVisible(editors_.at(f.key), f.task.empty() || f.task == task);
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
      case Kind::kString: setValue(f.key, QString::fromStdString(v.get<std::string>())); break;
    }
  }
  showTask(options.task);
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
      case Kind::kString: j[f.key] = value(f.key).toStdString(); break;
    }
  }
  train::TrainOptions o;
  o.MergeJson(j, "form");
  return o;
}

}  // namespace animerun::widgets
