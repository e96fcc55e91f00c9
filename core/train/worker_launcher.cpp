#include "core/train/worker_launcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/util/error.h"

extern char** environ;

namespace animerun::train {

void WorkerLaunchOptions::Check() const {
  Require(!program.empty(), "worker launcher: program required");
  Require(nproc >= 1 && nproc <= 1024, "--nproc: must be in 1..1024");
  Require(!master_addr.empty(), "worker launcher: master_addr required");
  Require(master_port >= 0 && master_port < 65536, "worker launcher: master_port must be in 0..65535");
  Require(threads_per_worker >= 0, "worker launcher: threads_per_worker must be >= 0");
  Require(grace_s >= 0, "worker launcher: grace_s must be >= 0");
}

std::string SelfExecutable() {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("cannot find the animerun executable (/proc/self/exe): " + ec.message());
  return p.string();
}

int FreeTcpPort(const std::string& addr) {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) throw Error(std::string("cannot open a socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = 0;
  if (inet_pton(AF_INET, addr == "localhost" ? "127.0.0.1" : addr.c_str(), &a.sin_addr) != 1) {
    close(s);
    throw Error("master address " + addr + ": not an IPv4 address of this machine");
  }
  socklen_t len = sizeof a;
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    const std::string why = std::strerror(errno);
    close(s);
    throw Error("no free TCP port on " + addr + ": " + why);
  }
  close(s);
  return ntohs(a.sin_port);
}

namespace {

struct Worker {
  int rank = 0;
  pid_t pid = -1;
  int out = -1, err = -1;      // read ends; -1 once closed
  std::string out_buf, err_buf;  // an unfinished line of each
  bool exited = false;
  int status = 0;
  bool killed_by_launcher = false;  // SIGKILLed after the grace period
  int error_order = -1;             // when it printed its first {"event":"error"} (-1: never)
  std::string error_message;        // that event's message
};

std::string Describe(const Worker& w) {
  const std::string who = "rank " + std::to_string(w.rank) + " (pid " + std::to_string(w.pid) + ")";
  if (WIFSIGNALED(w.status)) {
    const int sig = WTERMSIG(w.status);
    return who + " was killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  return who + " exited with status " + std::to_string(WEXITSTATUS(w.status)) +
         (w.error_message.empty() ? "" : ": " + w.error_message);
}

bool Failed(const Worker& w) { return WIFSIGNALED(w.status) || WEXITSTATUS(w.status) != 0; }

int ExitCode(const Worker& w) { return WIFSIGNALED(w.status) ? 128 + WTERMSIG(w.status) : WEXITSTATUS(w.status); }

// The failure to report when several workers failed: the others' errors usually follow
// from the first (a peer that vanished fails their collectives). A worker killed by a
// signal it did not get from the launcher (a crash, an OOM kill, kill -9) comes first;
// then the one that reported an error first; then the first that exited.
const Worker* RootFailure(const std::vector<const Worker*>& exit_order) {
  for (const Worker* w : exit_order)
    if (WIFSIGNALED(w->status) && !w->killed_by_launcher) return w;
  const Worker* first_error = nullptr;
  for (const Worker* w : exit_order)
    if (Failed(*w) && w->error_order >= 0 && (!first_error || w->error_order < first_error->error_order))
      first_error = w;
  if (first_error) return first_error;
  for (const Worker* w : exit_order)
    if (Failed(*w)) return w;
  return nullptr;
}

// The environment of a worker: ours with the rendezvous variables replaced.
std::vector<std::string> WorkerEnvironment(const std::map<std::string, std::string>& set) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string kv = *e;
    const std::string key = kv.substr(0, kv.find('='));
    if (!set.count(key)) env.push_back(kv);
  }
  for (const auto& [k, v] : set) env.push_back(k + "=" + v);
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Reads what is available on fd into buf and hands out complete lines; true when it read
// something. Closes fd (fd = -1) at EOF or on an error, after handing out the rest of buf.
bool Drain(int& fd, std::string& buf, const std::function<void(const std::string&)>& line) {
  char chunk[65536];
  const ssize_t n = read(fd, chunk, sizeof chunk);
  if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return false;
  if (n > 0) {
    buf.append(chunk, static_cast<size_t>(n));
    for (size_t nl; (nl = buf.find('\n')) != std::string::npos;) {
      line(buf.substr(0, nl));
      buf.erase(0, nl + 1);
    }
    return true;
  }
  if (!buf.empty()) line(buf);
  buf.clear();
  close(fd);
  fd = -1;
  return false;
}

void SignalAll(std::vector<Worker>& workers, int sig) {
  for (auto& w : workers) {
    if (w.exited) continue;
    kill(w.pid, sig);
    if (sig == SIGKILL) w.killed_by_launcher = true;
  }
}

}  // namespace

WorkerLaunchResult LaunchWorkers(const WorkerLaunchOptions& options, const WorkerLaunchCallbacks& cb) {
  options.Check();
  const int port = options.master_port > 0 ? options.master_port : FreeTcpPort(options.master_addr);
  int threads = options.threads_per_worker;
  if (threads == 0) threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / options.nproc);
  const bool threads_set = std::getenv("ANIMERUN_THREADS") != nullptr;

