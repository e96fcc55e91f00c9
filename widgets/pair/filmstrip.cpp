#include "widgets/pair/filmstrip.h"

#include <QMetaObject>
#include <QPainter>

#include <exception>

#include "core/view/pair_summary.h"
#include "widgets/common/qt_image.h"
#include "widgets/common/qt_jobs.h"

namespace animerun::widgets {

namespace {

QIcon Placeholder() {
  QPixmap pm(Filmstrip::kThumbWidth, Filmstrip::kThumbHeight);
  pm.fill(QColor(70, 70, 76));
  return QIcon(pm);
}

}  // namespace

Filmstrip::Filmstrip(QWidget* parent) : QListWidget(parent), loader_(std::make_unique<JobRunner>(QtPost())) {
  setViewMode(QListView::IconMode);
  setFlow(QListView::LeftToRight);
  setWrapping(false);
  setMovement(QListView::Static);
  setResizeMode(QListView::Adjust);
  setUniformItemSizes(true);
  setIconSize(QSize(kThumbWidth, kThumbHeight));
  setSpacing(3);
  setSelectionMode(QAbstractItemView::NoSelection);
  setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
  setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  setFocusPolicy(Qt::NoFocus);  // arrow keys belong to the pair navigation
  const int h = kThumbHeight + fontMetrics().height() + 34;
  setMinimumHeight(h);
  connect(this, &QListWidget::itemClicked, this, [this](QListWidgetItem* item) {
    if (pair_count_ <= 0) return;
    emit pairActivated(std::min(row(item), pair_count_ - 1));
  });
}

Filmstrip::~Filmstrip() { loader_->Stop(); }

void Filmstrip::ClearFrames() {
  loader_->Stop();
  ++generation_;
  clear();
  pair_count_ = 0;
  current_pair_ = -1;
  loaded_ = 0;
}

void Filmstrip::SetFrames(const std::vector<std::filesystem::path>& frames, int pair_count) {
  ClearFrames();
  pair_count_ = pair_count;
  const QIcon placeholder = Placeholder();
  for (size_t i = 0; i < frames.size(); ++i) {
    auto* item = new QListWidgetItem(placeholder, QString::fromStdString(frames[i].stem().string()), this);
    item->setToolTip(ToQString(frames[i]));
    item->setTextAlignment(Qt::AlignHCenter);
  }
  const int generation = generation_;
  loader_->Start([this, frames, generation](const JobContext& job) {  // each thumbnail as it is read
    for (size_t i = 0; i < frames.size(); ++i) {
      job.CheckCancel();
      QImage image;
      QString error;
      try {
        image = ToQImage(view::ReadThumbnail(frames[i], kThumbWidth, kThumbHeight));
      } catch (const std::exception& e) {
        error = QString::fromStdString(e.what());
      }
      const int index = static_cast<int>(i);
      // Posted to the UI thread; the destructor stops this thread before the strip goes.
      QMetaObject::invokeMethod(
          this, [this, index, image, error, generation] {
            if (generation == generation_) OnThumbnail(index, image, error);
          },
          Qt::QueuedConnection);
      job.Report(static_cast<double>(i + 1) / frames.size(), "thumbnails");
    }
  });
}

void Filmstrip::OnThumbnail(int index, const QImage& image, const QString& error) {
  QListWidgetItem* it = item(index);
  if (!it) return;
  ++loaded_;
  if (!error.isEmpty()) {
    it->setToolTip(error);
    it->setForeground(QColor(220, 60, 60));
    return;
  }
  // Centre the thumbnail on a fixed-size canvas so that every item has the same shape.
  QPixmap canvas(kThumbWidth, kThumbHeight);
  canvas.fill(QColor(70, 70, 76));
  QPainter p(&canvas);
  p.drawImage((kThumbWidth - image.width()) / 2, (kThumbHeight - image.height()) / 2, image);
  p.end();
  it->setIcon(QIcon(canvas));
}

void Filmstrip::SetCurrentPair(int pair) {
  current_pair_ = pair;
  const QColor highlight = palette().color(QPalette::Highlight);
  for (int i = 0; i < count(); ++i) {
    QListWidgetItem* it = item(i);
    const bool in_pair = pair >= 0 && (i == pair || i == pair + 1);
    it->setBackground(in_pair ? QBrush(highlight) : QBrush());
    QFont f = it->font();
    f.setBold(in_pair);
    it->setFont(f);
    if (in_pair) it->setForeground(palette().color(QPalette::HighlightedText));
    else if (it->foreground().color() != QColor(220, 60, 60)) it->setForeground(QBrush());
  }
  if (pair >= 0 && pair < count()) {
    scrollToItem(item(std::min(pair + 1, count() - 1)));
    scrollToItem(item(pair));
  }
}

}  // namespace animerun::widgets
