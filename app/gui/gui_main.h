// `animerun gui [FOLDER] [--demo] [--screenshot OUT.png] ...` and plain `animerun`: the main
// window. Called by app/main.cpp with the whole argv (argv[1] may be "gui").
#pragma once

namespace animerun::gui {

// Runs the Qt application; returns the process exit code (2 for usage errors).
int RunGui(int argc, char** argv);

}  // namespace animerun::gui
