// The pair view on a small in-memory pair: coordinate mapping, synchronised zoom and pan,
// segment picking by click, flow probing by hover, and overlay toggles.
#include <gtest/gtest.h>

#include <QApplication>
#include <QMouseEvent>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTest>
#include <QWheelEvent>

#include <cmath>

#include "widgets/pair/info_panel.h"
#include "widgets/pair/pair_view.h"

namespace animerun::widgets {
namespace {

// 64x48: segment 0 left half, 1 right half, 2 a block at (10..19, 10..19) (unmatched);
// forward flow (5, -2) everywhere, backward (-5, 2).
data::PairData Pair() {
  data::PairData p;
  p.image1 = cv::Mat(48, 64, CV_8UC3);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x) p.image1.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 3, y * 4, 120);
  p.image2 = p.image1.clone();
  p.segment1 = cv::Mat(48, 64, CV_32SC1, cv::Scalar(0));
  p.segment1(cv::Rect(32, 0, 32, 48)).setTo(1);
  p.segment1(cv::Rect(10, 10, 10, 10)).setTo(2);
  p.segment2 = cv::Mat(48, 64, CV_32SC1, cv::Scalar(1));
  p.segment2(cv::Rect(0, 0, 30, 48)).setTo(0);
  p.match_forward = {0, 1, -1};
  p.match_backward = {0, 1};
  p.flow_forward = cv::Mat(48, 64, CV_32FC2, cv::Scalar(5, -2));
  p.flow_backward = cv::Mat(48, 64, CV_32FC2, cv::Scalar(-5, 2));
  p.unmatched_forward = cv::Mat(48, 64, CV_8UC1, cv::Scalar(1));
  p.unmatched_forward(cv::Rect(0, 0, 64, 8)).setTo(0);
  p.line_area = cv::Mat(48, 64, CV_8UC1, cv::Scalar(1));
  p.line_area.col(40).setTo(0);
  return p;
}

class PairViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    view_.resize(900, 400);
    view_.SetPair(Pair(), "t", "t+1");
    view_.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&view_));
    QApplication::processEvents();
  }
  // The viewport position of a pixel's centre in a pane.
  QPoint PosOf(int frame, int x, int y) { return view_.Pane(frame)->ViewportPosOf(QPointF(x + 0.5, y + 0.5)); }
  void SendMouse(QWidget* w, QEvent::Type type, QPoint pos, Qt::MouseButton button, Qt::MouseButtons buttons) {
    QMouseEvent e(type, QPointF(pos), QPointF(w->mapToGlobal(pos)), button, buttons, Qt::NoModifier);
    QApplication::sendEvent(w, &e);
  }
  void Click(int frame, QPoint pos) {
    QWidget* vp = view_.Pane(frame)->viewport();
    SendMouse(vp, QEvent::MouseButtonPress, pos, Qt::LeftButton, Qt::LeftButton);
    SendMouse(vp, QEvent::MouseButtonRelease, pos, Qt::LeftButton, Qt::NoButton);
  }

  PairView view_;
};

TEST_F(PairViewTest, MapsViewportPositionsToPixels) {
  for (double zoom : {0.5, 1.0, 3.0, 7.5}) {
    view_.SetZoom(zoom);
    QApplication::processEvents();
    ImagePane* pane = view_.Pane(0);
    pane->centerOn(20, 20);
    for (cv::Point p : {cv::Point(20, 20), cv::Point(21, 19), cv::Point(18, 22)}) {
      const QPoint pos = PosOf(0, p.x, p.y);
      ASSERT_TRUE(pane->viewport()->rect().contains(pos)) << zoom;
      const cv::Point back = pane->PixelAtViewport(pos);
      if (zoom >= 1.0) {
        EXPECT_EQ(back, p) << "zoom " << zoom;
      } else {  // a viewport pixel spans 1/zoom image pixels
        EXPECT_LE(std::abs(back.x - p.x), 1.0 / zoom) << "zoom " << zoom;
        EXPECT_LE(std::abs(back.y - p.y), 1.0 / zoom) << "zoom " << zoom;
      }
    }
    // Neighbouring pixel centres are zoom viewport pixels apart.
    EXPECT_NEAR(PosOf(0, 21, 20).x() - PosOf(0, 20, 20).x(), zoom, 1.0);
    EXPECT_DOUBLE_EQ(pane->Zoom(), zoom);
  }
}

