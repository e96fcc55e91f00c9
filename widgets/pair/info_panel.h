// The info dock: facts about the current pair (core/view/pair_summary), the selected
// segment and its match, what is under the mouse, a predicted flow's score, and the key
// to the overlay colours.
#pragma once

#include <QLabel>
#include <QString>
#include <QWidget>

#include <string>
#include <vector>

#include "core/view/flow_probe.h"
#include "core/view/segment_view.h"

namespace animerun::widgets {

class InfoPanel : public QWidget {
  Q_OBJECT

 public:
  explicit InfoPanel(QWidget* parent = nullptr);

  void SetPair(const QString& heading, const std::vector<std::string>& lines);
  void ClearPair(const QString& message = QString());
  void SetSelection(const view::SegmentPick& pick);
  void ClearSelection();
  void SetHover(const view::FlowProbe& probe);
  void ClearHover();
  void SetPrediction(const QString& heading, const std::vector<std::string>& lines);
  void ClearPrediction();

  QString PairText() const { return pair_->text(); }
  QString SelectionText() const { return selection_->text(); }
  QString HoverText() const { return hover_->text(); }
  QString PredictionText() const { return prediction_->text(); }

 private:
  QLabel* AddSection(const QString& title);

  QLabel* pair_;
  QLabel* selection_;
  QLabel* hover_;
  QLabel* prediction_;
  QLabel* prediction_title_;
};

}  // namespace animerun::widgets
