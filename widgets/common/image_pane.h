// One frame of the pair view: a QGraphicsView showing an image at a zoom, with wheel zoom
// around the mouse, drag panning, a click/hover report in pixel coordinates and a marker
// (the hover target drawn from the other frame).
#pragma once

#include <QGraphicsView>
#include <QImage>
#include <QPoint>
#include <QPointF>

#include <opencv2/core.hpp>

class QGraphicsPixmapItem;
class QGraphicsEllipseItem;
class QGraphicsLineItem;

namespace animerun::widgets {

class ImagePane : public QGraphicsView {
  Q_OBJECT

 public:
  explicit ImagePane(QWidget* parent = nullptr);

  // Shows image; the view keeps its zoom and scroll position when the size is unchanged.
  void SetImage(const QImage& image);
  void ClearImage();
  QSize ImageSize() const { return image_size_; }
  bool HasImage() const { return !image_size_.isEmpty(); }

  double Zoom() const;
  // Sets the zoom (clamped by core/view), keeping the scene point under viewport point
  // anchor (the viewport centre when anchor is null) in place.
  void SetZoom(double zoom, const QPoint* anchor = nullptr);
  void ZoomSteps(int steps, const QPoint* anchor = nullptr);
  // Zoom that fits the whole image in the viewport.
  double FitZoomValue() const;
  void FitToView();

  // The image pixel under a viewport position (may lie outside the image).
  cv::Point PixelAtViewport(const QPoint& viewport_pos) const;
  // The viewport position of a scene point.
  QPoint ViewportPosOf(const QPointF& scene_point) const;

  // A marker at a scene point (pixel centre convention of core/view), or hidden.
  void ShowMarker(const QPointF& scene_point, bool primary);
  void HideMarker();
  bool MarkerVisible() const;
  QPointF MarkerPos() const;

 signals:
  void pixelHovered(const cv::Point& pixel);
  void pixelClicked(const cv::Point& pixel);
  void leftView();
  // The user zoomed (wheel); the pair view copies the transform to the other pane.
  void zoomedByUser();

 protected:
  void wheelEvent(QWheelEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent* event) override;

 private:
  QGraphicsScene* scene_;
  QGraphicsPixmapItem* pixmap_;
  QGraphicsEllipseItem* marker_;
  QGraphicsLineItem* marker_h_;
  QGraphicsLineItem* marker_v_;
  QSize image_size_;
  QPoint press_pos_;
  bool pressed_ = false;
  int wheel_accum_ = 0;
};

}  // namespace animerun::widgets
