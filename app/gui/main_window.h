// The main window, the composition root of the GUI: it creates the one session
// (widgets::SessionModel over core's session::Session), the pair view with its overlays,
// the scene list, the filmstrip, the info and log docks, and the tool panels (Flow,
// Correspondences, Colorize, Palette), each of which observes the session itself; it wires
// the few things that cross panels (a segment picked in the pair view, a pass written by
// the palette panel) and keeps the window's settings. Opening folders (menu, command line,
// drag and drop) and the demo go through the session, which indexes in the background.
#pragma once

#include <QMainWindow>
#include <QStringList>

#include <memory>

#include "app/gui/window_menus.h"
#include "core/data/animerun_dataset.h"

class QDockWidget;
class QLabel;
class QPlainTextEdit;
class QProgressDialog;

namespace animerun::widgets {
class ColorizeView;
class CorrespondencePanel;
class Filmstrip;
class FlowPanel;
class InfoPanel;
class PairView;
class PalettePanel;
class SceneList;
class SessionModel;
}  // namespace animerun::widgets

namespace animerun::gui {

class PanelDocks;

struct MainWindowOptions {
  bool use_settings = true;     // restore/save geometry, dock layout, last folder, overlays (QSettings)
  bool modal_errors = true;     // also show errors in message boxes (tests and --screenshot turn this off)
  bool progress_dialog = true;  // show a progress dialog while a dataset opens
};

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(const MainWindowOptions& options = {}, QWidget* parent = nullptr);
  ~MainWindow() override;

  // Opening, through the session: folder is an AnimeRun root (test/ and/or train/) or a
  // split folder; split "" picks the first it has. datasetOpened follows.
  void OpenFolder(const QString& folder, const QString& split = QString());
  void OpenDemo();     // generated on first use (with its palette file)
  void OpenStartup();  // the last folder when it still exists, otherwise the demo
  bool WaitIdle(int timeout_ms);  // processes events until no open runs; true when idle
  bool Busy() const;

  // Navigation (the session's).
  void SetScene(int index);
  void SetPair(int index);
  void FirstPair();
  void LastPair();
  void NextPair();
  void PrevPair();
  void NextScene();
  void PrevScene();
  int SceneIndex() const;
  int PairIndex() const;
  const data::AnimeRunDataset* Dataset() const;
  QString CurrentFolder() const;
  QString CurrentSplit() const;
  // Re-indexes with another Frame_Anime pass ("original", "color_1", ...), keeping the pair.
  void SetPass(const QString& pass);
  QString CurrentPass() const;

  // File > Load Predicted Flow without the dialog: scores a .flo/.png/.pfm flow for the
  // shown pair against its ground truth (info panel and log). False on error (reported).
  bool LoadPredictionFile(const QString& file);
  // File > Save View Images without the dialog: the two frames as shown (overlays and
  // selection) as <dir>/<scene>_<frame>_t.png and _t1.png. False on error (reported).
  bool SaveViewImagesTo(const QString& dir);
  void SetOverlay(Overlay overlay, bool on);
  bool OverlayOn(Overlay overlay) const;

  // What the menus call.
  void ChooseFolder();
  void LoadPrediction();
  void SaveViewImages();
  void ClearSelection();
  void ShowTrainDialog();

  widgets::SessionModel* session() const { return session_; }
  widgets::PairView* pairView() const { return pair_view_; }
  widgets::SceneList* sceneList() const { return scene_list_; }
  widgets::Filmstrip* filmstrip() const { return filmstrip_; }
  widgets::InfoPanel* infoPanel() const { return info_; }
  widgets::PalettePanel* palettePanel() const { return palette_panel_; }
  widgets::ColorizeView* colorizeView() const { return colorize_view_; }
  widgets::FlowPanel* flowPanel() const { return flow_panel_; }
  widgets::CorrespondencePanel* correspondencePanel() const { return correspondence_panel_; }
  QString LastError() const { return last_error_; }
  QStringList LogLines() const { return log_lines_; }

  // <AppDataLocation>/demo (QStandardPaths, organisation "AnimeRun Studio", app "animerun").
  static QString DemoFolder();
  // Brings the dock "dock_<name>" to the front (info, palette, flow, ...); false when absent.
  bool ShowPanel(const QString& name);
  // The Flow panel compares a training run's weights with its start weights on the
  // current pair (Tools > Train > Open in Flow panel).
  void CompareFlowWeights(const QString& model, const QString& trained, const QString& start);
  QStringList PanelNames() const;  // the docks, without "dock_"
  // Processes events until the tool panels' background work is done (or timeout).
  bool WaitPanelsIdle(int timeout_ms);
  static QStringList ShortcutLines() { return WindowMenus::ShortcutLines(); }

 signals:
  void datasetOpened(bool ok);
  void pairShown(int scene, int pair);

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void BuildUi();
  void BuildPanels();
  void ConnectSession();
  void OnOpening();
  void OnDatasetChanged();
  void OnSceneChanged();
  void OnPairChanged();
  void OnOpenFinished(bool ok, const QString& error);
  void UpdateOverlays();
  void UpdateStatus();
  void ReportError(const QString& message);
  void Log(const QString& level, const QString& message);
  void RestoreSettings();
  void SaveSettings();

  MainWindowOptions options_;
  widgets::SessionModel* session_ = nullptr;
  widgets::PairView* pair_view_ = nullptr;
  widgets::SceneList* scene_list_ = nullptr;
  widgets::Filmstrip* filmstrip_ = nullptr;
  widgets::InfoPanel* info_ = nullptr;
  widgets::PalettePanel* palette_panel_ = nullptr;
  widgets::ColorizeView* colorize_view_ = nullptr;
  widgets::FlowPanel* flow_panel_ = nullptr;
  widgets::CorrespondencePanel* correspondence_panel_ = nullptr;
  QDockWidget* frames_dock_ = nullptr;
  PanelDocks* docks_ = nullptr;
  WindowMenus* menus_ = nullptr;
  QPlainTextEdit* log_ = nullptr;
  QLabel* hover_label_ = nullptr;
  QLabel* position_label_ = nullptr;
  QLabel* zoom_label_ = nullptr;
  QProgressDialog* progress_ = nullptr;
  QString opening_title_;  // what the progress dialog says for the open under way
  QString last_error_;
  QStringList log_lines_;
};

}  // namespace animerun::gui
