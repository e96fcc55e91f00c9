#include "widgets/flow/epe_scale_bar.h"

#include <QPainter>
#include <QPaintEvent>

#include <cmath>

#include "widgets/common/qt_image.h"
#include "widgets/flow/flow_image_view.h"

namespace animerun::widgets {

namespace {

constexpr int kCaptionHeight = FlowImageView::kCaptionHeight;

QString TickText(double v) {
  return std::fabs(v - std::round(v)) < 1e-9 ? QString::number(static_cast<long long>(std::llround(v)))
                                              : QString::number(v, 'g', 3);
}

}  // namespace

EpeScaleBar::EpeScaleBar(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Expanding);
  setToolTip(tr("End-point error |prediction - ground truth| in pixels; the top colour includes larger errors"));
}

void EpeScaleBar::SetScale(const std::optional<flow::EpeScale>& scale) {
  scale_ = scale;
  update();
}

void EpeScaleBar::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setPen(palette().color(QPalette::WindowText));
  p.drawText(QRect(0, 0, width(), kCaptionHeight), Qt::AlignLeft | Qt::AlignVCenter, tr("EPE px"));
  if (!scale_) return;
  const int text_h = fontMetrics().height();
  const int top = kCaptionHeight + text_h / 2 + 2, bottom = height() - text_h / 2 - 2;
  const int len = bottom - top;
  if (len < 8) return;
  const int bar_w = 12;
  if (bar_.height() != len) bar_ = ToQImage(flow::EpeColorBar(len, bar_w, true));
  p.drawImage(QPoint(2, top), bar_);
  p.drawRect(QRect(2, top, bar_w - 1, len - 1).adjusted(0, 0, 0, 0));
  for (double t : scale_->ticks) {
    const int y = top + static_cast<int>(std::lround((1.0 - t / scale_->max) * (len - 1)));
    p.drawLine(2 + bar_w, y, 2 + bar_w + 3, y);
    const QString text = TickText(t) + (t >= scale_->max ? QStringLiteral("+") : QString());
    p.drawText(QRect(2 + bar_w + 5, y - text_h / 2, width() - bar_w - 7, text_h), Qt::AlignLeft | Qt::AlignVCenter,
               text);
  }
}

}  // namespace animerun::widgets
