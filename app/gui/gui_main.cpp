#include "app/gui/gui_main.h"

#include <QApplication>
#include <QPixmap>
#include <QSaveFile>
#include <QTimer>

#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "app/cli/arg_parser.h"
#include "app/gui/main_window.h"
#include "widgets/pair/pair_view.h"

namespace animerun::gui {

namespace {

struct GuiArgs {
  std::vector<std::string> folder;  // 0 or 1
  bool demo = false;
  std::string split, scene, overlays, select, hover, screenshot, panel, size = "1600x900";
  int pair = 0;
  double zoom = 0.0;
};

cli::ArgParser MakeParser(GuiArgs* a) {
  cli::ArgParser p("animerun gui", "Open the main window on an AnimeRun folder, the demo dataset, or (with no "
                                   "argument) the last folder, else the demo.");
  p.AddPositionalList("FOLDER", &a->folder, "AnimeRun root (with test/ and/or train/) or a split folder", 0);
  p.AddFlag("--demo", &a->demo, "open the demo dataset (generated into the user's data folder on first use)");
  p.Add("--split", &a->split, "split to open when the folder has several (test, train)");
  p.Add("--scene", &a->scene, "scene to show first (by name)");
  p.Add("--pair", &a->pair, "pair index (0-based) to show first");
  p.Add("--overlays", &a->overlays, "overlays to show (the others off): comma list of flow, arrows, boundaries, "
                                    "occlusion, lines; or none");
  p.Add("--select", &a->select, "select the segment under pixel X,Y of frame t");
  p.Add("--hover", &a->hover, "show the flow at pixel X,Y of frame t as if the mouse were there");
  p.Add("--zoom", &a->zoom, "zoom factor (0 = fit to window)");
  p.Add("--screenshot", &a->screenshot, "save a PNG of the window once loaded, then quit (settings are not used)");
  p.Add("--size", &a->size, "window size WxH");
  p.Add("--panel", &a->panel, "dock to bring to the front: info, palette, flow, correspondence, colorize, ... "
                              "(an unknown name lists them)");
  p.SetEpilog("Keyboard: Right/Left or N/P next/previous pair, PgDown/PgUp scenes, 1-5 overlays, +/-/0 zoom, F1 help.");
  return p;
}

// The view options, checked before the window opens.
struct ViewArgs {
  bool set_overlays = false;
  std::vector<Overlay> overlays;
  bool select = false, hover = false;
  cv::Point select_at, hover_at;
};

cv::Point ParsePoint(const std::string& text, const char* option) {
  int x = 0, y = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%d,%d%c", &x, &y, &tail) != 2 || x < 0 || y < 0)
    throw cli::UsageError(std::string(option) + ": expected X,Y (pixels of frame t), got '" + text + "'");
  return {x, y};
}

ViewArgs CheckViewArgs(const GuiArgs& a) {
  ViewArgs v;
  const std::vector<std::pair<std::string, Overlay>> names = {{"flow", Overlay::kFlowColor},
                                                              {"arrows", Overlay::kFlowArrows},
                                                              {"boundaries", Overlay::kBoundaries},
                                                              {"occlusion", Overlay::kOcclusion},
                                                              {"lines", Overlay::kLines}};
  v.set_overlays = !a.overlays.empty();
  std::stringstream ss(a.overlays);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty() || item == "none") continue;
    bool found = false;
    for (const auto& [name, o] : names)
      if (name == item) v.overlays.push_back(o), found = true;
    if (!found) throw cli::UsageError("--overlays: unknown overlay '" + item + "' (flow, arrows, boundaries, occlusion, lines)");
  }
  if (!a.select.empty()) v.select = true, v.select_at = ParsePoint(a.select, "--select");
  if (!a.hover.empty()) v.hover = true, v.hover_at = ParsePoint(a.hover, "--hover");
  if (a.zoom < 0) throw cli::UsageError("--zoom must be >= 0");
  return v;
}

void ApplyViewArgs(const GuiArgs& a, const ViewArgs& v, MainWindow& w) {
  if (v.set_overlays) {
    for (int i = 0; i < static_cast<int>(Overlay::kCount); ++i) w.SetOverlay(static_cast<Overlay>(i), false);
    for (Overlay o : v.overlays) w.SetOverlay(o, true);
  }
  if (a.zoom > 0) w.pairView()->SetZoom(a.zoom);
  if (v.select) w.pairView()->SelectAt(0, v.select_at);
  if (v.hover) w.pairView()->HoverAt(0, v.hover_at);
}

bool WantsHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) return true;
  return false;
}

}  // namespace

