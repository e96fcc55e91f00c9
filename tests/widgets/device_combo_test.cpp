// The device picker of the Flow and Correspondences panels and the Train dialog.
#include <gtest/gtest.h>

#include <QSignalSpy>
#include <QStandardItemModel>

#include "models/common/runtime.h"
#include "widgets/common/device_combo.h"
#include "test_paths.h"
#include "qstring_path.h"
#include "widgets/correspondence/correspondence_panel.h"
#include "widgets/train/train_options_form.h"

namespace animerun::widgets {
namespace {

bool ItemEnabled(const QComboBox& c, int i) {
  return qobject_cast<QStandardItemModel*>(c.model())->item(i)->isEnabled();
}

TEST(DeviceCombo, WithoutAGpuItIsGreyedOutOnTheCpuWithTheReason) {
  DeviceCombo c(models::ComputeDevicesFrom(nullptr, 2));
  ASSERT_EQ(c.count(), 2);
  EXPECT_EQ(c.Device(), "cpu");
  EXPECT_EQ(c.currentText(), "CPU (2 threads)");
  EXPECT_FALSE(c.isEnabled());
  EXPECT_FALSE(c.AnyGpu());
  EXPECT_FALSE(ItemEnabled(c, 1));
  EXPECT_TRUE(c.toolTip().contains("no CUDA")) << c.toolTip().toStdString();
  EXPECT_TRUE(c.itemData(1, Qt::ToolTipRole).toString().contains("no CUDA"));
}

TEST(DeviceCombo, ListsUsableGpusAndReportsTheChoice) {
  models::CudaReport r;
  r.devices.resize(2);
  r.devices[0] = {0, "GPU Zero", 9, 0, size_t{80} << 30, 900, ""};
  r.devices[1] = {1, "GPU One", 5, 0, size_t{8} << 30, 0, "no kernel image is available"};
  DeviceCombo c(models::ComputeDevicesFrom(&r, 2));
  ASSERT_EQ(c.count(), 3);
  EXPECT_TRUE(c.isEnabled());
  EXPECT_TRUE(c.AnyGpu());
  EXPECT_TRUE(ItemEnabled(c, 1));
  EXPECT_FALSE(ItemEnabled(c, 2));  // listed, greyed out, its reason as tooltip
  EXPECT_TRUE(c.itemData(2, Qt::ToolTipRole).toString().contains("no kernel image"));
  QSignalSpy spy(&c, &DeviceCombo::deviceChanged);
  EXPECT_TRUE(c.SetDevice("cuda:0"));
  EXPECT_EQ(c.Device(), "cuda:0");
  ASSERT_EQ(spy.count(), 1);
  EXPECT_EQ(spy.at(0).at(0).toString(), "cuda:0");
  // A device that cannot be used, or one from a settings file that this machine lacks, is
  // shown as it is; the run's check then names the problem.
  EXPECT_FALSE(c.SetDevice("cuda:1"));
  EXPECT_FALSE(c.SetDevice("cuda:7"));
  EXPECT_EQ(c.Device(), "cuda:7");
}

TEST(DeviceCombo, TrainFormEditsTheDeviceOption) {
  TrainOptionsForm form;
  auto* d = qobject_cast<DeviceCombo*>(form.editor("device"));
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(form.value("device"), "cpu");
  EXPECT_EQ(form.options().device, "cpu");
  EXPECT_EQ(d->AnyGpu(), models::CudaAvailable());
  if (!d->AnyGpu()) EXPECT_FALSE(d->isEnabled());
  form.resize(520, form.sizeHint().height());
  EXPECT_TRUE(form.grab().save(Q(test::ScratchDir("shots") / "train_form_device.png")));
  // A configuration that asks for a GPU keeps asking for it (the run reports a missing one).
  form.setValue("device", "cuda:0");
  EXPECT_EQ(form.options().device, "cuda:0");
}

TEST(DeviceCombo, CorrespondencePanelShowsItForAnt) {
  CorrespondencePanelOptions o;
  o.modal_errors = false;
  o.fallback_dir = Q(test::ScratchDir("user_data"));
  CorrespondencePanel panel(nullptr, o);
  panel.resize(520, 600);
  auto* device = panel.findChild<DeviceCombo*>();
  ASSERT_NE(device, nullptr);
  QComboBox* source = nullptr;
  for (auto* c : panel.findChildren<QComboBox*>())
    if (c != device && c->findData(QStringLiteral("ant")) >= 0) source = c;
  ASSERT_NE(source, nullptr);
  EXPECT_FALSE(device->isVisibleTo(&panel));  // the ground truth and the geometric matcher run on the CPU
  source->setCurrentIndex(source->findData(QStringLiteral("ant")));
  EXPECT_TRUE(device->isVisibleTo(&panel));
  EXPECT_EQ(device->isEnabled(), models::CudaAvailable());
  EXPECT_TRUE(panel.grab().save(Q(test::ScratchDir("shots") / "correspondence_device.png")));
}

}  // namespace
}  // namespace animerun::widgets
