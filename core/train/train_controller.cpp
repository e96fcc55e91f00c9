#include "core/train/train_controller.h"

#include <unistd.h>

#include <csignal>
#include <cstring>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "core/train/trainer.h"
#include "core/util/error.h"

namespace animerun::train {

namespace fs = std::filesystem;

namespace {

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return std::string();
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// "Iteration 5 / 400   loss 0.1234   accuracy 0.250   lr 0.0001   0.12 s per update": every
// numeric field of the step event, losses first.
std::string StepText(const nlohmann::json& e, int iter, int total) {
  std::vector<std::string> losses, others;
  for (const auto& [key, value] : e.items()) {
    if (!value.is_number() || key == "iter" || key == "seconds" || key == "elapsed" || key == "skipped") continue;
    (key.find("loss") != std::string::npos ? losses : others).push_back(key);
  }
  std::string text = "Iteration " + std::to_string(iter) + " / " + std::to_string(total);
  for (const auto* list : {&losses, &others})
    for (const std::string& key : *list) {
      const double v = e[key].get<double>();
      if (key == "acc")
        text += "   accuracy " + Fixed(v, 3);
      else if (key.find("loss") != std::string::npos)
        text += "   " + key + " " + Fixed(v, 4);
      else {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.4g", v);
        text += "   " + key + " " + buf;
      }
    }
  if (e.contains("seconds") && e["seconds"].is_number()) text += "   " + Fixed(e["seconds"].get<double>(), 2) + " s per update";
  return text;
}

}  // namespace

TrainController::TrainController(PostFn post) : child_(std::move(post)), program_(DefaultProgram()) {}

TrainController::~TrainController() {
  if (!Running()) return;
  Stop();
  if (!child_.WaitExited(10000)) child_.Kill();
}

std::string TrainController::DefaultProgram() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && self.filename() == "animerun") return self.string();
  const char* env = std::getenv("ANIMERUN_BIN");
  return env && *env ? std::string(env) : std::string("animerun");
}

TrainController::FlowComparison TrainController::ComparisonOf(const std::string& run_dir) {
  FlowComparison out;
  const fs::path dir = Trim(run_dir);
  std::ifstream in(dir / kConfigFile);
  const nlohmann::json config = in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
  if (!config.is_object()) {
    out.error = (dir / kConfigFile).string() + ": no readable run configuration";
    return out;
  }
  if (config.value("task", std::string()) != "flow") {
    out.error = run_dir + ": not a flow training run";
    return out;
  }
  std::error_code ec;
  const fs::path weights = dir / "flow_weights_last.pth";
  if (!fs::is_regular_file(weights, ec)) {
    out.error = weights.string() + " is not written yet (it is exported when the run stops or ends)";
    return out;
  }
  out.ok = true;
  out.model = config.value("model", std::string());
  out.trained_weights = weights.string();
  out.start_weights = config.value("init_weights", std::string());
  return out;
}

bool TrainController::HasFlowWeights() const { return !run_dir_.empty() && ComparisonOf(run_dir_).ok; }

bool TrainController::CanResume(const std::string& run_dir) {
  std::error_code ec;
  return !run_dir.empty() && fs::exists(fs::path(run_dir) / kCheckpointFile, ec);
}

void TrainController::Log(const std::string& line) {
  last_log_ = line;
  Notify(Event::kLog);
}

void TrainController::Fail(const std::string& message) {
  last_error_ = message;
  Log("error: " + message);
  status_ = "Error: " + message;
  Notify(Event::kState);
  Notify(Event::kError);
}

void TrainController::SetPhase(Phase phase, const std::string& status) {
  phase_ = phase;
  status_ = status;
  Notify(Event::kState);
}

namespace {

// --nproc N for N > 1 (nothing for one process), after checking what the launcher checks.
std::vector<std::string> ProcessArgs(int processes) {
  Require(processes >= 1 && processes <= 1024, "processes must be in 1..1024");
  if (processes == 1) return {};
  return {"--nproc", std::to_string(processes)};
}

}  // namespace