TEST_F(PairViewTest, FitShowsTheWholeFrameInBothPanes) {
  view_.FitToWindow();
  EXPECT_TRUE(view_.FitMode());
  for (int i = 0; i < 2; ++i) {
    ImagePane* pane = view_.Pane(i);
    const QRect vp = pane->viewport()->rect();
    EXPECT_TRUE(vp.contains(pane->ViewportPosOf(QPointF(0.1, 0.1))));
    EXPECT_TRUE(vp.contains(pane->ViewportPosOf(QPointF(63.9, 47.9))));
    EXPECT_GT(pane->Zoom(), 1.0);  // a 64x48 frame is enlarged to fit
  }
  EXPECT_DOUBLE_EQ(view_.Pane(0)->Zoom(), view_.Pane(1)->Zoom());
}

TEST_F(PairViewTest, ZoomAndPanAreSynchronised) {
  view_.SetZoom(2.0);
  view_.ZoomIn();
  EXPECT_DOUBLE_EQ(view_.Pane(0)->Zoom(), 2.5);
  EXPECT_DOUBLE_EQ(view_.Pane(1)->Zoom(), 2.5);
  view_.ZoomOut();
  view_.ZoomOut();
  EXPECT_DOUBLE_EQ(view_.Pane(1)->Zoom(), 1.6);
  EXPECT_FALSE(view_.FitMode());

  // A wheel notch over frame t+1 zooms both panes.
  QWidget* vp = view_.Pane(1)->viewport();
  const QPoint pos = vp->rect().center();
  QWheelEvent wheel(QPointF(pos), QPointF(vp->mapToGlobal(pos)), QPoint(), QPoint(0, 120), Qt::NoButton,
                    Qt::NoModifier, Qt::NoScrollPhase, false);
  QApplication::sendEvent(vp, &wheel);
  EXPECT_DOUBLE_EQ(view_.Pane(1)->Zoom(), 2.0);
  EXPECT_DOUBLE_EQ(view_.Pane(0)->Zoom(), 2.0);

  // Pan: at a zoom where the frame overflows, moving one pane's scroll bars moves the other's.
  view_.SetZoom(20.0);
  QApplication::processEvents();
  QScrollBar* h0 = view_.Pane(0)->horizontalScrollBar();
  QScrollBar* v0 = view_.Pane(0)->verticalScrollBar();
  ASSERT_GT(h0->maximum(), 100);
  h0->setValue(h0->minimum() + 77);
  v0->setValue(v0->minimum() + 33);
  EXPECT_EQ(view_.Pane(1)->horizontalScrollBar()->value(), h0->value());
  EXPECT_EQ(view_.Pane(1)->verticalScrollBar()->value(), v0->value());
  // The same pixel is under the same viewport point in both panes.
  const QPoint probe(50, 40);
  EXPECT_EQ(view_.Pane(0)->PixelAtViewport(probe), view_.Pane(1)->PixelAtViewport(probe));
  view_.Pane(1)->horizontalScrollBar()->setValue(h0->minimum() + 10);
  EXPECT_EQ(h0->value(), h0->minimum() + 10);
}

TEST_F(PairViewTest, ClickSelectsTheSegmentAndItsMatch) {
  view_.SetZoom(4.0);
  view_.Pane(0)->centerOn(40, 24);
  QApplication::processEvents();
  QSignalSpy spy(&view_, &PairView::segmentPicked);
  const QImage before1 = view_.RenderedImage(1);
  Click(0, PosOf(0, 40, 24));
  ASSERT_EQ(spy.count(), 1);
  const view::SegmentPick& pick = view_.selection();
  EXPECT_EQ(pick.pixel, cv::Point(40, 24));
  EXPECT_EQ(pick.segment, 1);
  EXPECT_EQ(pick.match, 1);
  EXPECT_EQ(pick.match_area, 34 * 48);
  // The match is highlighted in t+1: its pixels change, segment 0's do not.
  const QImage after1 = view_.RenderedImage(1);
  EXPECT_NE(after1.pixel(50, 10), before1.pixel(50, 10));
  EXPECT_EQ(after1.pixel(5, 10), before1.pixel(5, 10));

  view_.Pane(0)->centerOn(15, 15);
  QApplication::processEvents();
  Click(0, PosOf(0, 15, 15));
  EXPECT_EQ(view_.selection().segment, 2);
  EXPECT_FALSE(view_.selection().matched());
  InfoPanel info;
  info.SetSelection(view_.selection());
  EXPECT_TRUE(info.SelectionText().contains("unmatched")) << info.SelectionText().toStdString();

  // A drag is a pan, not a click.
  QWidget* vp = view_.Pane(0)->viewport();
  const QPoint start = PosOf(0, 15, 15);
  SendMouse(vp, QEvent::MouseButtonPress, start, Qt::LeftButton, Qt::LeftButton);
  SendMouse(vp, QEvent::MouseMove, start + QPoint(30, 0), Qt::NoButton, Qt::LeftButton);
  SendMouse(vp, QEvent::MouseButtonRelease, start + QPoint(30, 0), Qt::LeftButton, Qt::NoButton);
  EXPECT_EQ(spy.count(), 2);
}

