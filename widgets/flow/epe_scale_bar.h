// The EPE colour bar of the flow panel with its tick values (px), 0 at the bottom.
#pragma once

#include <QImage>
#include <QWidget>

#include <optional>

#include "core/flow/flow_compare.h"

namespace animerun::widgets {

class EpeScaleBar : public QWidget {
 public:
  explicit EpeScaleBar(QWidget* parent = nullptr);
  void SetScale(const std::optional<flow::EpeScale>& scale);
  QSize sizeHint() const override { return {64, 120}; }
  QSize minimumSizeHint() const override { return {56, 60}; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  std::optional<flow::EpeScale> scale_;
  QImage bar_;
};

}  // namespace animerun::widgets