bool TrainController::Start(const TrainOptions& options, const std::string& run_dir, int processes) {
  if (Running()) return false;
  const std::string dir = Trim(run_dir);
  if (dir.empty()) {
    Fail("Choose a run folder first.");
    return false;
  }
  std::vector<std::string> nproc;
  try {
    options.Check();
    nproc = ProcessArgs(processes);
    if (options.task == "flow")
      Require(options.batch_size >= processes, "batch_size (" + std::to_string(options.batch_size) +
                                                   ") must be at least the number of processes (" +
                                                   std::to_string(processes) + "): each takes a share of a batch");
    else
      Require(options.accumulation >= processes, "accumulation (" + std::to_string(options.accumulation) +
                                                     ") must be at least the number of processes (" +
                                                     std::to_string(processes) + "): each takes some of the samples");
  } catch (const Error& e) {
    Fail(e.what());
    return false;
  }
  // Every field goes on the command line, so the child runs exactly these options.
  std::vector<std::string> args = {"train", "--preset", TrainPresetNames().front(), "--out", dir};
  args.insert(args.begin() + 1, nproc.begin(), nproc.end());
  const nlohmann::json fields = options.ToJson();
  for (const auto& [key, value] : fields.items()) {
    args.push_back("--set");
    args.push_back(key + "=" + (value.is_string() ? value.get<std::string>() : value.dump()));
  }
  run_dir_ = dir;
  curves_.Clear();
  last_iter_ = 0;
  last_checkpoint_ = 0;
  Notify(Event::kCurves);
  return Launch(args, false);
}

bool TrainController::Resume(const std::string& run_dir, int iterations, int processes) {
  if (Running()) return false;
  std::vector<std::string> nproc;
  try {
    nproc = ProcessArgs(processes);
  } catch (const Error& e) {
    Fail(e.what());
    return false;
  }
  run_dir_ = Trim(run_dir);
  curves_.Clear();
  last_iter_ = 0;
  last_checkpoint_ = 0;
  ReplayEvents();
  Notify(Event::kCurves);
  std::vector<std::string> args = {"train", "--out", run_dir_, "--resume", "--set",
                                   "iterations=" + std::to_string(iterations)};
  args.insert(args.begin() + 1, nproc.begin(), nproc.end());
  return Launch(args, true);
}

void TrainController::Stop() {
  if (!Running()) return;
  std::ofstream stop(fs::path(run_dir_) / kStopFile);
  if (!stop) child_.Terminate();  // SIGTERM is graceful too
  SetPhase(Phase::kStopping, "Stopping: finishing the current sample and writing a checkpoint...");
}

void TrainController::Kill() { child_.Kill(); }

bool TrainController::Launch(const std::vector<std::string>& args, bool resume) {
  done_reason_.clear();
  error_event_ = false;
  crash_report_.clear();
  stderr_tail_.clear();
  std::string command = "$ " + program_;
  for (const std::string& a : args) command += " " + a;
  Log(command);
  ChildProcess::Callbacks callbacks;
  callbacks.stdout_line = [this](const std::string& line) { HandleLine(line); };
  callbacks.stderr_text = [this](const std::string& text) {
    const std::string t = Trim(text);
    if (t.empty()) return;
    stderr_tail_.push_back(t);
    if (stderr_tail_.size() > 5) stderr_tail_.erase(stderr_tail_.begin());
    Log(t);
  };
  callbacks.exited = [this](int code, bool signaled, int signal) { OnExited(code, signaled, signal); };
  try {
    child_.Start(program_, args, callbacks);
  } catch (const Error& e) {
    phase_ = Phase::kFailed;
    Fail("Cannot run " + program_ + ": " + e.what());
    return false;
  }
  SetPhase(Phase::kRunning, resume ? "Resuming..." : "Starting...");
  return true;
}

void TrainController::HandleLine(const std::string& raw) {
  const std::string line = Trim(raw);
  if (line.empty()) return;
  const nlohmann::json e = nlohmann::json::parse(line, nullptr, false);
  if (e.is_discarded() || !e.is_object() || !e.contains("event")) {
    Log(line);  // not an event: show it as it is
    return;
  }
  HandleEvent(e, false);
}

