#include "widgets/pair/scene_list.h"

#include <QApplication>
#include <QStyle>

namespace animerun::widgets {

SceneList::SceneList(QWidget* parent) : QListWidget(parent) {
  setSelectionMode(QAbstractItemView::SingleSelection);
  setUniformItemSizes(true);
  setFocusPolicy(Qt::NoFocus);  // arrow keys belong to the pair navigation
  connect(this, &QListWidget::currentRowChanged, this, [this](int row) {
    if (!updating_ && row >= 0) emit sceneActivated(row);
  });
}

void SceneList::SetScenes(const std::vector<data::Scene>& scenes) {
  updating_ = true;
  clear();
  with_problems_ = 0;
  const QIcon warning = style()->standardIcon(QStyle::SP_MessageBoxWarning);
  for (const data::Scene& s : scenes) {
    const int pairs = static_cast<int>(s.pairs.size());
    QString text = QString::fromStdString(s.name) + "  " + (pairs == 1 ? tr("(1 pair)") : tr("(%1 pairs)").arg(pairs));
    auto* item = new QListWidgetItem(text, this);
    QString tip = QString::fromStdString(s.name) + "\n" + tr("%1 frames, %2 x %3, passes: %4")
                                                            .arg(s.frames.size())
                                                            .arg(s.width)
                                                            .arg(s.height)
                                                            .arg(QString::fromStdString([&] {
                                                              std::string p;
                                                              for (const auto& x : s.passes) p += (p.empty() ? "" : ", ") + x;
                                                              return p;
                                                            }()));
    if (!s.problems.empty()) {
      ++with_problems_;
      item->setIcon(warning);
      tip += "\n\n" + tr("Problems:");
      for (const std::string& p : s.problems) tip += "\n- " + QString::fromStdString(p);
    }
    if (pairs == 0) item->setForeground(palette().color(QPalette::Disabled, QPalette::Text));
    item->setToolTip(tip);
  }
  updating_ = false;
}

void SceneList::SetCurrentScene(int index) {
  updating_ = true;
  setCurrentRow(index);
  if (QListWidgetItem* it = item(index)) scrollToItem(it);
  updating_ = false;
}

}  // namespace animerun::widgets
