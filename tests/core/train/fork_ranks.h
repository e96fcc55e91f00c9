// Runs a test body in several forked processes, one per rank of a process group (the
// process-group and data-parallel tests).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/train/process_group.h"

namespace animerun::train {

// Runs body(rank) in `world` forked processes and returns each one's error ("" = passed).
// A child reports through a pipe and leaves with _exit, never returning into GoogleTest;
// alarm() ends a child that hangs.
// The options of one of `world` ranks meeting through a file store (as the fork tests do).
inline ProcessGroupOptions FileStoreRank(int rank, int world, const std::string& store_file) {
  ProcessGroupOptions o;
  o.rank = rank;
  o.world_size = world;
  o.store_file = store_file;
  o.timeout_s = 60;
  return o;
}

inline std::vector<std::string> RunRanks(int world, const std::function<void(int)>& body) {
  std::vector<pid_t> pids;
  std::vector<int> fds;
  for (int rank = 0; rank < world; ++rank) {
    int fd[2];
    if (pipe(fd) != 0) throw std::runtime_error("pipe failed");
    const pid_t pid = fork();
    if (pid == 0) {
      close(fd[0]);
      alarm(120);
      std::string error;
      try {
        body(rank);
      } catch (const std::exception& e) {
        error = e.what();
        if (error.empty()) error = "exception without message";
      }
      if (!error.empty() && write(fd[1], error.data(), error.size()) < 0) _exit(3);
      _exit(error.empty() ? 0 : 1);
    }
    close(fd[1]);
    pids.push_back(pid);
    fds.push_back(fd[0]);
  }
  std::vector<std::string> errors(world);
  for (int rank = 0; rank < world; ++rank) {
    char buf[4096];
    for (ssize_t n; (n = read(fds[rank], buf, sizeof buf)) > 0;) errors[rank].append(buf, static_cast<size_t>(n));
    close(fds[rank]);
    int status = 0;
    waitpid(pids[rank], &status, 0);
    if (WIFSIGNALED(status))
      errors[rank] += " killed by signal " + std::to_string(WTERMSIG(status));
    else if (WEXITSTATUS(status) != 0 && errors[rank].empty())
      errors[rank] = "exit status " + std::to_string(WEXITSTATUS(status));
  }
  return errors;
}

}  // namespace animerun::train
