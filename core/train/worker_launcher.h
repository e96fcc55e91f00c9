// `animerun train --nproc N`: starts N training processes on this machine, as torchrun
// does, and watches them. Each worker gets RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,
// MASTER_ADDR and MASTER_PORT (a free port unless given), and ANIMERUN_THREADS = cores / N
// unless the environment sets it, so that N processes do not oversubscribe the cores.
// Rank 0's stdout (the JSON events) is forwarded as it is; the workers' stderr, and the
// other ranks' stdout, line by line with a "[rank R] " prefix. When a worker fails (non-zero
// exit or a signal), the others get SIGTERM, then SIGKILL after grace_s, and the result
// names the rank that caused it (a crashed worker, else the first to print an "error"
// event, whose message it quotes; the others' errors follow from it). POSIX (posix_spawn,
// pipes, poll); Qt-free.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace animerun::train {

struct WorkerLaunchOptions {
  std::string program;                    // executable of every worker (a path)
  std::vector<std::string> args;          // its arguments, without argv[0]
  int nproc = 2;                          // workers: ranks 0 .. nproc - 1
  std::string master_addr = "127.0.0.1";  // where rank 0 serves the rendezvous
  int master_port = 0;                    // 0 = a port free on master_addr now
  int threads_per_worker = 0;             // ANIMERUN_THREADS when the environment has none; 0 = cores / nproc
  int grace_s = 10;                       // after a failure, seconds before the rest are killed
  void Check() const;                     // throws Error naming the field
};

struct WorkerLaunchCallbacks {
  std::function<void(const std::string& line)> rank0_stdout;  // a line of rank 0's stdout, no newline
  std::function<void(const std::string& line)> log;           // "[rank R] ..." lines of the other streams
  std::function<void(const std::vector<int>& pids, int port)> started;  // all workers running
  std::function<bool()> stop_requested;  // polled; true once sends SIGTERM to every worker (a graceful stop)
};

struct WorkerLaunchResult {
  int exit_code = 0;    // 0 when every worker exited with 0; else the first failure's code (128 + signal)
  std::string failure;  // "" or the cause: "rank 1 (pid 1234) was killed by signal 9 (Killed)",
                        // "rank 0 (pid 1233) exited with status 1: <its error message>"
};

// Runs the workers until all have exited. Throws Error when one cannot be started (the
// ones already started are killed first).
WorkerLaunchResult LaunchWorkers(const WorkerLaunchOptions& options, const WorkerLaunchCallbacks& callbacks);

// This process's executable (/proc/self/exe): what `--nproc` starts as the workers. Throws
// Error when it cannot be found.
std::string SelfExecutable();

// A TCP port that is free on addr at the moment of the call. Throws Error when none is.
int FreeTcpPort(const std::string& addr = "127.0.0.1");

}  // namespace animerun::train