TEST_F(PairViewTest, ClickInSecondFrameUsesBackwardMatch) {
  view_.FitToWindow();
  QApplication::processEvents();
  Click(1, PosOf(1, 5, 5));
  EXPECT_EQ(view_.selection().frame, 1);
  EXPECT_EQ(view_.selection().segment, 0);
  EXPECT_EQ(view_.selection().match, 0);
  view_.ClearSelection();
  EXPECT_FALSE(view_.selection().valid());
}

TEST_F(PairViewTest, HoverReportsTheFlowAndMarksItsTarget) {
  view_.FitToWindow();
  QApplication::processEvents();
  QSignalSpy spy(&view_, &PairView::hovered);
  SendMouse(view_.Pane(0)->viewport(), QEvent::MouseMove, PosOf(0, 20, 30), Qt::NoButton, Qt::NoButton);
  ASSERT_GE(spy.count(), 1);
  const auto probe = spy.last().at(0).value<view::FlowProbe>();
  EXPECT_EQ(probe.pixel, cv::Point(20, 30));
  EXPECT_TRUE(probe.has_flow);
  EXPECT_FLOAT_EQ(probe.flow.x, 5.0f);
  EXPECT_FLOAT_EQ(probe.flow.y, -2.0f);
  ASSERT_TRUE(view_.Pane(1)->MarkerVisible());
  EXPECT_EQ(view_.Pane(1)->MarkerPos(), QPointF(25.5, 28.5));
  EXPECT_TRUE(view_.Pane(0)->MarkerVisible());
  // From frame t+1 the backward flow is used.
  const view::FlowProbe back = view_.HoverAt(1, {30, 10});
  EXPECT_FLOAT_EQ(back.flow.x, -5.0f);
  EXPECT_EQ(view_.Pane(0)->MarkerPos(), QPointF(25.5, 12.5));
  view_.ClearHover();
  EXPECT_FALSE(view_.Pane(0)->MarkerVisible());
  EXPECT_FALSE(view_.Pane(1)->MarkerVisible());
}

TEST_F(PairViewTest, TogglingOverlaysChangesTheRenderedImage) {
  view_.FitToWindow();
  QApplication::processEvents();
  const QImage plain = view_.Pane(0)->grab().toImage();
  const QImage plain_render = view_.RenderedImage(0);
  view::OverlayOptions o;
  for (int k = 0; k < 5; ++k) {
    o = view::OverlayOptions();
    (k == 0 ? o.flow_color : k == 1 ? o.flow_arrows : k == 2 ? o.boundaries : k == 3 ? o.occlusion : o.lines) = true;
    view_.SetOverlays(o);
    QApplication::processEvents();
    EXPECT_NE(view_.RenderedImage(0), plain_render) << "overlay " << k;
    EXPECT_NE(view_.Pane(0)->grab().toImage(), plain) << "overlay " << k;
    EXPECT_EQ(view_.LegendVisible(), k == 0);
  }
  view_.SetOverlays(view::OverlayOptions());
  QApplication::processEvents();
  EXPECT_EQ(view_.RenderedImage(0), plain_render);
  EXPECT_EQ(view_.Pane(0)->grab().toImage(), plain);
}

TEST(PairViewNoPair, EmptyViewIgnoresInput) {
  PairView view;
  EXPECT_FALSE(view.HasPair());
  EXPECT_FALSE(view.SelectAt(0, {1, 1}).valid());
  EXPECT_FALSE(view.HoverAt(0, {1, 1}).inside);
  view.ZoomIn();
  view.FitToWindow();
  // A frame of the wrong type cannot be drawn: that pane stays empty, the problem is
  // reported, the other frame still shows.
  data::PairData bad = Pair();
  bad.image1 = cv::Mat(48, 64, CV_8UC1, cv::Scalar(0));
  QSignalSpy failed(&view, &PairView::renderFailed);
  view.SetPair(bad, "t", "t+1");
  EXPECT_TRUE(view.HasPair());
  EXPECT_EQ(failed.count(), 1);
  EXPECT_TRUE(view.RenderedImage(0).isNull());
  EXPECT_FALSE(view.RenderedImage(1).isNull());
  EXPECT_FALSE(view.Pane(0)->HasImage());
}

}  // namespace
}  // namespace animerun::widgets