  std::vector<Worker> workers(options.nproc);
  auto kill_started = [&] {
    for (auto& w : workers) {
      if (w.pid <= 0) continue;
      kill(w.pid, SIGKILL);
      waitpid(w.pid, nullptr, 0);
      if (w.out >= 0) close(w.out);
      if (w.err >= 0) close(w.err);
    }
  };
  for (int r = 0; r < options.nproc; ++r) {
    Worker& w = workers[r];
    w.rank = r;
    std::map<std::string, std::string> set = {
        {"RANK", std::to_string(r)},          {"LOCAL_RANK", std::to_string(r)},
        {"WORLD_SIZE", std::to_string(options.nproc)}, {"LOCAL_WORLD_SIZE", std::to_string(options.nproc)},
        {"MASTER_ADDR", options.master_addr}, {"MASTER_PORT", std::to_string(port)}};
    if (!threads_set) set["ANIMERUN_THREADS"] = std::to_string(threads);
    std::vector<std::string> env = WorkerEnvironment(set);
    std::vector<std::string> argv = {options.program};
    argv.insert(argv.end(), options.args.begin(), options.args.end());
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
      kill_started();
      throw Error(std::string("cannot create pipes for the workers: ") + std::strerror(errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
    std::vector<char*> cargv = CStrings(argv), cenv = CStrings(env);
    const int rc = posix_spawn(&w.pid, options.program.c_str(), &fa, nullptr, cargv.data(), cenv.data());
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    close(err[1]);
    w.out = out[0];
    w.err = err[0];
    if (rc != 0) {
      w.pid = -1;
      close(w.out);
      close(w.err);
      w.out = w.err = -1;
      kill_started();
      throw Error("cannot start worker " + std::to_string(r) + " (" + options.program + "): " + std::strerror(rc));
    }
  }
  if (cb.started) {
    std::vector<int> pids;
    for (const auto& w : workers) pids.push_back(static_cast<int>(w.pid));
    cb.started(pids, port);
  }

  bool stop_sent = false;
  std::vector<const Worker*> exit_order;
  int errors_seen = 0;
  std::optional<std::chrono::steady_clock::time_point> kill_at;  // set on the first failure
  bool killing = false;
  auto log = [&](int rank) -> std::function<void(const std::string&)> {
    return [&cb, rank](const std::string& line) {
      if (cb.log) cb.log("[rank " + std::to_string(rank) + "] " + line);
    };
  };
  // A worker's stdout: its events, where an error event says why it is about to fail.
  auto out_sink = [&](Worker& w) -> std::function<void(const std::string&)> {
    std::function<void(const std::string&)> forward = w.rank == 0 && cb.rank0_stdout ? cb.rank0_stdout : log(w.rank);
    return [&w, &errors_seen, forward](const std::string& line) {
      if (w.error_order < 0 && line.find("\"error\"") != std::string::npos) {
        const auto e = nlohmann::json::parse(line, nullptr, false);
        if (e.is_object() && e.value("event", "") == "error") {
          w.error_order = errors_seen++;
          if (e.contains("message") && e["message"].is_string()) w.error_message = e["message"].get<std::string>();
        }
      }
      forward(line);
    };
  };
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<std::pair<Worker*, bool>> who;  // worker, stdout?
    for (auto& w : workers) {
      if (w.out >= 0) fds.push_back({w.out, POLLIN, 0}), who.push_back({&w, true});
      if (w.err >= 0) fds.push_back({w.err, POLLIN, 0}), who.push_back({&w, false});
    }
    const bool all_exited = std::all_of(workers.begin(), workers.end(), [](const Worker& w) { return w.exited; });
    if (all_exited && fds.empty()) break;
    if (!fds.empty() && poll(fds.data(), fds.size(), 100) > 0) {
      for (size_t i = 0; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        Worker& w = *who[i].first;
        if (who[i].second)
          Drain(w.out, w.out_buf, out_sink(w));
        else
          Drain(w.err, w.err_buf, log(w.rank));
      }
    } else if (fds.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (auto& w : workers) {
      if (w.exited) continue;
      int status = 0;
      if (waitpid(w.pid, &status, WNOHANG) != w.pid) continue;
      w.exited = true;
      w.status = status;
      exit_order.push_back(&w);
      if (Failed(w) && !kill_at) {  // the first failure: the others cannot go on without it
        SignalAll(workers, SIGTERM);
        kill_at = std::chrono::steady_clock::now() + std::chrono::seconds(options.grace_s);
      }
    }
    if (kill_at && !killing && std::chrono::steady_clock::now() >= *kill_at) {
      SignalAll(workers, SIGKILL);  // a worker stuck in a collective or stopped: no more waiting
      killing = true;
    }
    if (!stop_sent && cb.stop_requested && cb.stop_requested()) {
      stop_sent = true;
      SignalAll(workers, SIGTERM);  // each checkpoints (rank 0) and ends at the same step
    }
    // A worker's child holding the pipes open must not keep the launcher: once every
    // worker has exited, what is left in the pipes is read without waiting for EOF.
    if (std::all_of(workers.begin(), workers.end(), [](const Worker& w) { return w.exited; })) {
      for (auto& w : workers) {
        for (int* fd : {&w.out, &w.err}) {
          if (*fd < 0) continue;
          fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) | O_NONBLOCK);
          std::string& buf = fd == &w.out ? w.out_buf : w.err_buf;
          const auto sink = fd == &w.out ? out_sink(w) : log(w.rank);
          while (*fd >= 0 && Drain(*fd, buf, sink)) {
          }
          if (*fd >= 0) {
            if (!buf.empty()) sink(buf);
            buf.clear();
            close(*fd);
            *fd = -1;
          }
        }
      }
    }
  }
  WorkerLaunchResult result;
  if (const Worker* w = RootFailure(exit_order)) {
    result.failure = Describe(*w);
    result.exit_code = ExitCode(*w);
  }
  return result;
}

}  // namespace animerun::train
