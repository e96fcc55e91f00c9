#include "widgets/palette/palette_preview_box.h"

#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QResizeEvent>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>
#include <limits>

#include "widgets/common/qt_image.h"

namespace animerun::widgets {

PalettePreviewBox::PalettePreviewBox(palette::PaletteController* controller, QWidget* parent)
    : QWidget(parent), controller_(controller) {
  auto* rl = new QVBoxLayout(this);
  auto make_view = [](const QString& title) {
    auto* l = new QLabel(title);
    l->setAlignment(Qt::AlignCenter);
    l->setMinimumSize(192, 108);
    l->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    l->setStyleSheet(QStringLiteral("QLabel { background: #202020; color: #b0b0b0; }"));
    return l;
  };
  original_view_ = make_view(tr("Open a dataset to preview"));
  recoloured_view_ = make_view(QString());
  rl->addWidget(new QLabel(tr("Original")));
  rl->addWidget(original_view_, 1);
  rl->addWidget(new QLabel(tr("Recoloured")));
  rl->addWidget(recoloured_view_, 1);
  info_ = new QLabel;
  info_->setWordWrap(true);
  rl->addWidget(info_);
  // Two short rows each for the draw and for applying, so the panel fits a dock.
  auto* controls = new QGridLayout;
  seed_ = new QSpinBox;
  seed_->setRange(0, std::numeric_limits<int>::max());
  auto* reroll = new QPushButton(tr("Re-roll"));
  reroll->setToolTip(tr("Next seed: another draw of colours"));
  random_group_ = new QCheckBox(tr("Random group per cut"));
  pass_edit_ = new QLineEdit(QStringLiteral("color_2"));
  pass_edit_->setMinimumWidth(80);
  scope_ = new QComboBox;
  scope_->addItems({tr("Current cut"), tr("All cuts")});
  overwrite_ = new QCheckBox(tr("Overwrite"));
  apply_button_ = new QPushButton(tr("Apply"));
  cancel_button_ = new QPushButton(tr("Cancel"));
  controls->addWidget(new QLabel(tr("Seed")), 0, 0);
  controls->addWidget(seed_, 0, 1);
  controls->addWidget(reroll, 0, 2);
  controls->addWidget(random_group_, 1, 1, 1, 2);
  controls->addWidget(new QLabel(tr("Pass")), 2, 0);
  controls->addWidget(pass_edit_, 2, 1);
  controls->addWidget(scope_, 2, 2);
  controls->addWidget(overwrite_, 3, 1);
  auto* apply_buttons = new QHBoxLayout;
  apply_buttons->addWidget(apply_button_);
  apply_buttons->addWidget(cancel_button_);
  controls->addLayout(apply_buttons, 3, 2);
  controls->setColumnStretch(1, 1);
  rl->addLayout(controls);

  connect(seed_, qOverload<int>(&QSpinBox::valueChanged), this,
          [this](int v) { controller_->SetSeed(static_cast<uint64_t>(v)); });
  connect(reroll, &QPushButton::clicked, this, &PalettePreviewBox::Reroll);
  connect(random_group_, &QCheckBox::toggled, this, [this](bool on) { controller_->SetRandomGroup(on); });
  connect(apply_button_, &QPushButton::clicked, this, [this] { Apply(scope_->currentIndex() == 1); });
  connect(cancel_button_, &QPushButton::clicked, this, [this] { controller_->CancelJob(); });
  ShowJobState();
}

void PalettePreviewBox::SetSeed(uint64_t seed) {
  seed_->setValue(static_cast<int>(std::min<uint64_t>(seed, std::numeric_limits<int>::max())));
}

void PalettePreviewBox::Reroll() { seed_->setValue(seed_->value() == seed_->maximum() ? 0 : seed_->value() + 1); }
void PalettePreviewBox::SetPassName(const QString& pass) { pass_edit_->setText(pass); }
QString PalettePreviewBox::PassName() const { return pass_edit_->text().trimmed(); }
void PalettePreviewBox::SetOverwrite(bool on) { overwrite_->setChecked(on); }
void PalettePreviewBox::SetRandomGroup(bool on) { random_group_->setChecked(on); }

void PalettePreviewBox::Apply(bool whole_dataset) {
  controller_->Apply(whole_dataset, PassName().toStdString(), overwrite_->isChecked());
}

void PalettePreviewBox::ShowPreview() {
  original_ = ToQImage(controller_->PreviewOriginal());
  recoloured_ = ToQImage(controller_->PreviewRecoloured());
  info_->setText(QString::fromStdString(controller_->PreviewInfo()));
  if (original_.isNull()) {
    original_view_->setPixmap(QPixmap());
    original_view_->setText(QString::fromStdString(controller_->PreviewMessage()));
    recoloured_view_->clear();
  }
  UpdatePixmaps();
}

void PalettePreviewBox::ShowPassName() {
  const std::string name = controller_->SuggestedPassName();
  if (!name.empty()) pass_edit_->setText(QString::fromStdString(name));
}

void PalettePreviewBox::ShowJobState() {
  const bool busy = controller_->JobRunning();
  apply_button_->setEnabled(!busy && controller_->HasDataset());
  cancel_button_->setEnabled(busy);
}

void PalettePreviewBox::UpdatePixmaps() {
  auto show = [](QLabel* label, const QImage& img) {
    // Smooth when shrinking; nearest when enlarging keeps flat colours and lines crisp.
    const QSize target = img.size().scaled(label->size(), Qt::KeepAspectRatio);
    const auto mode = target.width() < img.width() ? Qt::SmoothTransformation : Qt::FastTransformation;
    label->setPixmap(QPixmap::fromImage(img.scaled(target, Qt::IgnoreAspectRatio, mode)));
  };
  if (original_.isNull()) return;
  show(original_view_, original_);
  if (recoloured_.isNull()) {
    recoloured_view_->setPixmap(QPixmap());
    recoloured_view_->setText(QString::fromStdString(controller_->PreviewMessage()));
  } else {
    show(recoloured_view_, recoloured_);
  }
}

void PalettePreviewBox::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  UpdatePixmaps();
}

}  // namespace animerun::widgets
