// The training dialog's curves (QCustomPlot), drawn from a train::TrainCurves: every loss
// field of the step events on the first plot, and on the second any other field chosen in
// a menu, the training values (step events) beside the validation values (eval events) of
// the same name ("acc", else "epe", by default). A field a task adds appears in the menu by
// itself. A run whose learning rate follows a schedule (the flow recipes' OneCycle) also
// gets a third, small plot of "lr".
#pragma once

#include <QString>
#include <QWidget>

#include "core/train/train_curves.h"

class QComboBox;
class QCPGraph;
class QCustomPlot;

namespace animerun::widgets {

class TrainCurvesView : public QWidget {
  Q_OBJECT

 public:
  explicit TrainCurvesView(QWidget* parent = nullptr);

  // Redraws from curves (cheap enough per event: a run has thousands of points at most).
  void Show(const train::TrainCurves& curves);
  void SetMetric(const QString& field);  // the second plot's field
  QString Metric() const;

  QCustomPlot* lossPlot() const { return loss_plot_; }
  QCustomPlot* metricPlot() const { return metric_plot_; }
  QCustomPlot* lrPlot() const { return lr_plot_; }
  int LossPoints() const;              // points of the "loss" curve
  int MetricPoints(bool validation) const;  // points of the metric's training / validation curve

 private:
  void Draw();

  const train::TrainCurves* curves_ = nullptr;
  QCustomPlot* loss_plot_ = nullptr;
  QCustomPlot* metric_plot_ = nullptr;
  QCustomPlot* lr_plot_ = nullptr;
  QComboBox* metric_ = nullptr;
};

}  // namespace animerun::widgets
