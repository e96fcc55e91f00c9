#include "widgets/pair/pair_view.h"

#include <QGridLayout>
#include <QPainter>
#include <QScrollBar>

#include <exception>
#include <string>

#include <opencv2/core/utility.hpp>

#include "core/flow/flow_viz.h"
#include "widgets/common/qt_image.h"

namespace animerun::widgets {

namespace {

constexpr int kLegendWheel = 84;  // px, the colour wheel of the legend

}  // namespace

PairView::PairView(QWidget* parent) : QWidget(parent) {
  auto* grid = new QGridLayout(this);
  grid->setContentsMargins(0, 0, 0, 0);
  grid->setHorizontalSpacing(4);
  grid->setVerticalSpacing(2);
  for (int i = 0; i < 2; ++i) {
    titles_[i] = new QLabel(this);
    titles_[i]->setTextFormat(Qt::RichText);
    titles_[i]->setContentsMargins(6, 2, 6, 2);
    panes_[i] = new ImagePane(this);
    grid->addWidget(titles_[i], 0, i);
    grid->addWidget(panes_[i], 1, i);
    grid->setColumnStretch(i, 1);
    connect(panes_[i], &ImagePane::pixelHovered, this, [this, i](const cv::Point& p) { HoverAt(i, p); });
    connect(panes_[i], &ImagePane::pixelClicked, this, [this, i](const cv::Point& p) { SelectAt(i, p); });
    connect(panes_[i], &ImagePane::leftView, this, &PairView::ClearHover);
    connect(panes_[i], &ImagePane::zoomedByUser, this, [this, i] {
      fit_mode_ = false;
      SyncFrom(i);
      emit zoomChanged(Zoom());
    });
    // Pan: each scroll bar drives the same bar of the other pane.
    for (int vertical = 0; vertical < 2; ++vertical) {
      QScrollBar* bar = vertical ? panes_[i]->verticalScrollBar() : panes_[i]->horizontalScrollBar();
      connect(bar, &QScrollBar::valueChanged, this, [this, i, vertical](int value) {
        if (syncing_) return;
        syncing_ = true;
        ImagePane* other = panes_[1 - i];
        (vertical ? other->verticalScrollBar() : other->horizontalScrollBar())->setValue(value);
        syncing_ = false;
      });
    }
  }
  grid->setRowStretch(1, 1);
  legend_ = new QLabel(this);
  legend_->setAttribute(Qt::WA_TransparentForMouseEvents);
  legend_->hide();
  ClearPair(tr("No pair loaded"));
}

const data::PairData& PairView::pair() const {
  static const data::PairData kNone;
  return pair_ ? *pair_ : kNone;
}

void PairView::SetPair(data::PairData pair, const QString& title_t, const QString& title_t1) {
  SetPair(std::make_shared<const data::PairData>(std::move(pair)), title_t, title_t1);
}

void PairView::SetPair(std::shared_ptr<const data::PairData> pair, const QString& title_t, const QString& title_t1) {
  if (!pair) {
    ClearPair();
    return;
  }
  const QSize old_size = panes_[0]->ImageSize();
  pair_ = std::move(pair);
  flow_cache_.Clear();
  selection_ = view::SegmentPick();
  titles_[0]->setText(title_t);
  titles_[1]->setText(title_t1);
  ClearHover();
  Render();
  if (panes_[0]->ImageSize() != old_size || fit_mode_) FitToWindow();
}

void PairView::ClearPair(const QString& message) {
  pair_.reset();
  flow_cache_.Clear();
  selection_ = view::SegmentPick();
  for (int i = 0; i < 2; ++i) {
    panes_[i]->ClearImage();
    rendered_[i] = QImage();
    titles_[i]->setText(i == 0 ? message.toHtmlEscaped() : QString());
  }
  legend_->hide();
}

void PairView::SetOverlays(const view::OverlayOptions& options) {
  options.Check();
  options_ = options;
  Render();
}

int PairView::HighlightFor(int frame) const {
  if (!selection_.valid()) return -1;
  return selection_.frame == frame ? selection_.segment : selection_.match;
}

void PairView::Render() {
  if (!HasPair()) return;
  // The two frames are composed in parallel (each writes only its own cache entry).
  std::array<cv::Mat, 2> images;
  std::array<std::string, 2> errors;
  cv::parallel_for_(cv::Range(0, 2), [&](const cv::Range& r) {
    for (int i = r.start; i < r.end; ++i) {
      try {
        images[i] = view::ComposeFrameView(*pair_, i, options_, HighlightFor(i), &flow_cache_);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    }
  });
  for (int i = 0; i < 2; ++i) {
    rendered_[i] = ToQImage(images[i]);
    if (rendered_[i].isNull())
      panes_[i]->ClearImage();
    else
      panes_[i]->SetImage(rendered_[i]);
    if (!errors[i].empty()) emit renderFailed(QString::fromStdString(errors[i]));
  }
  UpdateLegend();
}

void PairView::UpdateLegend() {
  if (!HasPair() || !options_.flow_color || pair_->flow_forward.empty()) {
    legend_->hide();
    return;
  }
  const double max_flow = options_.max_flow > 0 ? options_.max_flow : view::MaxFlowMagnitude(pair_->flow_forward);
  const QImage wheel = ToQImage(flow::ColorWheelLegend(kLegendWheel));
  const QFontMetrics fm(font());
  const QString line1 = tr("flow colour");
  const QString line2 = tr("max %1 px").arg(max_flow, 0, 'f', 1);
  const int text_w = std::max(fm.horizontalAdvance(line1), fm.horizontalAdvance(line2));
  const int w = std::max(kLegendWheel, text_w) + 12;
  const int h = kLegendWheel + 2 * fm.height() + 14;
  QPixmap pm(w, h);
  pm.fill(QColor(20, 20, 24, 200));
  QPainter p(&pm);
  p.setRenderHint(QPainter::Antialiasing);
  p.drawImage((w - kLegendWheel) / 2, 6, wheel);
  p.setPen(Qt::white);
  p.drawText(QRect(0, kLegendWheel + 8, w, fm.height()), Qt::AlignHCenter, line1);
  p.drawText(QRect(0, kLegendWheel + 8 + fm.height(), w, fm.height()), Qt::AlignHCenter, line2);
  p.end();
  legend_->setPixmap(pm);
  legend_->resize(pm.size());
  PlaceLegend();
  legend_->show();
  legend_->raise();
}

void PairView::PlaceLegend() {
  // Top-right corner of the frame t pane, inside its viewport.
  const QRect r = panes_[0]->geometry();
  legend_->move(r.right() - legend_->width() - 8, r.top() + 8);
}

void PairView::ZoomIn() {
  panes_[0]->ZoomSteps(1);
  fit_mode_ = false;
  SyncFrom(0);
  emit zoomChanged(Zoom());
}

void PairView::ZoomOut() {
  panes_[0]->ZoomSteps(-1);
  fit_mode_ = false;
  SyncFrom(0);
  emit zoomChanged(Zoom());
}

void PairView::SetZoom(double zoom) {
  panes_[0]->SetZoom(zoom);
  fit_mode_ = false;
  SyncFrom(0);
  emit zoomChanged(Zoom());
}

void PairView::FitToWindow() {
  fit_mode_ = true;
  // Both panes get the smaller of their fit zooms, so that they stay in step.
  const double z = std::min(panes_[0]->FitZoomValue(), panes_[1]->FitZoomValue());
  for (ImagePane* pane : panes_) {
    pane->SetZoom(z);
    const QSize s = pane->ImageSize();
    pane->centerOn(s.width() / 2.0, s.height() / 2.0);
  }
  emit zoomChanged(Zoom());
}

void PairView::SyncFrom(int frame) {
  ImagePane* src = panes_[frame];
  ImagePane* dst = panes_[1 - frame];
  syncing_ = true;
  dst->setTransform(src->transform());
  dst->SetZoom(src->Zoom());  // also sets the pixmap filtering for the zoom
  dst->horizontalScrollBar()->setValue(src->horizontalScrollBar()->value());
  dst->verticalScrollBar()->setValue(src->verticalScrollBar()->value());
  syncing_ = false;
}

view::SegmentPick PairView::SelectAt(int frame, cv::Point pixel) {
  if (!HasPair()) return view::SegmentPick();
  selection_ = view::PickSegment(*pair_, frame, pixel);
  Render();
  emit segmentPicked(selection_);
  return selection_;
}

void PairView::ClearSelection() {
  if (!selection_.valid()) return;
  selection_ = view::SegmentPick();
  Render();
}

view::FlowProbe PairView::HoverAt(int frame, cv::Point pixel) {
  if (!HasPair()) return view::FlowProbe();
  const view::FlowProbe probe = view::ProbeFlow(*pair_, frame, pixel);
  if (!probe.inside) {
    ClearHover();
    return probe;
  }
  const cv::Point2d here = view::PixelCenter(cv::Point2d(pixel.x, pixel.y));
  panes_[frame]->ShowMarker(QPointF(here.x, here.y), false);
  if (probe.has_flow)
    panes_[1 - frame]->ShowMarker(QPointF(probe.target.x, probe.target.y), true);
  else
    panes_[1 - frame]->HideMarker();
  emit hovered(probe);
  return probe;
}

void PairView::ClearHover() {
  panes_[0]->HideMarker();
  panes_[1]->HideMarker();
  emit hoverCleared();
}

void PairView::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  if (fit_mode_ && HasPair()) FitToWindow();
  PlaceLegend();
}

void PairView::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (fit_mode_ && HasPair()) FitToWindow();
  PlaceLegend();
}

}  // namespace animerun::widgets
