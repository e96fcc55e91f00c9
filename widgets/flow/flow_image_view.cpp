#include "widgets/flow/flow_image_view.h"

#include <QPainter>
#include <QPaintEvent>

namespace animerun::widgets {

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

}  // namespace animerun::widgets
