#include "core/colorize/colorize_controller.h"

#include <algorithm>
#include <mutex>

#include "core/data/animerun_dataset.h"
#include "core/flow/flow_models.h"
#include "core/util/error.h"

namespace animerun::colorize {

namespace fs = std::filesystem;

// What a job hands back to the owner's thread (written by the worker, read after it ended).
struct ColorizeController::Pending {
  ColorizeOptions options;
  std::vector<FrameOutcome> frames;
  std::vector<ColourState> keys;
  int written = 0;
};

// The matcher stays loaded between propagations (AnT and flow networks load weights); a
// new cache is made whenever the matcher settings change.
struct ColorizeController::MatcherCache {
  std::mutex mutex;
  std::unique_ptr<segments::SegmentMatcher> matcher;
};

ColorizeController::ColorizeController(PostFn post) : runner_(std::move(post)) {
  options_.mode = "forward";  // chained frame to frame: the artists' default
}

ColorizeController::~ColorizeController() { runner_.Stop(); }

void ColorizeController::SetStatus(const std::string& text) {
  status_ = text;
  Notify(Event::kStatus);
}

void ColorizeController::Fail(const std::string& error) {
  last_error_ = error;
  status_ = error;
  Notify(Event::kStatus);
  Notify(Event::kError);
}

void ColorizeController::SetSequence(const std::vector<fs::path>& refs, const std::vector<fs::path>& ref_segs,
                                     const fs::path& frames) {
  options_.refs = refs;
  options_.ref_segs = ref_segs;
  options_.frames = frames;
  have_sequence_ = !refs.empty() && !frames.empty();
  overrides_.clear();
  keys_.clear();
  frames_.clear();
  current_ = 0;
  Notify(Event::kResults);
  Notify(Event::kJob);
  if (have_sequence_ && auto_propagate_) Propagate();
}

void ColorizeController::Clear() {
  runner_.Cancel();
  restart_ = false;
  SetSequence({}, {}, {});
}

bool ColorizeController::SetScene(const data::Scene& scene) {
  if (!scene.frames.empty() && !scene.pairs.empty() && have_sequence_ && options_.refs.size() == 1 &&
      options_.refs[0] == scene.frames[0] && options_.frames == scene.pairs[0].contour1.parent_path())
    return true;  // the cut set already: keep results and overrides
  if (scene.frames.empty() || scene.pairs.empty() || scene.pairs[0].contour1.empty()) {
    Fail(scene.name + ": no line art (contour/) to colour");
    return false;
  }
  std::vector<fs::path> segs;
  if (!scene.pairs[0].segment1.empty()) segs.push_back(scene.pairs[0].segment1);
  SetSequence({scene.frames[0]}, segs, scene.pairs[0].contour1.parent_path());
  return true;
}

void ColorizeController::SetMatcher(const std::string& name, const segments::MatcherOptions& options) {
  options_.matcher = name;
  options_.matcher_options = options;
  matcher_cache_.reset();
  Notify(Event::kSettings);
}

std::vector<std::string> ColorizeController::MatcherChoices() {
  std::vector<std::string> choices = {"geometric", "ant"};
  for (const std::string& m : flow::FlowModelNames()) choices.push_back("flow:" + m);
  return choices;
}

void ColorizeController::SetMatcherChoice(const std::string& choice, const std::string& weights) {
  segments::MatcherOptions m = options_.matcher_options;
  m.flow_model.reset();
  std::string name = choice;
  if (choice.rfind("flow:", 0) == 0) {
    flow::FlowRunOptions f;
    f.model = choice.substr(5);
    f.weights = weights;
    f.iters = 12;  // interactive: fewer refinement steps than the evaluation's 32
    m.flow_model = f;
    name = "flow";
  } else {
    m.weights = weights;
  }
  SetMatcher(name, m);
}

std::string ColorizeController::MatcherChoice() const {
  const auto& m = options_.matcher_options;
  return options_.matcher == "flow" && m.flow_model ? "flow:" + m.flow_model->model : options_.matcher;
}

std::string ColorizeController::MatcherWeights() const {
  const auto& m = options_.matcher_options;
  return options_.matcher == "flow" && m.flow_model ? m.flow_model->weights : m.weights;
}

void ColorizeController::SetMode(const std::string& mode) {
  if (mode == options_.mode) return;
  options_.mode = mode;
  Notify(Event::kSettings);
  if (!frames_.empty()) Propagate();
}

void ColorizeController::SetKeepLines(bool keep) {
  if (keep == options_.keep_lines) return;
  options_.keep_lines = keep;
  Notify(Event::kSettings);
  Notify(Event::kResults);
}

const FrameOutcome* ColorizeController::Frame(int index) const {
  return index >= 0 && index < FrameCount() ? &frames_[static_cast<size_t>(index)] : nullptr;
}

int64_t ColorizeController::TotalUnfilled() const {
  int64_t n = 0;
  for (const auto& f : frames_)
    for (char filled : f.state.filled) n += !filled;
  return n;
}

cv::Mat ColorizeController::RenderFrame(int index) const {
  const FrameOutcome* f = Frame(index);
  return f ? RenderColourised(f->state, options_.keep_lines, options_.unfilled) : cv::Mat();
}

cv::Mat ColorizeController::RenderKey() const {
  return keys_.empty() ? cv::Mat() : RenderColourised(keys_[0], options_.keep_lines, options_.unfilled);
}

void ColorizeController::SetCurrent(int index) {
  const int n = FrameCount();
  const int c = n ? std::clamp(index, 0, n - 1) : index;
  if (c == current_) return;
  current_ = c;
  Notify(Event::kCurrent);
}

void ColorizeController::Step(int delta) {
  const int n = FrameCount();
  if (n == 0) return;
  current_ = ((current_ + delta) % n + n) % n;
  Notify(Event::kCurrent);
}

int ColorizeController::PaintAt(cv::Point p, const cv::Vec3b& rgb) {
  if (current_ < 0 || current_ >= FrameCount()) return -1;
  ColourState& state = frames_[static_cast<size_t>(current_)].state;
  const int id = SegmentAt(state, p);
  if (id < 0) return -1;
  overrides_[state.name][id] = rgb;
  // Shown at once; the re-propagation carries it to the matched segments of later frames.
  ApplyOverrides({{id, rgb}}, state);
  painted_frame_ = current_;
  Notify(Event::kPainted);
  SetStatus("Painted segment " + std::to_string(id) + " of " + state.name);
  Propagate();
  return id;
}

int ColorizeController::PaintKeyAt(cv::Point p, const cv::Vec3b& rgb) {
  if (keys_.empty()) return -1;
  ColourState& key = keys_[0];
  const int id = SegmentAt(key, p);
  if (id < 0) return -1;
  overrides_[KeyOverrideName(key.name)][id] = rgb;
  ApplyOverrides({{id, rgb}}, key);
  painted_frame_ = -1;
  Notify(Event::kPainted);
  Propagate();
  return id;
}

void ColorizeController::ClearOverrides() {
  if (overrides_.empty()) return;
  overrides_.clear();
  Propagate();
}

void ColorizeController::Propagate() {
  if (!have_sequence_) return;
  if (runner_.Running()) {
    // Restart when the running job has stopped; an export is left to finish.
    restart_ = true;
    if (job_kind_ == Job::kPropagate) runner_.Cancel();
    return;
  }
  StartPropagation();
}

void ColorizeController::StartPropagation() {
  restart_ = false;
  last_error_.clear();
  // No weights chosen: the network's built-in weights, where the binary has them.
  ColorizeOptions options = options_;
  options.matcher_options = segments::WithBuiltinWeights(options.matcher, options.matcher_options);
  try {
    options.Check(/*need_out=*/false);
  } catch (const Error& e) {
    Fail(e.what());
    return;
  }
  if (!matcher_cache_) matcher_cache_ = std::make_shared<MatcherCache>();
  auto pending = std::make_shared<Pending>();
  pending->options = options;
  pending_ = pending;
  job_kind_ = Job::kPropagate;
  const Overrides overrides = overrides_;
  auto cache = matcher_cache_;
  job_progress_ = 0.0;
  status_ = "Propagating with " + options_.matcher + " (" + options_.mode + ")…";
  runner_.Start(
      [pending, overrides, cache](const JobContext& job) {
        std::lock_guard<std::mutex> lock(cache->mutex);
        if (!cache->matcher)
          cache->matcher = segments::CreateMatcher(pending->options.matcher, pending->options.matcher_options);
        pending->keys = colorize::Propagate(pending->options, *cache->matcher, overrides,
                                  [&](FrameOutcome&& f) { pending->frames.push_back(std::move(f)); }, &job);
        std::sort(pending->frames.begin(), pending->frames.end(),
                  [](const FrameOutcome& a, const FrameOutcome& b) { return a.index < b.index; });
      },
      [this](const JobOutcome& outcome) { OnFinished(outcome); },
      [this](double f, const std::string& m) {
        job_progress_ = f;
        status_ = m;
        Notify(Event::kJob);
      });
  Notify(Event::kStatus);
  Notify(Event::kJob);
}

bool ColorizeController::ExportTo(const fs::path& dir) {
  if (frames_.empty() || runner_.Running()) {
    last_error_ = frames_.empty() ? "Nothing to export: propagate first" : "Busy: wait or cancel first";
    SetStatus(last_error_);
    return false;
  }
  last_error_.clear();
  auto pending = std::make_shared<Pending>();
  pending->options = options_;
  pending->options.out = dir;
  pending->frames = frames_;  // cv::Mat copies share pixels; nothing changes them meanwhile
  pending_ = pending;
  job_kind_ = Job::kExport;
  export_dir_ = dir;
  const std::string matcher = options_.matcher;
  job_progress_ = 0.0;
  status_ = "Exporting " + std::to_string(frames_.size()) + " frame(s) to " + dir.string() + "…";
  runner_.Start(
      [pending, matcher](const JobContext& job) {
        fs::create_directories(pending->options.out);
        const double n = static_cast<double>(pending->frames.size());
        for (const auto& f : pending->frames) {
          job.CheckCancel();
          WriteFrameOutputs(pending->options, f, matcher);
          ++pending->written;
          job.Report(pending->written / n, "exported " + f.state.name);
        }
      },
      [this](const JobOutcome& outcome) { OnFinished(outcome); },
      [this](double f, const std::string& m) {
        job_progress_ = f;
        status_ = m;
        Notify(Event::kJob);
      });
  Notify(Event::kStatus);
  Notify(Event::kJob);
  return true;
}

void ColorizeController::Cancel() {
  restart_ = false;
  runner_.Cancel();
}

void ColorizeController::OnFinished(const JobOutcome& outcome) {
  const Job kind = job_kind_;
  job_kind_ = Job::kNone;
  std::shared_ptr<Pending> pending = std::move(pending_);
  last_ok_ = outcome.ok;
  if (kind == Job::kPropagate) {
    // A result for a sequence no longer set (the cut changed meanwhile) is dropped.
    const bool current = pending && pending->options.refs == options_.refs && pending->options.frames == options_.frames;
    if (outcome.ok && current) {
      frames_ = std::move(pending->frames);
      keys_ = std::move(pending->keys);
      if (!frames_.empty()) current_ = std::clamp(current_, 0, FrameCount() - 1);
      Notify(Event::kResults);
      SetStatus("Propagated " + std::to_string(frames_.size()) + " frame(s) with " + pending->options.matcher + " (" +
                pending->options.mode + "): " + std::to_string(TotalUnfilled()) + " unfilled segment(s)");
    } else if (!outcome.ok && !outcome.cancelled) {
      Fail(outcome.error);
    } else if (!restart_) {
      SetStatus("Propagation cancelled");
    }
  } else if (kind == Job::kExport) {
    if (outcome.ok)
      SetStatus("Exported " + std::to_string(pending ? pending->written : 0) + " frame(s) to " + export_dir_.string());
    else if (outcome.cancelled)
      SetStatus("Export cancelled");
    else
      Fail(outcome.error);
  }
  Notify(Event::kJob);
  if (restart_ && have_sequence_) {
    StartPropagation();
    return;
  }
  if (kind == Job::kPropagate) Notify(Event::kPropagated);
  if (kind == Job::kExport) Notify(Event::kExported);
}

}  // namespace animerun::colorize
