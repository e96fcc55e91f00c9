// The dataset mixture of a flow training run as the training dialog's table edits it,
// Qt-free: one row per entry of TrainOptions::datasets (kind, folder, repetition factor),
// the kind a folder looks like, and what a scan found in it (pairs, resolutions, or the
// problem that stops training), written back as the datasets spec. A scan indexes and
// header-checks every set on a worker thread (the same CheckFlowSet the trainer runs
// before its first update), so the user sees a missing folder or a frame without its flow
// before starting a run.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/jobs/job_runner.h"
#include "core/train/train_options.h"
#include "core/util/observers.h"

namespace animerun::train {

struct MixtureRow {
  std::string kind;  // a data::FlowSetKinds() name
  std::string path;  // dataset folder (pairs: the list file); "" = the options' folder for the kind
  int repeat = 1;    // repetition factor (>= 1)
  // What the last scan found (cleared when the row changes):
  bool scanned = false;
  int64_t pairs = 0;       // training pairs found
  std::string sizes;       // "960x540" (or "960x540 x10, 1024x436 x2")
  std::string problem;     // why the set cannot be used ("" when it can)
  std::string root;        // the folder that was scanned (path or the kind's default)
};

class MixtureController {
 public:
  enum class Event {
    kRows,      // rows() changed (an edit or a new spec); Spec() follows it
    kScan,      // a scan started, progressed or ended: Scanning(), ScanStatus()
    kError,     // an edit was refused: LastError()
  };

  explicit MixtureController(PostFn post);
  ~MixtureController();
  MixtureController(const MixtureController&) = delete;
  MixtureController& operator=(const MixtureController&) = delete;

  int Observe(std::function<void(Event)> fn) { return observers_.Add(std::move(fn)); }
  void Unobserve(int id) { observers_.Remove(id); }

  // The rows of options.datasets; the options also give the default folders (data,
  // things_root, ...) and the AnimeRun split and pass. False (LastError, rows kept) when
  // the spec does not parse.
  bool SetOptions(const TrainOptions& options);
  // The spec of the rows ("anime:200,things@/data/FlyingThings3D:1").
  std::string Spec() const;
  // options->datasets = Spec().
  void ApplyTo(TrainOptions* options) const;

  const std::vector<MixtureRow>& rows() const { return rows_; }
  // A folder (or list file) as a new row, its kind detected; false (LastError) when the
  // kind cannot be told: the user picks it in the row.
  bool AddPath(const std::string& path, int repeat = 1);
  void AddRow(const std::string& kind, const std::string& path, int repeat);
  void Remove(int row);
  bool SetKind(int row, const std::string& kind);
  void SetPath(int row, const std::string& path);
  bool SetRepeat(int row, int repeat);
  // The folder a row reads: its path, or the options' default for its kind ("" when none).
  std::string RootOf(int row) const;

  // Indexes and checks every row on the worker thread; kScan on progress and at the end.
  void Scan();
  void CancelScan() { runner_.Cancel(); }
  bool Scanning() const { return runner_.Running(); }
  const std::string& ScanStatus() const { return scan_status_; }
  // Pairs of every usable row times its factor: the virtual epoch the trainer shuffles.
  int64_t EpochSize() const;
  const std::string& LastError() const { return last_error_; }

 private:
  void Changed(int row);
  bool Refuse(const std::string& message);
  void Notify(Event e) const { observers_.Notify(e); }

  JobRunner runner_;
  Observers<Event> observers_;
  TrainOptions options_;
  std::vector<MixtureRow> rows_;
  std::string scan_status_, last_error_;
  int generation_ = 0;  // bumped by every edit: a scan of older rows is dropped
};

}  // namespace animerun::train
