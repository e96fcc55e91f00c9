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
#include "models/common/cpu_block_cache.h"

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
// 440x1024, same numbers. Blocks over 32 MiB (AnT's full-resolution maps: 66-265 MB at
// 960x540) go to LibTorch's allocator with a block cache (models/common/cpu_block_cache.h),
// which reuses them without raising the peak. Command-line runs only: a GUI session should
// give memory back.
void KeepFreedMemoryForBatchRuns() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
#endif
  animerun::models::CpuBlockCacheOptions cache;
  cache.min_block_bytes = size_t{32} << 20;
  animerun::models::InstallCpuBlockCache(cache);
}

// Settings that glibc, libgomp and OpenBLAS read when they load, before main, so every command
// sets what the user has not and re-executes itself once (same process id, arguments and
// descriptors). Measured on a 2-core Zen 4, 2 threads, docs/benchmarks.md "Process
// settings":
//  * OMP_WAIT_POLICY=PASSIVE. The Debian LibTorch runs matrix products on OpenBLAS's own
//    worker threads between LibTorch's OpenMP regions; with libgomp's default active waiting
//    the idle OpenMP thread spins on the core OpenBLAS's worker wants (perf on GMFlow: a third
//    of the samples in libgomp's wait loop and sched_yield). GMFlow 448x1024 5.1 -> 3.0 s,
//    AnT 400 segments 540x960 2.8 -> 2.1 s, an AnT training update 5.0 -> 3.0 s; RAFT and
//    PWC-Net (oneDNN convolutions on the OpenMP threads) within 3%.
//  * glibc.malloc.hugetlb=1 (GLIBC_TUNABLES; glibc >= 2.35, ignored by older ones): malloc
//    asks for transparent huge pages, so the full-resolution maps (over the 32 MiB mmap
//    threshold, mapped afresh on every pass) fault in 2 MB pages instead of 4 kB ones: AnT
//    2.0 -> 1.7 s, GMFlow 2.9 -> 2.6 s, RAFT-small 2.7 -> 2.5 s, same peak memory.
//  * OPENBLAS_THREAD_TIMEOUT=4: after each product OpenBLAS's worker (Debian build) calls
//    sched_yield for 2^28 cycles (about 0.1 s) before it sleeps, taking turns on the cores
//    our OpenMP loops run on (perf on AnT: 12% of the samples in that thread, most of them
//    in sched_yield); 2^4 cycles makes it sleep at once. AnT 0.92-1.21 -> 0.93-1.00 s and
//    0.2 CPU-s less per pair, GMFlow the same.
void UseFastProcessSettings(char** argv) {
  bool changed = false;
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) changed |= setenv("OMP_WAIT_POLICY", "PASSIVE", 1) == 0;
  if (std::getenv("OPENBLAS_THREAD_TIMEOUT") == nullptr)
    changed |= setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1) == 0;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const std::string current = tunables ? tunables : "";
  if (current.find("glibc.malloc.hugetlb") == std::string::npos) {
    const std::string value = current.empty() ? "glibc.malloc.hugetlb=1" : current + ":glibc.malloc.hugetlb=1";
    changed |= setenv("GLIBC_TUNABLES", value.c_str(), 1) == 0;
  }
  if (changed) execv("/proc/self/exe", argv);  // returns only on failure: then go on as we are
}

}  // namespace

int main(int argc, char** argv) {
  UseFastProcessSettings(argv);
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