int RunGui(int argc, char** argv) {
  GuiArgs args;
  if (WantsHelp(argc, argv)) {  // before QApplication, which needs a display
    std::fputs(MakeParser(&args).Help().c_str(), stdout);
    return 0;
  }
  QApplication::setOrganizationName("AnimeRun Studio");
  QApplication::setApplicationName("animerun");
  QApplication::setApplicationDisplayName("AnimeRun Studio");
  QApplication app(argc, argv);  // removes Qt's own options (-platform, ...) from argv
  const int first = argc > 1 && !std::strcmp(argv[1], "gui") ? 2 : 1;
  cli::ArgParser parser = MakeParser(&args);
  int width = 0, height = 0;
  ViewArgs view_args;
  try {
    parser.Parse(argc, argv, first);
    if (args.folder.size() > 1) throw cli::UsageError("expected at most one FOLDER");
    if (args.demo && !args.folder.empty()) throw cli::UsageError("give either FOLDER or --demo");
    if (std::sscanf(args.size.c_str(), "%dx%d", &width, &height) != 2 || width < 320 || height < 240)
      throw cli::UsageError("--size: expected WxH of at least 320x240");
    if (args.pair < 0) throw cli::UsageError("--pair must be >= 0");
    view_args = CheckViewArgs(args);
  } catch (const cli::UsageError& e) {
    std::fprintf(stderr, "animerun gui: %s\n", e.what());
    return 2;
  }

  const bool screenshot = !args.screenshot.empty();
  MainWindowOptions options;
  options.use_settings = !screenshot;  // screenshots are reproducible
  options.modal_errors = !screenshot;
  MainWindow window(options);
  if (!args.panel.empty() && !window.PanelNames().contains(QString::fromStdString(args.panel))) {
    std::fprintf(stderr, "animerun gui: --panel: unknown panel '%s' (choose %s)\n", args.panel.c_str(),
                 window.PanelNames().join(", ").toStdString().c_str());
    return 2;
  }
  if (screenshot || args.size != "1600x900") window.resize(width, height);
  window.show();

  int exit_code = 0;
  bool first_open = true;
  QObject::connect(&window, &MainWindow::datasetOpened, &window, [&](bool ok) {
    if (!first_open) return;
    first_open = false;
    if (ok) {
      if (!args.scene.empty()) {
        const auto& scenes = window.Dataset()->scenes();
        bool found = false;
        for (size_t i = 0; i < scenes.size(); ++i)
          if (scenes[i].name == args.scene) window.SetScene(static_cast<int>(i)), found = true;
        if (!found) std::fprintf(stderr, "animerun gui: --scene: no scene named '%s'\n", args.scene.c_str());
      }
      if (args.pair > 0) window.SetPair(args.pair);
      ApplyViewArgs(args, view_args, window);
    }
    if (!args.panel.empty()) window.ShowPanel(QString::fromStdString(args.panel));
    if (!screenshot) return;
    if (!ok) {
      std::fprintf(stderr, "animerun gui: %s\n", window.LastError().toStdString().c_str());
      exit_code = 1;
      app.exit(1);
      return;
    }
    // Let layouts, the fit zoom, the thumbnails and the panels' background work (the
    // palette preview, a colorization) settle: the picture shows results, not progress.
    QTimer::singleShot(200, &window, [&] {
      window.WaitIdle(5000);
      window.WaitPanelsIdle(60000);
      QApplication::processEvents();
      QSaveFile file(QString::fromStdString(args.screenshot));
      const bool saved = file.open(QIODevice::WriteOnly) && window.grab().save(&file, "PNG") && file.commit();
      if (!saved) {
        std::fprintf(stderr, "animerun gui: %s: could not write the screenshot\n", args.screenshot.c_str());
        exit_code = 1;
      } else {
        std::fprintf(stderr, "animerun gui: wrote %s\n", args.screenshot.c_str());
      }
      app.exit(exit_code);
    });
  });
  if (screenshot) {
    // A safety net: never hang a script (demo generation takes seconds).
    QTimer::singleShot(600000, &app, [&] {
      std::fprintf(stderr, "animerun gui: timed out waiting for the dataset\n");
      app.exit(1);
    });
  }

  // Opened from the event loop, so that a failure reported at once can still end it.
  QTimer::singleShot(0, &window, [&] {
    if (!args.folder.empty())
      window.OpenFolder(QString::fromStdString(args.folder[0]), QString::fromStdString(args.split));
    else if (args.demo)
      window.OpenDemo();
    else
      window.OpenStartup();
  });
  const int rc = app.exec();
  return exit_code ? exit_code : rc;
}

}  // namespace animerun::gui
