#include "app/gui/panel_docks.h"

#include <QDockWidget>
#include <QMainWindow>
#include <QScrollArea>
#include <QTimer>

#include <algorithm>

namespace animerun::gui {

PanelDocks::PanelDocks(QMainWindow* window, QDockWidget* frames_dock, QWidget* frames)
    : QObject(window), window_(window), frames_dock_(frames_dock) {
  connect(frames_dock_, &QDockWidget::visibilityChanged, this, [this, frames](bool visible) {
    if (visible && !frames_dock_->isFloating())
      QTimer::singleShot(0, this, [this, frames] { FitBottomArea(frames_dock_, frames->sizeHint().height() + 30); });
  });
}

void PanelDocks::FitBottomArea(QDockWidget* dock, int preferred) const {
  const int height = std::clamp(preferred, 120, static_cast<int>(window_->height() * 0.55));
  window_->resizeDocks({dock}, {height}, Qt::Vertical);
}

QDockWidget* PanelDocks::Add(const QString& title, const QString& name, QWidget* content) {
  auto* scroll = new QScrollArea(window_);
  scroll->setWidget(content);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  auto* d = new QDockWidget(title, window_);
  d->setObjectName(name);  // saveState() needs names
  d->setWidget(scroll);
  window_->addDockWidget(Qt::BottomDockWidgetArea, d);
  window_->tabifyDockWidget(frames_dock_, d);
  connect(d, &QDockWidget::visibilityChanged, this, [this, d, content](bool visible) {
    if (visible && !d->isFloating())
      QTimer::singleShot(0, this, [this, d, content] { FitBottomArea(d, content->sizeHint().height() + 40); });
  });
  return d;
}

QStringList PanelDocks::Names() const {
  QStringList names;
  for (const QDockWidget* d : window_->findChildren<QDockWidget*>())
    if (d->objectName().startsWith("dock_")) names << d->objectName().mid(5);
  return names;
}

bool PanelDocks::Show(const QString& name) const {
  auto* d = window_->findChild<QDockWidget*>("dock_" + name);
  if (!d) return false;
  d->show();
  d->raise();
  return true;
}

}  // namespace animerun::gui
