// MainWindow: opening datasets (folders and the demo) in the background, navigation over
// scenes and pairs, and the File actions that read or write data.
#include <QApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenu>
#include <QActionGroup>
#include <QComboBox>
#include <QProgressDialog>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>

#include <exception>

#include "core/data/synth.h"
#include "core/io/flow_io.h"
#include "core/io/image_io.h"
#include "core/view/overlay.h"
#include "core/view/pair_summary.h"
#include "widgets/background_task.h"
#include "widgets/filmstrip.h"
#include "widgets/info_panel.h"
#include "widgets/main_window.h"
#include "widgets/pair_view.h"
#include "widgets/qt_image.h"
#include "widgets/scene_list.h"

namespace animerun::gui {

namespace fs = std::filesystem;

QString MainWindow::DemoFolder() {
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/demo";
}

bool MainWindow::Busy() const { return pending_ > 0; }

bool MainWindow::WaitIdle(int timeout_ms) {
  return ProcessEventsWhile([this] { return Busy(); }, timeout_ms);
}

void MainWindow::StartJob(const QString& title, std::function<void(const JobContext&)> work,
                          std::function<void(bool, bool, const QString&)> done) {
  if (task_->IsRunning()) {  // a new request replaces the running one
    task_->Stop();
    --pending_;
    Log("info", tr("previous job cancelled"));
  }
  if (progress_) {
    progress_->disconnect(this);
    disconnect(progress_, nullptr, task_, nullptr);
    progress_->close();
    progress_->deleteLater();
    progress_ = nullptr;
  }
  ++pending_;
  job_done_ = std::move(done);
  if (options_.progress_dialog) {
    progress_ = new QProgressDialog(title, tr("Cancel"), 0, 1000, this);
    progress_->setProperty("title", title);
    progress_->setWindowTitle(tr("AnimeRun Studio"));
    progress_->setWindowModality(Qt::WindowModal);
    progress_->setMinimumDuration(400);
    progress_->setAutoClose(false);
    progress_->setAutoReset(false);
    progress_->setValue(0);
    connect(progress_, &QProgressDialog::canceled, task_, &BackgroundTask::Cancel);
  }
  statusBar()->showMessage(title);
  task_->Start(std::move(work));
}

void MainWindow::OnJobFinished(bool ok, bool cancelled, const QString& error) {
  if (progress_) {
    disconnect(progress_, nullptr, task_, nullptr);  // closing the dialog emits canceled()
    progress_->close();
    progress_->deleteLater();
    progress_ = nullptr;
  }
  statusBar()->clearMessage();
  auto done = std::move(job_done_);
  job_done_ = nullptr;
  if (done) done(ok, cancelled, error);  // may start the next job (demo -> open)
  --pending_;
}

void MainWindow::OpenFolder(const QString& folder, const QString& split) {
  const fs::path root = ToPath(folder);
  const std::vector<std::string> splits = view::DetectSplits(root);
  if (splits.empty()) {
    ReportError(tr("%1: not an AnimeRun folder (no Frame_Anime/, test/Frame_Anime/ or train/Frame_Anime/)").arg(folder));
    emit datasetOpened(false);
    return;
  }
  if (folder != folder_) pass_ = "original";  // passes are per dataset
  std::string chosen = splits.front();
  for (const std::string& s : splits)
    if (QString::fromStdString(s) == split) chosen = s;
  data::DatasetOptions opts;
  opts.split = chosen;
  opts.pass = pass_.toStdString();
  auto result = std::make_shared<std::optional<data::AnimeRunDataset>>();
  const QString split_q = QString::fromStdString(chosen);
  Log("info", tr("opening %1%2").arg(folder, chosen.empty() ? QString() : " (" + split_q + ")"));
  StartJob(
      tr("Indexing %1...").arg(QFileInfo(folder).fileName()),
      [root, opts, result](const JobContext& job) { result->emplace(data::AnimeRunDataset::Open(root, opts, &job)); },
      [this, folder, split_q, result](bool ok, bool cancelled, const QString& error) {
        OnOpened(folder, split_q, result, ok, cancelled, error);
      });
}

void MainWindow::OnOpened(const QString& folder, const QString& split,
                          std::shared_ptr<std::optional<data::AnimeRunDataset>> result, bool ok, bool cancelled,
                          const QString& error) {
  if (cancelled) {
    Log("info", tr("opening %1 cancelled").arg(folder));
    emit datasetOpened(false);
    return;
  }
  if (!ok || !result->has_value()) {
    ReportError(error.isEmpty() ? tr("%1: could not be opened").arg(folder) : error);
    emit datasetOpened(false);
    return;
  }
  const bool same_folder = folder == folder_ && split == split_;
  dataset_ = std::move(**result);
  folder_ = folder;
  split_ = split;
  setWindowTitle(tr("%1 - AnimeRun Studio").arg(QDir::toNativeSeparators(folder)));
  scene_list_->SetScenes(dataset_->scenes());
  const std::vector<std::string> problems = dataset_->AllProblems();
  for (const std::string& p : problems) Log("warning", QString::fromStdString(p));
  Log("info", tr("%1: %2 scenes, %3 pairs%4")
                  .arg(folder)
                  .arg(dataset_->scenes().size())
                  .arg(dataset_->AllPairs().size())
                  .arg(problems.empty() ? QString() : tr(", %1 problem(s) (see the warnings above)").arg(problems.size())));
  if (!problems.empty()) statusBar()->showMessage(tr("%1 problem(s) found: see the Log panel").arg(problems.size()), 10000);

  // The split menu lists the splits this folder holds.
  split_menu_->clear();
  for (QAction* a : split_group_->actions()) split_group_->removeAction(a);
  const std::vector<std::string> splits = view::DetectSplits(ToPath(folder));
  split_menu_->setEnabled(splits.size() > 1 || (splits.size() == 1 && !splits[0].empty()));
  for (const std::string& s : splits) {
    if (s.empty()) continue;
    QAction* a = split_menu_->addAction(QString::fromStdString(s));
    a->setCheckable(true);
    a->setChecked(QString::fromStdString(s) == split);
    split_group_->addAction(a);
    connect(a, &QAction::triggered, this, [this, s] { OpenFolder(folder_, QString::fromStdString(s)); });
  }

  if (options_.use_settings) {
    QSettings settings;
    settings.setValue("data/lastFolder", folder);
    settings.setValue("data/lastSplit", split);
  }
  int scene = 0, pair = 0;
  if (same_folder && !reopen_scene_.empty()) {
    const auto& scenes = dataset_->scenes();
    for (size_t i = 0; i < scenes.size(); ++i)
      if (scenes[i].name == reopen_scene_) scene = static_cast<int>(i), pair = reopen_pair_;
  }
  scene_index_ = -1;
  if (dataset_->scenes().empty()) {
    pair_view_->ClearPair(tr("%1 has no scenes").arg(folder));
    filmstrip_->ClearFrames();
    info_->ClearPair();
    UpdateStatus();
  } else {
    SetScene(scene);
    if (pair > 0) SetPair(pair);
  }
  emit datasetOpened(true);
}

void MainWindow::OpenDemo() {
  const QString demo = DemoFolder();
  const fs::path demo_path = ToPath(demo);
  std::error_code ec;
  if (fs::is_directory(demo_path / "test" / "Frame_Anime", ec)) {
    OpenFolder(demo, "test");
    return;
  }
  // Generate into a side folder and rename when complete, so that a cancelled or failed
  // run never leaves a half-written demo that would be opened next time.
  const fs::path partial = ToPath(demo + ".partial");
  Log("info", tr("generating the demo dataset in %1").arg(demo));
  StartJob(
      tr("Generating the demo dataset (first run only)..."),
      [demo_path, partial](const JobContext& job) {
        fs::remove_all(partial);
        data::SynthOptions synth;  // the defaults: 2 scenes x 6 frames at 960x540
        data::GenerateSynthDataset(partial, synth, &job);
        fs::remove_all(demo_path);
        fs::rename(partial, demo_path);
      },
      [this, demo](bool ok, bool cancelled, const QString& error) {
        if (ok) {
          OpenFolder(demo, "test");
        } else if (cancelled) {
          Log("info", tr("demo generation cancelled"));
          emit datasetOpened(false);
        } else {
          ReportError(tr("The demo dataset could not be generated: %1").arg(error));
          emit datasetOpened(false);
        }
      });
}

void MainWindow::OpenStartup() {
  if (options_.use_settings) {
    QSettings s;
    const QString last = s.value("data/lastFolder").toString();
    if (!last.isEmpty() && QFileInfo(last).isDir() && !view::DetectSplits(ToPath(last)).empty()) {
      OpenFolder(last, s.value("data/lastSplit").toString());
      return;
    }
  }
  OpenDemo();
}

void MainWindow::ChooseFolder() {
  const QString start = folder_.isEmpty() ? QDir::homePath() : QFileInfo(folder_).absolutePath();
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Open an AnimeRun folder"), start);
  if (!dir.isEmpty()) OpenFolder(dir);
}

void MainWindow::SetScene(int index) {
  if (!dataset_ || index < 0 || index >= static_cast<int>(dataset_->scenes().size())) return;
  scene_index_ = index;
  pair_index_ = -1;
  const data::Scene& scene = dataset_->scenes()[index];
  scene_list_->SetCurrentScene(index);
  filmstrip_->SetFrames(scene.frames, static_cast<int>(scene.pairs.size()));
  UpdatePasses();
  if (scene.pairs.empty()) {
    QString msg = tr("Scene %1 has no complete frame pair.").arg(QString::fromStdString(scene.name));
    pair_view_->ClearPair(msg);
    for (const std::string& p : scene.problems) msg += "\n" + QString::fromStdString(p);
    info_->ClearPair(msg);
    UpdateStatus();
    return;
  }
  SetPair(0);
}

void MainWindow::SetPair(int index) {
  if (!dataset_ || scene_index_ < 0) return;
  const int n = static_cast<int>(dataset_->scenes()[scene_index_].pairs.size());
  if (n == 0) return;
  index = std::clamp(index, 0, n - 1);
  pair_index_ = index;
  filmstrip_->SetCurrentPair(index);
  ShowPair();
}

void MainWindow::NextPair() {
  if (!dataset_ || scene_index_ < 0) return;
  const int n = static_cast<int>(dataset_->scenes()[scene_index_].pairs.size());
  if (pair_index_ + 1 < n)
    SetPair(pair_index_ + 1);
  else if (scene_index_ + 1 < static_cast<int>(dataset_->scenes().size()))
    SetScene(scene_index_ + 1);
}

void MainWindow::PrevPair() {
  if (!dataset_ || scene_index_ < 0) return;
  if (pair_index_ > 0) {
    SetPair(pair_index_ - 1);
  } else if (scene_index_ > 0) {
    SetScene(scene_index_ - 1);
    SetPair(1 << 30);  // the last pair of the previous scene
  }
}

void MainWindow::NextScene() {
  if (dataset_ && scene_index_ + 1 < static_cast<int>(dataset_->scenes().size())) SetScene(scene_index_ + 1);
}

void MainWindow::PrevScene() {
  if (dataset_ && scene_index_ > 0) SetScene(scene_index_ - 1);
}

void MainWindow::SetPass(const QString& pass) {
  if (pass == pass_ || folder_.isEmpty() || pass.isEmpty()) return;
  pass_ = pass;
  Log("info", tr("showing pass %1").arg(pass));
  OpenFolder(folder_, split_);
}

void MainWindow::UpdatePasses() {
  pass_box_->clear();
  if (!dataset_ || scene_index_ < 0) return;
  for (const std::string& p : dataset_->scenes()[scene_index_].passes) pass_box_->addItem(QString::fromStdString(p));
  pass_box_->setCurrentText(pass_);
}

void MainWindow::ShowPair() {
  const data::Scene& scene = dataset_->scenes()[scene_index_];
  const data::FramePair& p = scene.pairs[pair_index_];
  reopen_scene_ = scene.name;
  reopen_pair_ = pair_index_;
  info_->ClearSelection();
  info_->ClearPrediction();
  const QString name1 = QString::fromStdString(p.name1), name2 = QString::fromStdString(p.name2);
  try {
    data::PairData d = data::LoadPair(p);
    const view::PairSummary summary = view::SummarizePair(d);
    const QString grey = "<span style=\"color:gray\">%1</span>";
    pair_view_->SetPair(std::move(d), "<b>t</b> &nbsp;" + name1.toHtmlEscaped() + " &nbsp;" + grey.arg(tr("forward flow")),
                        "<b>t+1</b> &nbsp;" + name2.toHtmlEscaped() + " &nbsp;" + grey.arg(tr("backward flow")));
    QString heading = tr("%1  %2 -> %3").arg(QString::fromStdString(scene.name), name1, name2);
    std::vector<std::string> lines = summary.Lines();
    if (!scene.problems.empty())
      lines.push_back(std::to_string(scene.problems.size()) + " problem(s) in this scene: see the Log panel");
    info_->SetPair(heading, lines);
  } catch (const std::exception& e) {
    pair_view_->ClearPair(tr("Pair %1 -> %2 could not be loaded").arg(name1, name2));
    info_->ClearPair(QString::fromStdString(e.what()));
    ReportError(QString::fromStdString(e.what()));
  }
  UpdateStatus();
  emit pairShown(scene_index_, pair_index_);
}

void MainWindow::LoadPrediction() {
  if (!pair_view_->HasPair()) return;
  const QString file = QFileDialog::getOpenFileName(this, tr("Load a predicted flow for this pair"), folder_,
                                                    tr("Flow files (*.flo *.png *.pfm);;All files (*)"));
  if (!file.isEmpty()) LoadPredictionFile(file);
}

bool MainWindow::LoadPredictionFile(const QString& file) {
  if (!pair_view_->HasPair()) {
    ReportError(tr("%1: no pair is shown to compare the prediction with").arg(file));
    return false;
  }
  try {
    const cv::Mat flow = io::ReadFlowAuto(ToPath(file));
    const view::PredictionScore score = view::ScorePrediction(pair_view_->pair(), flow, file.toStdString());
    info_->SetPrediction(QFileInfo(file).fileName(), score.Lines());
    for (const std::string& l : score.Lines()) Log("score", QFileInfo(file).fileName() + ": " + QString::fromStdString(l));
    return true;
  } catch (const std::exception& e) {
    ReportError(QString::fromStdString(e.what()));
    return false;
  }
}

void MainWindow::SaveViewImages() {
  if (!pair_view_->HasPair()) return;
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Save the two views as PNG into"), QDir::homePath());
  if (!dir.isEmpty()) SaveViewImagesTo(dir);
}

bool MainWindow::SaveViewImagesTo(const QString& dir) {
  if (!pair_view_->HasPair() || !dataset_) return false;
  const data::Scene& scene = dataset_->scenes()[scene_index_];
  const std::string stem = scene.name + "_" + scene.pairs[pair_index_].name1;
  try {
    for (int i = 0; i < 2; ++i) {
      const fs::path out = ToPath(dir) / (stem + (i == 0 ? "_t.png" : "_t1.png"));
      // The same composition the panes show, written by core (atomically).
      io::WriteImage(out, view::ComposeFrameView(pair_view_->pair(), i, pair_view_->overlays(),
                                                 pair_view_->HighlightFor(i)));
      Log("info", tr("saved %1").arg(ToQString(out)));
    }
    return true;
  } catch (const std::exception& e) {
    ReportError(QString::fromStdString(e.what()));
    return false;
  }
}

}  // namespace animerun::gui
