// FlowPanel's small views: a captioned image scaled to fit and the EPE colour scale.
#include <QPainter>
#include <QPaintEvent>

#include <cmath>

#include "core/flow/flow_compare.h"
#include "widgets/flow_panel.h"
#include "widgets/qt_image.h"

namespace animerun::gui {

namespace {

constexpr int kCaptionHeight = 16;

QString TickText(double v) {
  return std::fabs(v - std::round(v)) < 1e-9 ? QString::number(static_cast<long long>(std::llround(v)))
                                              : QString::number(v, 'g', 3);
}

}  // namespace

FlowImageView::FlowImageView(const QString& caption, QWidget* parent) : QWidget(parent), caption_(caption) {
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void FlowImageView::SetImage(const QImage& image) {
  image_ = image;
  update();
}

void FlowImageView::SetCaption(const QString& caption) {
  caption_ = caption;
  setToolTip(caption);
  update();
}

void FlowImageView::SetPlaceholderSize(const QSize& size) {
  placeholder_ = size;
  update();
}

void FlowImageView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  const QRect caption_rect(0, 0, width(), kCaptionHeight);
  p.setPen(palette().color(QPalette::WindowText));
  p.drawText(caption_rect, Qt::AlignLeft | Qt::AlignVCenter,
             fontMetrics().elidedText(caption_, Qt::ElideRight, width()));
  const QRect area(0, kCaptionHeight, width(), std::max(0, height() - kCaptionHeight));
  if (area.isEmpty()) return;
  // Fit, aspect kept, centred horizontally and at the top (rows of views line up).
  const QSize want = image_.isNull() ? placeholder_ : image_.size();
  const QSize s = want.isEmpty() ? area.size() : want.scaled(area.size(), Qt::KeepAspectRatio);
  const QRect target(area.x() + (area.width() - s.width()) / 2, area.y(), s.width(), s.height());
  if (image_.isNull()) {
    p.fillRect(target, QColor(225, 225, 225));
    p.setPen(QColor(140, 140, 140));
    p.drawText(target, Qt::AlignCenter, QStringLiteral("—"));
    return;
  }
  p.setRenderHint(QPainter::SmoothPixmapTransform, true);
  p.drawImage(target, image_);
}

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

}  // namespace animerun::gui
