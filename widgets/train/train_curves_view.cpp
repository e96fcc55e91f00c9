#include "widgets/train/train_curves_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSplitter>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <algorithm>

namespace animerun::widgets {

namespace {

const QColor kColours[] = {QColor(40, 90, 200), QColor(210, 60, 40), QColor(40, 150, 80), QColor(150, 80, 180)};

bool IsLoss(const std::string& field) { return field.find("loss") != std::string::npos; }

QString Label(const std::string& field) {
  return field == "acc" ? QObject::tr("accuracy") : QString::fromStdString(field);
}

QCustomPlot* MakePlot(const QString& name, const QString& ylabel) {
  auto* plot = new QCustomPlot;
  plot->setObjectName(name);
  plot->setMinimumHeight(160);
  plot->xAxis->setLabel(QObject::tr("iteration"));
  plot->yAxis->setLabel(ylabel);
  return plot;
}

QCPGraph* AddCurve(QCustomPlot* plot, const std::vector<train::CurvePoint>& points, const QString& name, int colour,
                   bool dots) {
  QCPGraph* g = plot->addGraph();
  g->setName(name);
  g->setPen(QPen(kColours[colour % 4], 1.5));
  if (dots) g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 6));
  QVector<double> x, y;
  for (const auto& p : points) x << p.iter, y << p.value;
  g->setData(x, y, true);
  return g;
}

void Redraw(QCustomPlot* plot) {
  plot->rescaleAxes();
  plot->yAxis->scaleRange(1.1, plot->yAxis->range().center());
  plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace

TrainCurvesView::TrainCurvesView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* split = new QSplitter(Qt::Vertical);
  loss_plot_ = MakePlot("train_loss_plot", tr("loss"));
  metric_plot_ = MakePlot("train_acc_plot", tr("accuracy"));
  metric_plot_->legend->setVisible(true);
  metric_plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
  auto* metric_box = new QWidget;
  auto* ml = new QVBoxLayout(metric_box);
  ml->setContentsMargins(0, 0, 0, 0);
  ml->setSpacing(2);
  auto* row = new QHBoxLayout;
  metric_ = new QComboBox;
  metric_->setObjectName("train_metric");
  metric_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  metric_->setToolTip(tr("Any number the training reports: training values and, where it validates, validation values"));
  row->addWidget(new QLabel(tr("Plot")));
  row->addWidget(metric_);
  row->addStretch(1);
  ml->addLayout(row);
  ml->addWidget(metric_plot_, 1);
  // "lr": a low plot has no room for "learning rate" written vertically (it was clipped).
  lr_plot_ = MakePlot("train_lr_plot", tr("lr"));
  lr_plot_->setToolTip(tr("learning rate"));
  lr_plot_->setMinimumHeight(100);
  lr_plot_->yAxis->setNumberFormat("g");
  lr_plot_->yAxis->ticker()->setTickCount(3);
  lr_plot_->setVisible(false);
  split->addWidget(loss_plot_);
  split->addWidget(metric_box);
  split->addWidget(lr_plot_);
  split->setStretchFactor(0, 2);
  split->setStretchFactor(1, 2);
  split->setStretchFactor(2, 1);
  layout->addWidget(split);
  connect(metric_, &QComboBox::currentTextChanged, this, [this] { Draw(); });
  Draw();
}

void TrainCurvesView::Show(const train::TrainCurves& curves) {
  curves_ = &curves;
  // The menu: every field but the losses, the accuracy first as the dialog always showed.
  std::vector<std::string> fields;
  for (const std::string& f : curves.AllFields())
    if (!IsLoss(f)) fields.push_back(f);
  // The task's headline number first: AnT's accuracy, the flow networks' end-point error.
  const auto rank = [](const std::string& f) { return f == "acc" ? 0 : f == "epe" ? 1 : 2; };
  std::stable_sort(fields.begin(), fields.end(),
                   [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
  const QString keep = metric_->currentText();
  {
    const QSignalBlocker block(metric_);
    metric_->clear();
    for (const std::string& f : fields) metric_->addItem(QString::fromStdString(f));
    if (!keep.isEmpty() && metric_->findText(keep) >= 0) metric_->setCurrentText(keep);
  }
  metric_->setVisible(metric_->count() > 0);
  Draw();
}

void TrainCurvesView::SetMetric(const QString& field) { metric_->setCurrentText(field); }
QString TrainCurvesView::Metric() const { return metric_->currentText(); }

void TrainCurvesView::Draw() {
  loss_plot_->clearGraphs();
  metric_plot_->clearGraphs();
  lr_plot_->clearGraphs();
  if (curves_) {
    int colour = 0;
    for (const std::string& f : curves_->Fields(train::TrainCurves::kStep))
      if (IsLoss(f)) AddCurve(loss_plot_, curves_->Series(train::TrainCurves::kStep, f), tr("training %1").arg(Label(f)),
                              colour++, false);
    loss_plot_->legend->setVisible(loss_plot_->graphCount() > 1);
    const std::string m = metric_->currentText().toStdString();
    if (!m.empty()) {
      metric_plot_->yAxis->setLabel(Label(m));
      AddCurve(metric_plot_, curves_->Series(train::TrainCurves::kStep, m), tr("training %1").arg(Label(m)), 0, false);
      AddCurve(metric_plot_, curves_->Series(train::TrainCurves::kEval, m), tr("validation %1").arg(Label(m)), 1, true);
    }
  }
  // The schedule, when there is one (a constant rate needs no plot).
  bool schedule = false;
  if (curves_) {
    const auto& lr = curves_->Series(train::TrainCurves::kStep, "lr");
    for (const auto& p : lr) schedule = schedule || p.value != lr.front().value;
    if (schedule) AddCurve(lr_plot_, lr, tr("learning rate"), 2, false);
  }
  lr_plot_->setVisible(schedule);
  Redraw(loss_plot_);
  Redraw(metric_plot_);
  if (schedule) Redraw(lr_plot_);
}

int TrainCurvesView::LossPoints() const {
  return curves_ ? static_cast<int>(curves_->Series(train::TrainCurves::kStep, "loss").size()) : 0;
}

int TrainCurvesView::MetricPoints(bool validation) const {
  if (!curves_) return 0;
  const char* source = validation ? train::TrainCurves::kEval : train::TrainCurves::kStep;
  return static_cast<int>(curves_->Series(source, metric_->currentText().toStdString()).size());
}

}  // namespace animerun::widgets
