#include "widgets/flow/flow_blink_view.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include "core/flow/flow_compare.h"
#include "widgets/common/qt_image.h"
#include "widgets/flow/flow_image_view.h"

namespace animerun::widgets {

namespace {

constexpr int kBlinkMs = 500;

}  // namespace

FlowBlinkView::FlowBlinkView(flow::FlowController* controller, QWidget* parent)
    : QWidget(parent), controller_(controller) {
  auto* root = new QVBoxLayout(this);
  root->setContentsMargins(0, 0, 0, 0);
  root->setSpacing(3);
  auto* row = new QHBoxLayout;
  source_box_ = new QComboBox;
  source_box_->addItems({tr("Ground truth"), tr("A"), tr("B")});
  source_box_->setToolTip(tr("The flow that warps frame t+1 back onto frame t"));
  row->addWidget(new QLabel(tr("Warp by")));
  row->addWidget(source_box_, 1);
  auto* group = new QButtonGroup(this);
  const QString texts[3] = {tr("t"), tr("t+1 warped"), tr("Error")};
  const QString tips[3] = {tr("Frame t"), tr("Frame t+1 warped back onto frame t by the flow"),
                           tr("Photometric error |frame t - warped frame t+1|, mean over RGB (0-255)")};
  for (int i = 0; i < 3; ++i) {
    buttons_[i] = new QToolButton;
    buttons_[i]->setText(texts[i]);
    buttons_[i]->setToolTip(tips[i]);
    buttons_[i]->setCheckable(true);
    group->addButton(buttons_[i], i);
    row->addWidget(buttons_[i]);
  }
  buttons_[0]->setChecked(true);
  blink_ = new QCheckBox(tr("Blink"));
  blink_->setToolTip(tr("Show frame t and the warped frame t+1 in turn: a right flow holds still"));
  row->addWidget(blink_);
  root->addLayout(row);
  image_ = new FlowImageView(QString());
  root->addWidget(image_, 1);
  info_ = new QLabel;
  info_->setWordWrap(true);
  info_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  root->addWidget(info_);

  timer_ = new QTimer(this);
  timer_->setInterval(kBlinkMs);
  connect(timer_, &QTimer::timeout, this,
          [this] { SetShow(show_ == Show::kFrameT ? Show::kWarped : Show::kFrameT); });
  connect(source_box_, &QComboBox::activated, this,
          [this](int i) { SetSource(static_cast<flow::WarpSource>(i)); });
  connect(group, &QButtonGroup::idClicked, this, [this](int id) {
    SetBlinking(false);
    SetShow(static_cast<Show>(id));
  });
  connect(blink_, &QCheckBox::toggled, this, [this](bool on) { SetBlinking(on); });
  Refresh();
}

void FlowBlinkView::SetSource(flow::WarpSource source) {
  source_ = source;
  if (source_box_->currentIndex() != static_cast<int>(source)) source_box_->setCurrentIndex(static_cast<int>(source));
  Draw();
}

void FlowBlinkView::SetShow(Show show) {
  show_ = show;
  buttons_[static_cast<int>(show)]->setChecked(true);
  Draw();
}

void FlowBlinkView::SetBlinking(bool on) {
  if (on)
    timer_->start();
  else
    timer_->stop();
  const QSignalBlocker block(blink_);
  blink_->setChecked(on);
}

bool FlowBlinkView::Blinking() const { return timer_->isActive(); }

void FlowBlinkView::Refresh() {
  for (int s = 0; s < flow::FlowController::kSlots; ++s) {
    const flow::FlowSlotResult& r = controller_->Result(s);
    const QString name = QString::fromStdString(r.Empty() ? controller_->Model(s) : r.model);
    source_box_->setItemText(1 + s, QStringLiteral("%1: %2").arg(s == 0 ? "A" : "B", name));
  }
  error_of_ = nullptr;
  Draw();
}

void FlowBlinkView::Draw() {
  const auto pair = controller_->pair();
  if (!pair) {
    image_->SetImage(QImage());
    image_->SetCaption(tr("No pair"));
    info_->clear();
    return;
  }
  image_->SetPlaceholderSize(QSize(pair->image1.cols, pair->image1.rows));
  const QString source = source_box_->currentText();
  const flow::WarpResult* warp = controller_->Warp(source_);
  if (show_ == Show::kFrameT) {
    image_->SetImage(ToQImage(pair->image1));
    image_->SetCaption(tr("Frame t"));
  } else if (!warp) {
    image_->SetImage(QImage());
    image_->SetCaption(source_ == flow::WarpSource::kGroundTruth ? tr("This pair has no ground-truth flow")
                                                                 : tr("%1 has no prediction yet: Run").arg(source));
  } else if (show_ == Show::kWarped) {
    image_->SetImage(ToQImage(warp->warped));
    image_->SetCaption(tr("Frame t+1 warped back by %1").arg(source));
  } else {
    if (error_of_ != warp) {  // drawn once per warp
      const flow::EpeScale scale = flow::ChooseEpeScale({warp->error});
      error_image_ = ToQImage(flow::EpeToColor(warp->error, scale));
      error_of_ = warp;
    }
    image_->SetImage(error_image_);
    image_->SetCaption(tr("Photometric error (%1)").arg(source));
  }
  if (!warp) {
    info_->setText(tr("Choose a flow that the pair has to warp frame t+1."));
    return;
  }
  QString text = tr("Photometric error by %1: mean %2 of 255").arg(source).arg(warp->mean_error, 0, 'f', 2);
  if (warp->has_visible) text += tr(", %1 where not occluded").arg(warp->mean_error_visible, 0, 'f', 2);
  text += tr("; %1% of pixels land inside frame t+1 (the others are black when warped, grey in the error)")
              .arg(100.0 * warp->valid_fraction, 0, 'f', 1);
  info_->setText(text);
}

QImage FlowBlinkView::Image() const { return image_->Image(); }
QString FlowBlinkView::Info() const { return info_->text(); }

}  // namespace animerun::widgets
