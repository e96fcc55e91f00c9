// The device picker of the Flow and Correspondences panels and the Train dialog: the CPU and
// each CUDA device (models::ListComputeDevices). A GPU that cannot be used is listed greyed
// out with the reason as its tooltip; when none can, the whole picker is greyed out on
// "CPU" and its tooltip says why.
#pragma once

#include <QComboBox>

#include <string>
#include <vector>

#include "models/common/runtime.h"

namespace animerun::widgets {

class DeviceCombo : public QComboBox {
  Q_OBJECT

 public:
  // The devices of this binary and machine.
  explicit DeviceCombo(QWidget* parent = nullptr);
  // A given list (tests).
  DeviceCombo(const std::vector<models::ComputeDevice>& devices, QWidget* parent = nullptr);

  // The selected device's id ("cpu", "cuda:0").
  std::string Device() const;
  // Selects a listed, usable device by id; anything else is added as it is (a setting read
  // from a file) so that the run's Check() names the problem. Returns whether it was listed.
  bool SetDevice(const std::string& id);
  bool AnyGpu() const { return any_gpu_; }
  // Follows the owner's busy state; stays greyed out for good without a usable GPU.
  void SetBusy(bool busy) { setEnabled(!busy && any_gpu_); }

 signals:
  void deviceChanged(const QString& id);

 private:
  void Fill(const std::vector<models::ComputeDevice>& devices);
  bool any_gpu_ = false;
};

}  // namespace animerun::widgets
