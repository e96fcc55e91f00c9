// A training run as the GUI drives it, Qt-free: `animerun train` launched as a child
// process (ChildProcess: a crash or an out-of-memory kill there never takes the GUI down)
// with the options of a TrainOptions struct and a run folder, its JSON-lines events
// (trainer.h) turned into curves (TrainCurves: every numeric field is a series) and state,
// a graceful stop (RUN_DIR/STOP: the trainer checkpoints and exits), resume from the run's
// checkpoint with the earlier curve replayed from RUN_DIR/events.jsonl, and a child that
// ended without a "done" event reported as crashed. Unknown events and fields are kept in
// the log and the curves, never an error.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/jobs/job_runner.h"
#include "core/train/train_curves.h"
#include "core/train/train_options.h"
#include "core/util/child_process.h"
#include "core/util/observers.h"

namespace animerun::train {

class TrainController {
 public:
  enum class Phase { kIdle, kRunning, kStopping, kFinished, kStopped, kCrashed, kFailed };
  enum class Event {
    kState,     // phase(), Status() or the progress changed
    kLog,       // a log line: LastLogLine()
    kCurves,    // curves() changed
    kEvent,     // the child reported an event: LastEventType(), LastEventIter()
    kError,     // an action failed: LastError()
    kFinished,  // the child ended: ExitCode(), Stopped(), Crashed()
  };

  explicit TrainController(PostFn post);
  ~TrainController();  // a running child is stopped gracefully, killed after 10 s
  TrainController(const TrainController&) = delete;
  TrainController& operator=(const TrainController&) = delete;

  int Observe(std::function<void(Event)> fn) { return observers_.Add(std::move(fn)); }
  void Unobserve(int id) { observers_.Remove(id); }

  // The animerun executable: this program when it is animerun, else $ANIMERUN_BIN, else
  // "animerun" on PATH.
  static std::string DefaultProgram();
  void SetProgram(const std::string& program) { program_ = program; }
  const std::string& program() const { return program_; }

  // A new run of options in run_dir; false (LastError) when the options are invalid, the
  // folder is not given, a run is going or the program cannot be started. processes > 1
  // trains data-parallel on this machine (`animerun train --nproc N`, docs/training.md):
  // the same run as one process, the cores shared out; a flow batch (an AnT update's
  // accumulated samples) must hold at least one sample per process.
  bool Start(const TrainOptions& options, const std::string& run_dir, int processes = 1);
  // Continues the run in run_dir from its checkpoint up to `iterations` updates, after
  // redrawing its curves from its events file (a data-parallel run resumes with the same
  // number of processes).
  bool Resume(const std::string& run_dir, int iterations, int processes = 1);
  // Graceful: RUN_DIR/STOP (SIGTERM when it cannot be written).
  void Stop();
  void Kill();
  bool Running() const { return child_.Running(); }
  // Blocks until the child ended or timeout_ms passes (closing the GUI); true when ended.
  bool WaitExited(int timeout_ms) { return child_.WaitExited(timeout_ms); }
  // run_dir holds a checkpoint to resume from.
  static bool CanResume(const std::string& run_dir);

  // A finished or stopped flow run, for a before/after comparison in the Flow panel: the
  // network, the weights it exported and the weights it started from ("" when it started
  // from random weights). ok = false with the reason when run_dir holds no flow weights.
  struct FlowComparison {
    bool ok = false;
    std::string error;
    std::string model, trained_weights, start_weights;
  };
  static FlowComparison ComparisonOf(const std::string& run_dir);
  // Exports weights this session can compare (the run folder of the last Start/Resume).
  bool HasFlowWeights() const;
  const std::string& RunDir() const { return run_dir_; }

  // The child's output, as the reader delivers it (public so that tests can feed lines).
  void HandleLine(const std::string& line);
  void HandleEvent(const nlohmann::json& event, bool replay);

  Phase phase() const { return phase_; }
  const std::string& Status() const { return status_; }
  int LastIteration() const { return last_iter_; }
  int TotalIterations() const { return total_iters_; }
  const TrainCurves& curves() const { return curves_; }
  const std::string& LastLogLine() const { return last_log_; }
  const std::string& LastEventType() const { return last_event_type_; }
  int LastEventIter() const { return last_event_iter_; }
  int ExitCode() const { return exit_code_; }
  bool Stopped() const { return phase_ == Phase::kStopped; }
  bool Crashed() const { return phase_ == Phase::kCrashed; }
  // After a crash: what happened (the signal or exit code, the last iteration reached, the
  // checkpoint Resume continues from, the last error output) in words for the dialog.
  const std::string& CrashReport() const { return crash_report_; }
  // The iteration of the run's last checkpoint event (0 when none was written).
  int LastCheckpointIteration() const { return last_checkpoint_; }
  // The running child's process id (-1 when none): tests inject crashes with it.
  int ChildPid() const { return child_.pid(); }
  const std::string& LastError() const { return last_error_; }

 private:
  bool Launch(const std::vector<std::string>& args, bool resume);
  void ReplayEvents();
  void OnExited(int exit_code, bool signaled, int signal);
  void Fail(const std::string& message);
  void Log(const std::string& line);
  void SetPhase(Phase phase, const std::string& status);
  void Notify(Event e) const { observers_.Notify(e); }

  ChildProcess child_;
  Observers<Event> observers_;
  std::string program_;
  std::string run_dir_;
  Phase phase_ = Phase::kIdle;
  std::string status_ = "Idle";
  TrainCurves curves_;
  int last_iter_ = 0, total_iters_ = 0;
  std::string done_reason_;
  std::string last_log_, last_event_type_, last_error_;
  int last_event_iter_ = 0;
  int exit_code_ = 0;
  int last_checkpoint_ = 0;
  bool error_event_ = false;  // the child reported an error before it exited
  std::string crash_report_;
  std::vector<std::string> stderr_tail_;  // the child's last error lines, for the crash report
};

}  // namespace animerun::train
