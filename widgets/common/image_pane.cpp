#include "widgets/common/image_pane.h"

#include <QGraphicsEllipseItem>
#include <QGraphicsLineItem>
#include <QGraphicsPixmapItem>
#include <QGraphicsScene>
#include <QMouseEvent>
#include <QPixmap>
#include <QScrollBar>
#include <QWheelEvent>

#include "core/view/flow_probe.h"

namespace animerun::widgets {

namespace {

constexpr int kClickSlop = 4;      // px of movement that still counts as a click, not a drag
constexpr int kWheelStep = 120;    // one notch of a mouse wheel (QWheelEvent's eighths of a degree)

}  // namespace

ImagePane::ImagePane(QWidget* parent) : QGraphicsView(parent), scene_(new QGraphicsScene(this)) {
  setScene(scene_);
  pixmap_ = scene_->addPixmap(QPixmap());
  pixmap_->setShapeMode(QGraphicsPixmapItem::BoundingRectShape);
  // The marker keeps its screen size at every zoom.
  const QPen pen(QColor(255, 40, 40), 2);
  marker_ = scene_->addEllipse(-7, -7, 14, 14, pen);
  marker_h_ = scene_->addLine(-13, 0, 13, 0, pen);
  marker_v_ = scene_->addLine(0, -13, 0, 13, pen);
  for (QGraphicsItem* item : {static_cast<QGraphicsItem*>(marker_), static_cast<QGraphicsItem*>(marker_h_),
                              static_cast<QGraphicsItem*>(marker_v_)}) {
    item->setFlag(QGraphicsItem::ItemIgnoresTransformations);
    item->setZValue(10);
    item->setVisible(false);
  }
  setDragMode(QGraphicsView::ScrollHandDrag);
  setTransformationAnchor(QGraphicsView::NoAnchor);
  setResizeAnchor(QGraphicsView::AnchorViewCenter);
  setViewportUpdateMode(QGraphicsView::SmartViewportUpdate);
  setBackgroundBrush(QColor(48, 48, 52));
  setFrameShape(QFrame::NoFrame);
  setAcceptDrops(false);  // folder drops go to the main window
  viewport()->setMouseTracking(true);
  viewport()->setCursor(Qt::CrossCursor);
  setMinimumSize(120, 80);
}

void ImagePane::SetImage(const QImage& image) {
  const QSize size = image.size();
  pixmap_->setPixmap(QPixmap::fromImage(image));
  if (size != image_size_) {
    image_size_ = size;
    scene_->setSceneRect(0, 0, size.width(), size.height());
  }
}

void ImagePane::ClearImage() {
  pixmap_->setPixmap(QPixmap());
  image_size_ = QSize();
  scene_->setSceneRect(0, 0, 1, 1);
  HideMarker();
}

double ImagePane::Zoom() const { return transform().m11(); }

void ImagePane::SetZoom(double zoom, const QPoint* anchor) {
  zoom = view::ClampZoom(zoom);
  const QPoint a = anchor ? *anchor : viewport()->rect().center();
  const QPointF scene_at_anchor = mapToScene(a);
  setTransform(QTransform::fromScale(zoom, zoom));
  // Scroll so that the anchored scene point is under the anchor again.
  const QPoint moved = mapFromScene(scene_at_anchor) - a;
  horizontalScrollBar()->setValue(horizontalScrollBar()->value() + moved.x());
  verticalScrollBar()->setValue(verticalScrollBar()->value() + moved.y());
  // Smooth filtering when shrinking; sharp pixels when inspecting close up.
  pixmap_->setTransformationMode(zoom < 1.0 ? Qt::SmoothTransformation : Qt::FastTransformation);
}

void ImagePane::ZoomSteps(int steps, const QPoint* anchor) { SetZoom(view::ZoomStep(Zoom(), steps), anchor); }

double ImagePane::FitZoomValue() const {
  const QSize v = viewport()->size();
  // A couple of pixels of margin so that no scroll bar appears at the fitted zoom.
  return view::FitZoom(cv::Size(image_size_.width(), image_size_.height()),
                       cv::Size(std::max(1, v.width() - 2), std::max(1, v.height() - 2)));
}

void ImagePane::FitToView() {
  if (!HasImage()) return;
  SetZoom(FitZoomValue());
  centerOn(image_size_.width() / 2.0, image_size_.height() / 2.0);
}

// QGraphicsView maps integer points without the half-pixel offset and rounds the other
// way, so the mapping goes through core/view with the scene point at viewport (0, 0).
cv::Point ImagePane::PixelAtViewport(const QPoint& viewport_pos) const {
  const QPointF o = mapToScene(QPoint(0, 0));
  return view::ViewportToPixel(cv::Point2d(o.x(), o.y()), Zoom(), cv::Point(viewport_pos.x(), viewport_pos.y()));
}

QPoint ImagePane::ViewportPosOf(const QPointF& scene_point) const {
  const QPointF o = mapToScene(QPoint(0, 0));
  const cv::Point v = view::SceneToViewport(cv::Point2d(o.x(), o.y()), Zoom(), cv::Point2d(scene_point.x(), scene_point.y()));
  return QPoint(v.x, v.y);
}

void ImagePane::ShowMarker(const QPointF& scene_point, bool primary) {
  const QPen pen(primary ? QColor(255, 40, 40) : QColor(0, 200, 255), 2);
  marker_->setPen(pen);
  marker_h_->setPen(pen);
  marker_v_->setPen(pen);
  for (QGraphicsItem* item : {static_cast<QGraphicsItem*>(marker_), static_cast<QGraphicsItem*>(marker_h_),
                              static_cast<QGraphicsItem*>(marker_v_)}) {
    item->setPos(scene_point);
    item->setVisible(true);
  }
}

void ImagePane::HideMarker() {
  marker_->setVisible(false);
  marker_h_->setVisible(false);
  marker_v_->setVisible(false);
}

bool ImagePane::MarkerVisible() const { return marker_->isVisible(); }

QPointF ImagePane::MarkerPos() const { return marker_->pos(); }

void ImagePane::wheelEvent(QWheelEvent* event) {
  wheel_accum_ += event->angleDelta().y();
  const int steps = wheel_accum_ / kWheelStep;
  wheel_accum_ -= steps * kWheelStep;
  if (steps != 0 && HasImage()) {
    const QPoint pos = event->position().toPoint();
    ZoomSteps(steps, &pos);
    emit zoomedByUser();
  }
  event->accept();
}

void ImagePane::mousePressEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton) {
    press_pos_ = event->position().toPoint();
    pressed_ = true;
  }
  QGraphicsView::mousePressEvent(event);
}

void ImagePane::mouseMoveEvent(QMouseEvent* event) {
  if (HasImage()) emit pixelHovered(PixelAtViewport(event->position().toPoint()));
  QGraphicsView::mouseMoveEvent(event);
}

void ImagePane::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton && pressed_) {
    pressed_ = false;
    const QPoint pos = event->position().toPoint();
    if ((pos - press_pos_).manhattanLength() <= kClickSlop && HasImage()) emit pixelClicked(PixelAtViewport(pos));
  }
  QGraphicsView::mouseReleaseEvent(event);
}

void ImagePane::leaveEvent(QEvent* event) {
  emit leftView();
  QGraphicsView::leaveEvent(event);
}

}  // namespace animerun::widgets
