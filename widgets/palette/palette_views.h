// Views used by the palette panel: the swatches of one group (a squarified treemap, each
// colour's area proportional to its count) and the frame list that accepts drops.
#pragma once

#include <QListWidget>
#include <QRectF>
#include <QStringList>
#include <QWidget>

#include <vector>

#include "core/palette/palette.h"

namespace animerun::widgets {

// Squarified treemap (Bruls, Huizing, van Wijk 2000): one rectangle per value inside rect,
// areas proportional to the values (given largest first), aspect ratios kept near 1.
// Zero or negative values get an empty rectangle.
std::vector<QRectF> SquarifiedLayout(const std::vector<double>& values, const QRectF& rect);

class PaletteSwatches : public QWidget {
  Q_OBJECT

 public:
  explicit PaletteSwatches(QWidget* parent = nullptr);

  void SetGroup(const palette::PaletteGroup& group);
  void Clear();
  // The swatch rectangles in widget coordinates (same order as the group's colours).
  std::vector<QRectF> SwatchRects() const;
  // Index of the colour under a point, -1 for none.
  int ColorAt(const QPointF& pos) const;
  QSize sizeHint() const override { return {360, 220}; }
  QSize minimumSizeHint() const override { return {120, 80}; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;  // tooltips

 private:
  QRectF Area() const;
  palette::PaletteGroup group_;
  bool has_group_ = false;
};

// Thumbnails of a group's frames. Dropping files or folders (file URLs) emits
// filesDropped with the paths; Delete emits removeRequested with the selected paths.
class PaletteFrameList : public QListWidget {
  Q_OBJECT

 public:
  explicit PaletteFrameList(QWidget* parent = nullptr);
  QStringList SelectedPaths() const;

 signals:
  void filesDropped(const QStringList& paths);
  void removeRequested(const QStringList& paths);

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dragMoveEvent(QDragMoveEvent* event) override;
  void dropEvent(QDropEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  QStringList mimeTypes() const override;
};

}  // namespace animerun::widgets
