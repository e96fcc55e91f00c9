// The frames of the current scene as a horizontal strip of thumbnails; the frames of the
// current pair (t and t+1) are highlighted. Thumbnails load on a worker thread.
#pragma once

#include <QListWidget>

#include <filesystem>
#include <memory>
#include <vector>

#include "core/jobs/job_runner.h"

namespace animerun::widgets {

class Filmstrip : public QListWidget {
  Q_OBJECT

 public:
  explicit Filmstrip(QWidget* parent = nullptr);
  ~Filmstrip() override;

  // One item per frame; pair_count limits which frames start a pair.
  void SetFrames(const std::vector<std::filesystem::path>& frames, int pair_count);
  void ClearFrames();
  // Highlights frames pair and pair + 1 and scrolls them into view.
  void SetCurrentPair(int pair);
  int CurrentPair() const { return current_pair_; }
  // Thumbnails that have arrived (tests wait on this).
  int LoadedThumbnails() const { return loaded_; }
  bool Loading() const { return loader_->Running(); }

  static constexpr int kThumbWidth = 128;
  static constexpr int kThumbHeight = 72;

 signals:
  // The user picked a frame; the pair it starts (the last pair for the last frame).
  void pairActivated(int pair);

 private:
  void OnThumbnail(int index, const QImage& image, const QString& error);

  std::unique_ptr<JobRunner> loader_;
  int pair_count_ = 0;
  int current_pair_ = -1;
  int loaded_ = 0;
  int generation_ = 0;
};

}  // namespace animerun::widgets
