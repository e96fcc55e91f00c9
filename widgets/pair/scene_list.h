// The scenes of the open dataset, with their pair counts; a scene whose indexing found
// problems shows a warning icon and lists them in its tooltip.
#pragma once

#include <QListWidget>

#include <vector>

#include "core/data/animerun_dataset.h"

namespace animerun::widgets {

class SceneList : public QListWidget {
  Q_OBJECT

 public:
  explicit SceneList(QWidget* parent = nullptr);

  void SetScenes(const std::vector<data::Scene>& scenes);
  // Selects a scene without emitting sceneActivated.
  void SetCurrentScene(int index);
  // Scenes that carry problems (they have the warning icon).
  int ScenesWithProblems() const { return with_problems_; }

 signals:
  void sceneActivated(int index);

 private:
  int with_problems_ = 0;
  bool updating_ = false;
};

}  // namespace animerun::widgets
