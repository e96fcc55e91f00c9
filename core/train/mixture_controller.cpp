#include "core/train/mixture_controller.h"

#include <algorithm>
#include <filesystem>
#include <memory>

#include "core/data/flow_datasets.h"
#include "core/data/flow_mixture.h"
#include "core/jobs/job.h"
#include "core/util/error.h"

namespace animerun::train {

namespace {

bool KnownKind(const std::string& kind) {
  const auto& kinds = data::FlowSetKinds();
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

std::string Sizes(const std::map<std::string, int64_t>& resolutions) {
  std::string s;
  for (const auto& [size, n] : resolutions)
    s += (s.empty() ? "" : ", ") + size + (resolutions.size() > 1 ? " x" + std::to_string(n) : "");
  return s;
}

}  // namespace

MixtureController::MixtureController(PostFn post) : runner_(std::move(post)) {}

MixtureController::~MixtureController() { runner_.Stop(); }

bool MixtureController::Refuse(const std::string& message) {
  last_error_ = message;
  Notify(Event::kError);
  return false;
}

void MixtureController::Changed(int row) {
  ++generation_;
  if (row >= 0 && row < static_cast<int>(rows_.size())) {
    MixtureRow& r = rows_[static_cast<size_t>(row)];
    const MixtureRow keep{r.kind, r.path, r.repeat};
    r = keep;  // the scan results no longer describe the row
  }
  Notify(Event::kRows);
}

bool MixtureController::SetOptions(const TrainOptions& options) {
  std::vector<data::FlowMixtureEntry> entries;
  try {
    entries = data::ParseFlowMixture(options.datasets);
  } catch (const Error& e) {
    options_ = options;
    return Refuse(std::string("datasets: ") + e.what());
  }
  // An unchanged spec over the same default folders keeps the scan results.
  const bool same = options.datasets == Spec() && options.data == options_.data &&
                    options.things_root == options_.things_root && options.sintel_root == options_.sintel_root &&
                    options.creative_root == options_.creative_root && options.pairs_file == options_.pairs_file &&
                    options.train_split == options_.train_split && options.pass == options_.pass;
  options_ = options;
  if (same && !rows_.empty()) return true;
  rows_.clear();
  for (const auto& e : entries) rows_.push_back({e.kind, e.path, e.repeat});
  ++generation_;
  Notify(Event::kRows);
  return true;
}

std::string MixtureController::Spec() const {
  std::vector<data::FlowMixtureEntry> entries;
  for (const MixtureRow& r : rows_) {
    // A path equal to the options' folder for the kind is written as the short form.
    const bool default_path = !r.path.empty() && r.path == options_.FlowRoot(r.kind);
    entries.push_back({r.kind, default_path ? std::string() : r.path, r.repeat});
  }
  return data::FormatFlowMixture(entries);
}

void MixtureController::ApplyTo(TrainOptions* options) const { options->datasets = Spec(); }

bool MixtureController::AddPath(const std::string& path, int repeat) {
  if (path.empty()) return Refuse("Choose a dataset folder or a pairs list file.");
  const std::string kind = data::DetectFlowSetKind(path);
  // An unknown kind still gets its row (the user picks the kind there), but says why.
  std::error_code ec;
  const std::string guess = std::filesystem::is_regular_file(path, ec) ? "pairs" : "anime";
  AddRow(kind.empty() ? guess : kind, path, repeat);
  if (kind.empty())
    return Refuse(path + ": not a known dataset layout (AnimeRun, FlyingThings3D, MPI-Sintel, Creative Flow+) "
                         "nor a .txt/.json pairs list; choose its kind in the table");
  return true;
}

void MixtureController::AddRow(const std::string& kind, const std::string& path, int repeat) {
  rows_.push_back({KnownKind(kind) ? kind : "anime", path, std::max(1, repeat)});
  Changed(static_cast<int>(rows_.size()) - 1);
}

void MixtureController::Remove(int row) {
  if (row < 0 || row >= static_cast<int>(rows_.size())) return;
  rows_.erase(rows_.begin() + row);
  Changed(-1);
}

bool MixtureController::SetKind(int row, const std::string& kind) {
  if (row < 0 || row >= static_cast<int>(rows_.size())) return false;
  if (!KnownKind(kind)) return Refuse("unknown dataset kind '" + kind + "'");
  rows_[static_cast<size_t>(row)].kind = kind;
  Changed(row);
  return true;
}

void MixtureController::SetPath(int row, const std::string& path) {
  if (row < 0 || row >= static_cast<int>(rows_.size())) return;
  rows_[static_cast<size_t>(row)].path = path;
  Changed(row);
}

bool MixtureController::SetRepeat(int row, int repeat) {
  if (row < 0 || row >= static_cast<int>(rows_.size())) return false;
  if (repeat < 1) return Refuse("repetition factors are whole numbers >= 1");
  rows_[static_cast<size_t>(row)].repeat = repeat;
  Changed(row);
  return true;
}

std::string MixtureController::RootOf(int row) const {
  if (row < 0 || row >= static_cast<int>(rows_.size())) return std::string();
  const MixtureRow& r = rows_[static_cast<size_t>(row)];
  return r.path.empty() ? options_.FlowRoot(r.kind) : r.path;
}

int64_t MixtureController::EpochSize() const {
  int64_t n = 0;
  for (const MixtureRow& r : rows_)
    if (r.scanned && r.problem.empty()) n += r.pairs * r.repeat;
  return n;
}

void MixtureController::Scan() {
  struct Job {
    std::vector<data::FlowSetOptions> sets;
    std::vector<MixtureRow> found;
  };
  auto job = std::make_shared<Job>();
  for (int i = 0; i < static_cast<int>(rows_.size()); ++i) {
    data::FlowSetOptions s;
    s.kind = rows_[static_cast<size_t>(i)].kind;
    s.root = RootOf(i);
    if (s.kind == "anime") {
      s.split = options_.train_split;
      s.pass = options_.pass;
    }
    job->sets.push_back(s);
  }
  job->found = rows_;
  const int generation = generation_;
  const int n = static_cast<int>(rows_.size());
  scan_status_ = "Checking " + std::to_string(n) + " dataset(s)...";
  runner_.Start(
      [job, n](const JobContext& ctx) {
        for (int i = 0; i < n; ++i) {
          MixtureRow& r = job->found[static_cast<size_t>(i)];
          const data::FlowSetOptions& s = job->sets[static_cast<size_t>(i)];
          r.scanned = true;
          r.root = s.root.string();
          if (s.root.empty()) {
            std::string field;
            TrainOptions().FlowRoot(s.kind, &field);
            r.problem = "no folder: choose one, or set " + field;
            continue;
          }
          // Each set maps onto its share of the progress bar; cancel stops at the next file.
          SubJob sub(&ctx, static_cast<double>(i) / n, static_cast<double>(i + 1) / n, s.kind + ": ");
          try {
            const data::FlowSet set = data::IndexFlowSet(s, &sub);
            const data::FlowSetReport report = data::CheckFlowSet(set, &sub);
            r.pairs = report.pairs;
            r.sizes = Sizes(report.resolutions);
            if (!set.problems.empty())
              r.problem = std::to_string(set.problems.size()) + " folder(s) skipped: " + set.problems.front();
          } catch (const Cancelled&) {
            throw;
          } catch (const std::exception& e) {
            r.problem = e.what();
          }
        }
      },
      [this, job, generation](const JobOutcome& outcome) {
        if (outcome.cancelled) {
          scan_status_ = "Check cancelled";
        } else if (!outcome.ok) {
          scan_status_ = "Check failed: " + outcome.error;
        } else if (generation != generation_) {
          scan_status_ = "The mixture changed during the check: check again";
        } else {
          rows_ = job->found;
          int bad = 0;
          for (const MixtureRow& r : rows_) bad += !r.problem.empty();
          scan_status_ = bad ? std::to_string(bad) + " dataset(s) cannot be used (see the table)"
                             : std::to_string(EpochSize()) + " samples per epoch";
          Notify(Event::kRows);
        }
        Notify(Event::kScan);
      },
      [this](double fraction, const std::string& message) {
        scan_status_ = "Checking (" + std::to_string(static_cast<int>(fraction * 100)) + "%) " + message;
        Notify(Event::kScan);
      });
  Notify(Event::kScan);
}

}  // namespace animerun::train
