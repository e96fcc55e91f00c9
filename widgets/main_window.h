// The main window: scene list, filmstrip, the pair view with its overlays, info and log
// panels. Opens AnimeRun-layout folders (menu, command line, drag and drop) and the demo
// dataset, which it generates on first use. Indexing and generation run on a worker thread
// with a progress dialog; loading one pair runs on the UI thread (a 960x540 pair is quick).
#pragma once

#include <QMainWindow>
#include <QStringList>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/data/animerun_dataset.h"
#include "core/jobs/job.h"

class QAction;
class QActionGroup;
class QComboBox;
class QDockWidget;
class QLabel;
class QMenu;
class QPlainTextEdit;
class QProgressDialog;

namespace animerun::widgets {
class ColorizeView;
class CorrespondencePanel;
class PalettePanel;
}

namespace animerun::gui {

class BackgroundTask;
class Filmstrip;
class FlowPanel;
class InfoPanel;
class PairView;
class SceneList;

struct MainWindowOptions {
  bool use_settings = true;   // restore/save geometry, dock layout, last folder, overlays (QSettings)
  bool modal_errors = true;   // also show errors in message boxes (tests and --screenshot turn this off)
  bool progress_dialog = true;  // show a progress dialog for background jobs
  void Check() const {}
};

// The overlay toggles, in menu order; their shortcuts are the keys 1..5.
enum class Overlay { kFlowColor, kFlowArrows, kBoundaries, kOcclusion, kLines, kCount };

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(const MainWindowOptions& options = {}, QWidget* parent = nullptr);
  ~MainWindow() override;

  // Indexes folder (an AnimeRun root with test/ and/or train/, or a split folder) in the
  // background; datasetOpened follows. split "" picks the first the folder has (test first).
  void OpenFolder(const QString& folder, const QString& split = QString());
  // Opens the demo dataset, generating it first (in the background) when absent.
  void OpenDemo();
  // The last folder when it still exists, otherwise the demo.
  void OpenStartup();
  // Processes events until no background job runs or timeout_ms passes; true when idle.
  bool WaitIdle(int timeout_ms);
  bool Busy() const;

  void SetScene(int index);
  void SetPair(int index);
  void NextPair();
  void PrevPair();
  void NextScene();
  void PrevScene();
  int SceneIndex() const { return scene_index_; }
  int PairIndex() const { return pair_index_; }
  const data::AnimeRunDataset* Dataset() const { return dataset_ ? &*dataset_ : nullptr; }
  QString CurrentFolder() const { return folder_; }
  QString CurrentSplit() const { return split_; }

  // Re-indexes the open dataset with another Frame_Anime pass ("original", "color_1", ...),
  // keeping the scene and pair.
  void SetPass(const QString& pass);
  QString CurrentPass() const { return pass_; }

  // File > Load Predicted Flow without the dialog: scores a .flo/.png/.pfm flow for the
  // current pair against its ground truth (info panel and log). False on error (reported).
  bool LoadPredictionFile(const QString& file);
  // File > Save View Images without the dialog: writes the two frames as shown (overlays
  // and selection) to <dir>/<scene>_<frame>_t.png and _t1.png. False on error (reported).
  bool SaveViewImagesTo(const QString& dir);

  void SetOverlay(Overlay overlay, bool on);
  bool OverlayOn(Overlay overlay) const;

  PairView* pairView() const { return pair_view_; }
  SceneList* sceneList() const { return scene_list_; }
  Filmstrip* filmstrip() const { return filmstrip_; }
  InfoPanel* infoPanel() const { return info_; }
  widgets::PalettePanel* palettePanel() const { return palette_panel_; }
  widgets::ColorizeView* colorizeView() const { return colorize_view_; }
  FlowPanel* flowPanel() const { return flow_panel_; }
  widgets::CorrespondencePanel* correspondencePanel() const { return correspondence_panel_; }
  QString LastError() const { return last_error_; }
  QStringList LogLines() const { return log_lines_; }

  // <AppDataLocation>/demo (QStandardPaths, organisation "AnimeRun Studio", app "animerun").
  static QString DemoFolder();
  // Brings the dock "dock_<name>" to the front (info, palette, flow, ...); false when absent.
  bool ShowPanel(const QString& name);
  // The names ShowPanel knows (the docks of this window, without "dock_").
  QStringList PanelNames() const;
  // The shortcut table of Help > Keyboard Shortcuts, as "keys\taction" lines.
  static QStringList ShortcutLines();

 signals:
  void datasetOpened(bool ok);
  void pairShown(int scene, int pair);

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void BuildUi();
  void BuildMenus();
  // The tool panels (palette, flow, correspondences, colorization), docked at the bottom and
  // tabbed with the filmstrip, each fed by datasetOpened/pairShown (main_window_panels.cpp).
  void BuildPanels();
  QDockWidget* AddPanelDock(const QString& title, const QString& name, QWidget* content);
  void RestoreSettings();
  void SaveSettings();
  void StartJob(const QString& title, std::function<void(const JobContext&)> work,
                std::function<void(bool ok, bool cancelled, const QString& error)> done);
  void OnJobFinished(bool ok, bool cancelled, const QString& error);
  void OnOpened(const QString& folder, const QString& split, std::shared_ptr<std::optional<data::AnimeRunDataset>> result,
                bool ok, bool cancelled, const QString& error);
  void ShowPair();
  void UpdateOverlays();
  void UpdatePasses();
  void UpdateStatus();
  void ReportError(const QString& message);
  void Log(const QString& level, const QString& message);
  void ChooseFolder();
  void LoadPrediction();
  void SaveViewImages();
  void ShowShortcuts();
  void ShowAbout();

  MainWindowOptions options_;
  PairView* pair_view_ = nullptr;
  SceneList* scene_list_ = nullptr;
  Filmstrip* filmstrip_ = nullptr;
  InfoPanel* info_ = nullptr;
  QDockWidget* frames_dock_ = nullptr;  // tool panels tab with it
  widgets::PalettePanel* palette_panel_ = nullptr;
  widgets::ColorizeView* colorize_view_ = nullptr;
  FlowPanel* flow_panel_ = nullptr;
  widgets::CorrespondencePanel* correspondence_panel_ = nullptr;
  QPlainTextEdit* log_ = nullptr;
  QLabel* hover_label_ = nullptr;
  QLabel* position_label_ = nullptr;
  QLabel* zoom_label_ = nullptr;
  QComboBox* pass_box_ = nullptr;
  QMenu* split_menu_ = nullptr;
  QActionGroup* split_group_ = nullptr;
  std::array<QAction*, static_cast<int>(Overlay::kCount)> overlay_actions_{};
  BackgroundTask* task_ = nullptr;
  QProgressDialog* progress_ = nullptr;
  int pending_ = 0;  // jobs started and not yet finished
  std::function<void(bool, bool, const QString&)> job_done_;
  std::string reopen_scene_;  // scene to return to after re-indexing (pass change)
  int reopen_pair_ = 0;

  std::optional<data::AnimeRunDataset> dataset_;
  QString folder_, split_, pass_ = "original";
  int scene_index_ = -1;
  int pair_index_ = -1;
  QString last_error_;
  QStringList log_lines_;
};

}  // namespace animerun::gui
