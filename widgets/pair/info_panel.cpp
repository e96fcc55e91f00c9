#include "widgets/pair/info_panel.h"

#include <QVBoxLayout>

#include <cmath>

#include "core/view/overlay.h"

namespace animerun::widgets {

namespace {

QString Html(const std::string& s) { return QString::fromStdString(s).toHtmlEscaped(); }

QString Lines(const std::vector<std::string>& lines) {
  QStringList out;
  for (const std::string& l : lines) out << Html(l);
  return out.join("<br>");
}

QString Swatch(const cv::Vec3b& c, const QString& text) {
  return QString("<span style=\"background-color:rgb(%1,%2,%3)\">&nbsp;&nbsp;&nbsp;&nbsp;</span>&nbsp;%4")
      .arg(c[0]).arg(c[1]).arg(c[2]).arg(text);
}

}  // namespace

InfoPanel::InfoPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(8, 6, 8, 6);
  layout->setSpacing(2);
  pair_ = AddSection(tr("Pair"));
  selection_ = AddSection(tr("Selected segment"));
  hover_ = AddSection(tr("Under the mouse"));
  prediction_title_ = new QLabel("<b>" + tr("Predicted flow") + "</b>", this);
  layout->addWidget(prediction_title_);
  prediction_ = new QLabel(this);
  prediction_->setWordWrap(true);
  prediction_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(prediction_);
  QLabel* key = AddSection(tr("Overlay colours"));
  key->setText(Swatch(view::kOcclusionColor, tr("occluded (UnmatchedForward = 0)")) + "<br>" +
               Swatch(view::kLineColor, tr("line (LineArea = 0)")) + "<br>" +
               Swatch(view::kBoundaryColor, tr("segment boundary")) + "<br>" +
               Swatch(view::kHighlightColor, tr("selected segment / its match")) + "<br>" +
               tr("Frame t shows the forward flow, frame t+1 the backward flow."));
  layout->addStretch(1);
  ClearPair();
  ClearSelection();
  ClearHover();
  ClearPrediction();
}

QLabel* InfoPanel::AddSection(const QString& title) {
  auto* layout = static_cast<QVBoxLayout*>(this->layout());
  auto* heading = new QLabel("<b>" + title.toHtmlEscaped() + "</b>", this);
  if (layout->count() > 0) heading->setContentsMargins(0, 8, 0, 0);
  layout->addWidget(heading);
  auto* body = new QLabel(this);
  body->setWordWrap(true);
  body->setTextFormat(Qt::RichText);
  body->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(body);
  return body;
}

void InfoPanel::SetPair(const QString& heading, const std::vector<std::string>& lines) {
  pair_->setText(heading.toHtmlEscaped() + "<br>" + Lines(lines));
}

void InfoPanel::ClearPair(const QString& message) {
  pair_->setText(message.isEmpty() ? tr("No pair loaded.") : message.toHtmlEscaped());
}

void InfoPanel::SetSelection(const view::SegmentPick& pick) {
  QString text = Html(pick.Describe());
  if (pick.valid() && pick.has_matching && !pick.matched())
    text += "<br><span style=\"color:#d04040\"><b>" + tr("unmatched") + "</b></span>";
  selection_->setText(text);
}

void InfoPanel::ClearSelection() { selection_->setText(tr("Click a segment in either frame.")); }

void InfoPanel::SetHover(const view::FlowProbe& probe) {
  QStringList lines;
  const char* here = probe.frame == 0 ? "t" : "t+1";
  if (!probe.inside) {
    hover_->setText(tr("outside the frame"));
    return;
  }
  lines << QString("%1 pixel (%2, %3)").arg(here).arg(probe.pixel.x).arg(probe.pixel.y);
  if (probe.has_flow) {
    lines << QString("flow (%1, %2)  |%3| px")
                 .arg(probe.flow.x, 0, 'f', 2)
                 .arg(probe.flow.y, 0, 'f', 2)
                 .arg(std::hypot(probe.flow.x, probe.flow.y), 0, 'f', 2);
    lines << QString("lands at (%1, %2) in %3%4")
                 .arg(probe.target.x - 0.5, 0, 'f', 2)
                 .arg(probe.target.y - 0.5, 0, 'f', 2)
                 .arg(probe.frame == 0 ? "t+1" : "t")
                 .arg(probe.target_inside ? QString() : tr(" (outside)"));
  } else {
    lines << tr("no flow here");
  }
  if (probe.occluded >= 0) lines << (probe.occluded ? tr("occluded") : tr("visible in t+1"));
  if (probe.line >= 0) lines << (probe.line ? tr("line pixel") : tr("flat area"));
  if (probe.segment >= 0) lines << tr("segment %1").arg(probe.segment);
  hover_->setText(lines.join("<br>"));
}

void InfoPanel::ClearHover() { hover_->setText(tr("Move the mouse over a frame.")); }

void InfoPanel::SetPrediction(const QString& heading, const std::vector<std::string>& lines) {
  prediction_title_->show();
  prediction_->show();
  prediction_->setText(heading.toHtmlEscaped() + "<br>" + Lines(lines));
}

void InfoPanel::ClearPrediction() {
  prediction_->clear();
  prediction_->hide();
  prediction_title_->hide();
}

}  // namespace animerun::widgets
