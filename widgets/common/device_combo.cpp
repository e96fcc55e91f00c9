#include "widgets/common/device_combo.h"

#include <QStandardItemModel>

namespace animerun::widgets {

DeviceCombo::DeviceCombo(QWidget* parent) : DeviceCombo(models::ListComputeDevices(), parent) {}

DeviceCombo::DeviceCombo(const std::vector<models::ComputeDevice>& devices, QWidget* parent) : QComboBox(parent) {
  setObjectName(QStringLiteral("device"));
  Fill(devices);
  connect(this, &QComboBox::currentIndexChanged, this, [this] { emit deviceChanged(QString::fromStdString(Device())); });
}

void DeviceCombo::Fill(const std::vector<models::ComputeDevice>& devices) {
  auto* items = qobject_cast<QStandardItemModel*>(model());
  QStringList why_not;
  for (const models::ComputeDevice& d : devices) {
    addItem(QString::fromStdString(d.label), QString::fromStdString(d.id));
    const int i = count() - 1;
    if (!d.usable) {
      // Listed so that people see a GPU would go here, but not selectable.
      if (items) items->item(i)->setEnabled(false);
      setItemData(i, QString::fromStdString(d.reason), Qt::ToolTipRole);
      why_not << QString::fromStdString(d.reason);
    } else if (d.id != "cpu") {
      any_gpu_ = true;
    }
  }
  setCurrentIndex(0);
  if (any_gpu_) {
    setToolTip(tr("Where the networks run: the CPU or a CUDA GPU"));
  } else {
    setEnabled(false);
    setToolTip(tr("Runs on the CPU: no GPU can be used (%1)").arg(why_not.join(QStringLiteral("; "))));
  }
}

std::string DeviceCombo::Device() const {
  const QVariant id = currentData();
  return id.isValid() ? id.toString().toStdString() : currentText().toStdString();
}

bool DeviceCombo::SetDevice(const std::string& id) {
  const int i = findData(QString::fromStdString(id));
  auto* items = qobject_cast<QStandardItemModel*>(model());
  if (i >= 0 && (!items || items->item(i)->isEnabled())) {
    setCurrentIndex(i);
    return true;
  }
  addItem(QString::fromStdString(id), QString::fromStdString(id));
  setCurrentIndex(count() - 1);
  return false;
}

}  // namespace animerun::widgets
