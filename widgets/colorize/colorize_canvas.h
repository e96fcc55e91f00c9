// An image shown scaled to fit (aspect kept, centred) that reports clicks in image
// coordinates: the key and frame panes of the colorization view.
#pragma once

#include <QImage>
#include <QWidget>

#include <functional>

namespace animerun::widgets {

class ColorizeCanvas : public QWidget {
 public:
  explicit ColorizeCanvas(QWidget* parent = nullptr);

  void SetImage(const QImage& image);
  const QImage& Image() const { return image_; }
  // Called with the image pixel under a left click (only clicks inside the image).
  void SetClickHandler(std::function<void(QPoint)> fn) { on_click_ = std::move(fn); }
  // Where an image pixel's centre is drawn, and back (-1, -1 outside the image).
  QPoint ImageToWidget(QPoint p) const;
  QPoint WidgetToImage(QPoint p) const;
  QSize sizeHint() const override { return {320, 180}; }
  QSize minimumSizeHint() const override { return {160, 90}; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;

 private:
  QRectF Target() const;  // the image's rectangle in the widget
  QImage image_;
  std::function<void(QPoint)> on_click_;
};

}  // namespace animerun::widgets
