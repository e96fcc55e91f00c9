// The `animerun` binary: `animerun <command> [options]`. Every subcommand lives in
// app/cli/*_command.cpp and registers itself; `gui` opens the main window.
#include <cstdio>  // first: defines __GLIBC__ for the test below
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <unistd.h>

#include "app/cli/arg_parser.h"
#include "app/cli/command_registry.h"
#include "core/flow/flow_models.h"

#ifdef ANIMERUN_WITH_GUI
#include "app/gui/gui_main.h"
#endif

namespace {

void PrintHelp() {
  std::printf("AnimeRun Studio %s: optical flow, segment matching and colorization for 2D animation.\n\n",
              ANIMERUN_VERSION);
  std::printf("usage: animerun <command> [options]    (animerun <command> --help for details)\n\ncommands:\n");
#ifdef ANIMERUN_WITH_GUI
  std::printf("  %-16s %s\n", "gui", "Open the main window (default when no command is given)");
#endif
  for (const auto& c : animerun::cli::CommandRegistry::All()) std::printf("  %-16s %s\n", c.name.c_str(), c.summary.c_str());
  std::printf("\nEnvironment: ANIMERUN_THREADS=N sets LibTorch's CPU threads (default: all cores).\n");
}

// The networks allocate and free many large activations per pair. glibc serves blocks over
// its (dynamic) mmap threshold with fresh mmaps and unmaps them on free, so every pass pays
// page faults and kernel zeroing again (perf: ~30% kernel time for PWC-Net). Keeping blocks
// up to 32 MiB in the heap, and freed memory up to 1 GiB untrimmed, makes later passes
// reuse it: measured 11% (RAFT), 20% (PWC-Net), 30% (GMFlow) less time per pair at
// 440x1024, same numbers. Command-line runs only: a GUI session should give memory back.
void KeepFreedMemoryForBatchRuns() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
#endif
}

// Training interleaves many small matrix products (OpenBLAS, with its own worker threads)
// with LibTorch's OpenMP regions. With libgomp's default active waiting the idle OpenMP
// thread spins while OpenBLAS's threads want the same cores: an AnT update (256x384 crops,
// frozen encoder) took 5.0 s instead of 3.0 s with passive waiting on an idle 2-core
// machine (docs/training.md). libgomp reads OMP_WAIT_POLICY when it is loaded, before
// main, so `train` and `bench train` set it and re-execute themselves (same process id,
// same arguments and descriptors) unless the user chose a policy.
void UsePassiveOpenMpWaitForTraining(int argc, char** argv) {
  const bool training = argc > 1 && (std::strcmp(argv[1], "train") == 0 ||
                                     (std::strcmp(argv[1], "bench") == 0 && argc > 2 && std::strcmp(argv[2], "train") == 0));
  if (!training || std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure: then go on with the default policy
}

}  // namespace

int main(int argc, char** argv) {
  UsePassiveOpenMpWaitForTraining(argc, argv);
  const char* threads = std::getenv("ANIMERUN_THREADS");
  animerun::flow::ConfigureThreads(threads ? std::atoi(threads) : 0);

  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    PrintHelp();
    return 0;
  }
  if (cmd == "--version") {
    std::printf("animerun %s\n%s\n", ANIMERUN_VERSION, animerun::flow::DescribeRuntime().c_str());
    return 0;
  }
#ifdef ANIMERUN_WITH_GUI
  if (cmd.empty() || cmd == "gui") return animerun::gui::RunGui(argc, argv);
#else
  if (cmd.empty() || cmd == "gui") {
    PrintHelp();
    std::fprintf(stderr, "\nThis build has no GUI (BUILD_GUI=OFF).\n");
    return cmd.empty() ? 0 : 2;
  }
#endif
  const auto* command = animerun::cli::CommandRegistry::Find(cmd);
  KeepFreedMemoryForBatchRuns();
  if (!command) {
    std::fprintf(stderr, "animerun: unknown command '%s'\n\n", cmd.c_str());
    PrintHelp();
    return 2;
  }
  // Subcommands see argv[0] = "animerun <cmd>" and their own options after it.
  std::string argv0 = "animerun " + cmd;
  argv[1] = argv0.data();
  try {
    return command->run(argc - 1, argv + 1);
  } catch (const animerun::cli::UsageError& e) {
    std::fprintf(stderr, "animerun %s: %s\n", cmd.c_str(), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "animerun %s: error: %s\n", cmd.c_str(), e.what());
    return 1;
  }
}
