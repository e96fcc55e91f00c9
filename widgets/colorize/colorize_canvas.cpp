#include "widgets/colorize/colorize_canvas.h"

#include <QMouseEvent>
#include <QPainter>

#include <cmath>

namespace animerun::widgets {

ColorizeCanvas::ColorizeCanvas(QWidget* parent) : QWidget(parent) {
  setCursor(Qt::CrossCursor);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void ColorizeCanvas::SetImage(const QImage& image) {
  image_ = image;
  update();
}

QRectF ColorizeCanvas::Target() const {
  if (image_.isNull() || width() <= 0 || height() <= 0) return {};
  const double s = std::min(static_cast<double>(width()) / image_.width(), static_cast<double>(height()) / image_.height());
  const double w = image_.width() * s, h = image_.height() * s;
  return {(width() - w) / 2, (height() - h) / 2, w, h};
}

QPoint ColorizeCanvas::ImageToWidget(QPoint p) const {
  const QRectF t = Target();
  if (t.isEmpty()) return {-1, -1};
  const double s = t.width() / image_.width();
  return {static_cast<int>(std::lround(t.x() + (p.x() + 0.5) * s)), static_cast<int>(std::lround(t.y() + (p.y() + 0.5) * s))};
}

QPoint ColorizeCanvas::WidgetToImage(QPoint p) const {
  const QRectF t = Target();
  if (t.isEmpty() || !t.contains(p)) return {-1, -1};
  const double s = t.width() / image_.width();
  const int x = static_cast<int>(std::floor((p.x() - t.x()) / s)), y = static_cast<int>(std::floor((p.y() - t.y()) / s));
  if (x < 0 || y < 0 || x >= image_.width() || y >= image_.height()) return {-1, -1};
  return {x, y};
}

void ColorizeCanvas::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().window());
  if (image_.isNull()) {
    p.setPen(palette().color(QPalette::Disabled, QPalette::Text));
    p.drawText(rect(), Qt::AlignCenter, tr("nothing to show"));
    return;
  }
  // Nearest-neighbour when enlarging: the segments' edges stay crisp.
  p.setRenderHint(QPainter::SmoothPixmapTransform, Target().width() < image_.width());
  p.drawImage(Target(), image_);
}

void ColorizeCanvas::mousePressEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton || !on_click_) return;
  const QPoint p = WidgetToImage(event->position().toPoint());
  if (p.x() >= 0) on_click_(p);
}

}  // namespace animerun::widgets
