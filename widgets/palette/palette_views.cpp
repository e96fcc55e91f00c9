#include "widgets/palette/palette_views.h"

#include <QDragEnterEvent>
#include <QDropEvent>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMimeData>
#include <QPainter>
#include <QToolTip>
#include <QUrl>

#include <algorithm>
#include <cmath>

#include "core/palette/sampler.h"

namespace animerun::widgets {

std::vector<QRectF> SquarifiedLayout(const std::vector<double>& values, const QRectF& rect) {
  std::vector<QRectF> out(values.size());
  double total = 0.0;
  for (double v : values) total += std::max(0.0, v);
  if (total <= 0.0 || rect.width() <= 0 || rect.height() <= 0) return out;
  const double scale = rect.width() * rect.height() / total;
  std::vector<double> area(values.size());
  for (size_t i = 0; i < values.size(); ++i) area[i] = std::max(0.0, values[i]) * scale;

  // The worst aspect ratio of a row of areas laid along a side of length s.
  auto worst = [](double sum, double mn, double mx, double s) {
    return std::max(s * s * mx / (sum * sum), sum * sum / (s * s * mn));
  };
  QRectF r = rect;
  size_t i = 0;
  while (i < values.size() && area[i] <= 0) ++i;
  while (i < values.size()) {
    const double side = std::min(r.width(), r.height());
    double sum = area[i], mn = area[i], mx = area[i];
    size_t j = i + 1;
    for (; j < values.size() && area[j] > 0; ++j) {
      const double s2 = sum + area[j];
      if (worst(s2, std::min(mn, area[j]), std::max(mx, area[j]), side) > worst(sum, mn, mx, side)) break;
      sum = s2, mn = std::min(mn, area[j]), mx = std::max(mx, area[j]);
    }
    if (r.width() >= r.height()) {  // a column on the left
      const double w = sum / r.height();
      double y = r.top();
      for (size_t k = i; k < j; ++k) {
        const double h = area[k] / w;
        out[k] = QRectF(r.left(), y, w, h);
        y += h;
      }
      r.setLeft(r.left() + w);
    } else {  // a row on top
      const double h = sum / r.width();
      double x = r.left();
      for (size_t k = i; k < j; ++k) {
        const double w = area[k] / h;
        out[k] = QRectF(x, r.top(), w, h);
        x += w;
      }
      r.setTop(r.top() + h);
    }
    i = j;
    while (i < values.size() && area[i] <= 0) ++i;
  }
  return out;
}

PaletteSwatches::PaletteSwatches(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void PaletteSwatches::SetGroup(const palette::PaletteGroup& group) {
  group_ = group;
  has_group_ = true;
  update();
}

void PaletteSwatches::Clear() {
  has_group_ = false;
  group_ = {};
  update();
}

QRectF PaletteSwatches::Area() const { return QRectF(rect()).adjusted(2, 2, -2, -2); }

std::vector<QRectF> PaletteSwatches::SwatchRects() const {
  std::vector<double> v;
  for (const auto& c : group_.colors) v.push_back(static_cast<double>(c.count));
  return SquarifiedLayout(v, Area());
}

int PaletteSwatches::ColorAt(const QPointF& pos) const {
  const auto rects = SwatchRects();
  for (size_t i = 0; i < rects.size(); ++i)
    if (rects[i].contains(pos)) return static_cast<int>(i);
  return -1;
}

void PaletteSwatches::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().color(QPalette::Base));
  if (!has_group_ || group_.colors.empty()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap,
               !has_group_ ? tr("No group selected")
                           : (group_.frames.empty() ? tr("Add frames to this group, then Extract")
                                                    : tr("Not extracted yet: press Extract")));
    return;
  }
  const auto rects = SwatchRects();
  QFont small = font();
  small.setPointSizeF(std::max(6.0, small.pointSizeF() * 0.85));
  p.setFont(small);
  const QFontMetrics fm(small);
  for (size_t i = 0; i < rects.size(); ++i) {
    const auto& c = group_.colors[i];
    const QColor col(c.rgb[0], c.rgb[1], c.rgb[2]);
    p.fillRect(rects[i], col);
    if (c.count <= palette::kMinSampledCount) {  // never drawn: hatch it
      p.fillRect(rects[i], QBrush(QColor(128, 128, 128, 160), Qt::BDiagPattern));
    }
    p.setPen(QPen(palette().color(QPalette::Base), 1));
    p.drawRect(rects[i]);
    const double pct = 100.0 * c.count / std::max<int64_t>(1, group_.pixels);
    const QString label = QString::fromStdString(palette::RgbHex(c.rgb)) + QStringLiteral("\n%1%").arg(pct, 0, 'f', 1);
    const QRect text_rect = rects[i].toRect().adjusted(3, 2, -3, -2);
    if (text_rect.width() > fm.horizontalAdvance(QStringLiteral("#000000")) && text_rect.height() > 2 * fm.height()) {
      const int luma = (299 * c.rgb[0] + 587 * c.rgb[1] + 114 * c.rgb[2]) / 1000;
      p.setPen(luma > 140 ? Qt::black : Qt::white);
      p.drawText(text_rect, Qt::AlignLeft | Qt::AlignTop, label);
    }
  }
}

