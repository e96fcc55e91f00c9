// The frame pair t | t+1 side by side with the overlays of core/view, synchronised zoom
// and pan, segment picking (click) and flow probing (hover). All the image logic is in
// core/view (ComposeFrameView, PickSegment, ProbeFlow); this widget only displays it. The
// main window shows the session's pair in it.
#pragma once

#include <QImage>
#include <QLabel>
#include <QWidget>

#include <array>
#include <memory>

#include "core/data/animerun_dataset.h"
#include "core/view/flow_probe.h"
#include "core/view/overlay.h"
#include "core/view/segment_view.h"
#include "widgets/common/image_pane.h"

namespace animerun::widgets {

class PairView : public QWidget {
  Q_OBJECT

 public:
  explicit PairView(QWidget* parent = nullptr);

  // Shows a loaded pair (shared with the session, never copied); titles name the frames.
  // Keeps the zoom when the size is unchanged, otherwise fits. Clears the selection and the
  // hover.
  void SetPair(std::shared_ptr<const data::PairData> pair, const QString& title_t, const QString& title_t1);
  void SetPair(data::PairData pair, const QString& title_t, const QString& title_t1);
  // Empties both panes and shows message in their titles.
  void ClearPair(const QString& message = QString());
  bool HasPair() const { return pair_ != nullptr; }
  const data::PairData& pair() const;

  void SetOverlays(const view::OverlayOptions& options);
  const view::OverlayOptions& overlays() const { return options_; }

  void ZoomIn();
  void ZoomOut();
  void FitToWindow();
  void SetZoom(double zoom);
  double Zoom() const { return panes_[0]->Zoom(); }
  bool FitMode() const { return fit_mode_; }

  // What a click / hover at pixel of frame (0 = t, 1 = t+1) does, callable directly.
  view::SegmentPick SelectAt(int frame, cv::Point pixel);
  void ClearSelection();
  const view::SegmentPick& selection() const { return selection_; }
  view::FlowProbe HoverAt(int frame, cv::Point pixel);
  void ClearHover();

  ImagePane* Pane(int frame) const { return panes_[frame]; }
  // The image each pane shows (overlays included), for tests and "save view".
  const QImage& RenderedImage(int frame) const { return rendered_[frame]; }
  // The colour-wheel legend is visible (flow colour on and a flow present).
  bool LegendVisible() const { return !legend_->isHidden(); }
  // The segment highlighted in frame: the selection there, or its match from the other frame.
  int HighlightFor(int frame) const;

 signals:
  void segmentPicked(const animerun::view::SegmentPick& pick);
  void hovered(const animerun::view::FlowProbe& probe);
  void hoverCleared();
  void zoomChanged(double zoom);
  // Rendering a frame failed (a map of the wrong size...): the message names the problem.
  void renderFailed(const QString& message);

 protected:
  void resizeEvent(QResizeEvent* event) override;
  void showEvent(QShowEvent* event) override;

 private:
  void Render();
  void UpdateLegend();
  void PlaceLegend();
  void SyncFrom(int frame);

  std::array<ImagePane*, 2> panes_{};
  std::array<QLabel*, 2> titles_{};
  std::array<QImage, 2> rendered_;
  QLabel* legend_ = nullptr;
  std::shared_ptr<const data::PairData> pair_;
  view::OverlayOptions options_;
  view::FlowColorCache flow_cache_;
  view::SegmentPick selection_;
  bool fit_mode_ = true;
  bool syncing_ = false;
};

}  // namespace animerun::widgets
