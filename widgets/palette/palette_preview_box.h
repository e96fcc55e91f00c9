// The palette panel's right column: the shown frame beside its recolouring from the chosen
// group (PaletteController's preview), the draw (seed, re-roll, a random group per cut)
// and applying it to the cut or the dataset.
#pragma once

#include <QImage>
#include <QString>
#include <QWidget>

#include <cstdint>

#include "core/palette/palette_controller.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace animerun::widgets {

class PalettePreviewBox : public QWidget {
  Q_OBJECT

 public:
  explicit PalettePreviewBox(palette::PaletteController* controller, QWidget* parent = nullptr);

  void SetSeed(uint64_t seed);
  void Reroll();  // seed + 1
  void SetPassName(const QString& pass);
  QString PassName() const;
  void SetOverwrite(bool on);
  void SetRandomGroup(bool on);
  void Apply(bool whole_dataset);
  QImage Original() const { return original_; }
  QImage Recoloured() const { return recoloured_; }

  // From the controller: the preview, the suggested pass name, the job state.
  void ShowPreview();
  void ShowPassName();
  void ShowJobState();

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  void UpdatePixmaps();  // scales the preview images to the labels

  palette::PaletteController* controller_;
  QImage original_, recoloured_;
  QLabel* original_view_ = nullptr;
  QLabel* recoloured_view_ = nullptr;
  QLabel* info_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QCheckBox* random_group_ = nullptr;
  QLineEdit* pass_edit_ = nullptr;
  QComboBox* scope_ = nullptr;
  QCheckBox* overwrite_ = nullptr;
  QPushButton* apply_button_ = nullptr;
  QPushButton* cancel_button_ = nullptr;
};

}  // namespace animerun::widgets