void TrainController::ReplayEvents() {
  std::ifstream in(fs::path(run_dir_) / kEventsFile);
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json e = nlohmann::json::parse(line, nullptr, false);
    if (e.is_object() && e.contains("event")) HandleEvent(e, true);
  }
}

void TrainController::HandleEvent(const nlohmann::json& e, bool replay) {
  const std::string type = e.value("event", "");
  const int iter = e.contains("iter") && e["iter"].is_number_integer() ? e["iter"].get<int>() : 0;
  if (type == "start") {
    total_iters_ = e.contains("iterations") && e["iterations"].is_number_integer() ? e["iterations"].get<int>() : 0;
    if (!replay) Notify(Event::kState);
  } else if (type == "step") {
    if (!curves_.Add(e) && iter <= last_iter_) return;  // a replayed or repeated update (resume after a stop)
    last_iter_ = std::max(last_iter_, iter);
    if (!replay) status_ = StepText(e, iter, total_iters_);
    Notify(Event::kCurves);
    if (!replay) Notify(Event::kState);
  } else if (type == "eval") {
    if (curves_.Add(e)) Notify(Event::kCurves);
    if (!replay) Log("validation at " + std::to_string(iter) + ": " + (e.contains("metrics") ? e["metrics"].dump() : "{}"));
  } else if (type == "checkpoint") {
    last_checkpoint_ = iter;
    if (!replay) Log("checkpoint at iteration " + std::to_string(iter));
  } else if (type == "done") {
    if (!replay) done_reason_ = e.contains("reason") && e["reason"].is_string() ? e["reason"].get<std::string>() : "";
    if (!replay && done_reason_.empty()) done_reason_ = "finished";
  } else if (type == "error") {
    if (!replay) error_event_ = true;
    if (!replay) Fail(e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "training failed");
  } else if (!replay) {
    Log(e.dump());  // an event this version does not know: kept in the log
  }
  if (!replay) {
    last_event_type_ = type;
    last_event_iter_ = iter;
    Notify(Event::kEvent);
  }
}

void TrainController::OnExited(int exit_code, bool signaled, int signal) {
  exit_code_ = exit_code;
  const bool crashed = signaled || (done_reason_.empty() && !error_event_);
  if (!signaled && error_event_) {
    // The trainer reported why it stopped (bad options, unreadable data): an error, not a crash.
    SetPhase(Phase::kFailed, "Failed: " + last_error_);
  } else if (crashed) {
    // What happened, in the words a user needs to decide: the cause, how far it got, and
    // what Resume will do (checkpoints are written atomically, so the last one is whole).
    std::string cause;
    if (signaled) {
      const char* name = sigabbrev_np(signal);
      cause = "was killed by signal " + std::to_string(signal) + (name ? std::string(" (SIG") + name + ")" : "");
      if (signal == SIGKILL) cause += ", as the out-of-memory killer or a kill -9 does";
      if (signal == SIGSEGV || signal == SIGBUS || signal == SIGABRT || signal == SIGILL || signal == SIGFPE)
        cause += ": it crashed";
    } else {
      cause = "exited with code " + std::to_string(exit_code) + " without finishing";
    }
    crash_report_ = "The training process " + cause + " after iteration " + std::to_string(last_iter_) + ". ";
    if (CanResume(run_dir_)) {
      crash_report_ += last_checkpoint_ > 0 ? "Its checkpoint of iteration " + std::to_string(last_checkpoint_) +
                                                  " is kept: Resume continues from there."
                                            : "Its last checkpoint is kept: Resume continues from there.";
    } else {
      crash_report_ += "No checkpoint was written yet, so the run has to start again.";
    }
    if (!stderr_tail_.empty()) crash_report_ += "\nLast output: " + stderr_tail_.back();
    Log(crash_report_);
    SetPhase(Phase::kCrashed, "Ended unexpectedly at iteration " + std::to_string(last_iter_));
  } else if (done_reason_ == "stopped") {
    SetPhase(Phase::kStopped,
             "Stopped at iteration " + std::to_string(last_iter_) + " (checkpoint written; Resume continues)");
  } else {
    SetPhase(Phase::kFinished, "Finished: " + std::to_string(last_iter_) + " iterations");
  }
  Notify(Event::kFinished);
}

}  // namespace animerun::train
