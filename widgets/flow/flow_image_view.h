// An image scaled to fit (aspect kept) under a one-line caption: the flow panel's ground
// truth, predictions, EPE heatmaps and blink views.
#pragma once

#include <QImage>
#include <QString>
#include <QWidget>

namespace animerun::widgets {

class FlowImageView : public QWidget {
 public:
  explicit FlowImageView(const QString& caption, QWidget* parent = nullptr);
  void SetImage(const QImage& image);
  void SetCaption(const QString& caption);
  // Without an image, a grey box of this size's aspect stands in (empty: the whole area).
  void SetPlaceholderSize(const QSize& size);
  QImage Image() const { return image_; }
  QString Caption() const { return caption_; }
  QSize sizeHint() const override { return {180, 120}; }
  QSize minimumSizeHint() const override { return {80, 60}; }

  static constexpr int kCaptionHeight = 16;

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QString caption_;
  QImage image_;
  QSize placeholder_;
};

}  // namespace animerun::widgets