bool PaletteSwatches::event(QEvent* e) {
  if (e->type() == QEvent::ToolTip) {
    auto* he = static_cast<QHelpEvent*>(e);
    const int i = ColorAt(he->pos());
    if (i >= 0) {
      const auto& c = group_.colors[i];
      const double pct = 100.0 * c.count / std::max<int64_t>(1, group_.pixels);
      QString tip = QStringLiteral("%1  (%2, %3, %4)\nN = %5 (%6% of the group)\n")
                        .arg(QString::fromStdString(palette::RgbHex(c.rgb)))
                        .arg(c.rgb[0]).arg(c.rgb[1]).arg(c.rgb[2])
                        .arg(c.count)
                        .arg(pct, 0, 'f', 2);
      tip += c.count > palette::kMinSampledCount ? tr("weight ln(N/10) = %1").arg(palette::ColorWeight(c.count), 0, 'f', 3)
                                                 : tr("N <= 10: never drawn");
      QToolTip::showText(he->globalPos(), tip, this);
    } else {
      QToolTip::hideText();
    }
    return true;
  }
  return QWidget::event(e);
}

PaletteFrameList::PaletteFrameList(QWidget* parent) : QListWidget(parent) {
  setViewMode(QListView::IconMode);
  setIconSize(QSize(96, 64));
  setGridSize(QSize(112, 92));
  setResizeMode(QListView::Adjust);
  setMovement(QListView::Static);
  setSelectionMode(QAbstractItemView::ExtendedSelection);
  setAcceptDrops(true);
  viewport()->setAcceptDrops(true);  // drops land on the viewport, which forwards them here
  setDragDropMode(QAbstractItemView::DropOnly);
  setWordWrap(true);
  setTextElideMode(Qt::ElideMiddle);
}

QStringList PaletteFrameList::SelectedPaths() const {
  QStringList out;
  for (const QListWidgetItem* it : selectedItems()) out << it->data(Qt::UserRole).toString();
  return out;
}

QStringList PaletteFrameList::mimeTypes() const { return {QStringLiteral("text/uri-list")}; }

void PaletteFrameList::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void PaletteFrameList::dragMoveEvent(QDragMoveEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void PaletteFrameList::dropEvent(QDropEvent* event) {
  QStringList paths;
  for (const QUrl& u : event->mimeData()->urls())
    if (u.isLocalFile()) paths << u.toLocalFile();
  if (paths.isEmpty()) return;
  event->acceptProposedAction();
  emit filesDropped(paths);
}

void PaletteFrameList::keyPressEvent(QKeyEvent* event) {
  if ((event->key() == Qt::Key_Delete || event->key() == Qt::Key_Backspace) && !selectedItems().isEmpty()) {
    emit removeRequested(SelectedPaths());
    return;
  }
  QListWidget::keyPressEvent(event);
}

}  // namespace animerun::widgets
