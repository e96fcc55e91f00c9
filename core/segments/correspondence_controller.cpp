#include "core/segments/correspondence_controller.h"

#include <exception>
#include <system_error>

#include <opencv2/imgproc.hpp>

#include "core/view/overlay.h"
#include "core/view/segment_view.h"

namespace animerun::segments {

namespace fs = std::filesystem;

namespace {

const cv::Vec3b kEditedTint(40, 200, 90);     // frame t: segments the artist changed
const cv::Vec3b kProposalEdge(40, 110, 255);  // frame t+1: the proposal's match when edited

// The outline (2 px) of the pixels where mask is set.
cv::Mat Outline(const cv::Mat& mask) {
  cv::Mat grad;
  cv::morphologyEx(mask, grad, cv::MORPH_GRADIENT, cv::getStructuringElement(cv::MORPH_RECT, {3, 3}));
  return grad;
}

}  // namespace

CorrespondenceController::CorrespondenceController(PostFn post) : runner_(std::move(post)) {}

CorrespondenceController::~CorrespondenceController() {
  runner_.Stop();
  if (Dirty()) {
    try {
      session_.Save(files_);
    } catch (const std::exception&) {
      // Nobody is left to tell; the edits of a closing panel cannot be saved elsewhere.
    }
  }
}

void CorrespondenceController::SetStatus(const std::string& text) {
  status_ = text;
  Notify(Event::kStatus);
}

void CorrespondenceController::Fail(const std::string& error) {
  last_error_ = error;
  status_ = error;
  Notify(Event::kStatus);
  Notify(Event::kError);
}

void CorrespondenceController::ClearPair(const std::string& message) {
  Save();
  runner_.Stop();
  has_session_ = false;
  session_ = AnnotationSession();
  files_ = AnnotationFiles();
  data_.reset();
  message_ = message;
  selected_ = -1;
  queue_.clear();
  queue_pos_ = -1;
  Notify(Event::kSession);
  Notify(Event::kJob);
}

void CorrespondenceController::SetPair(const fs::path& split_root, const data::FramePair& pair,
                                       std::shared_ptr<const data::PairData> data) {
  ClearPair();
  pair_ = pair;
  if (!data || data->segment1.empty() || data->segment2.empty()) {
    ClearPair("This pair has no segment maps (Segment/" + pair.scene + "/*.npy): nothing to annotate");
    return;
  }
  try {
    const int n0 = SegmentCount(data->segment1), n1 = SegmentCount(data->segment2);
    MatchProposal p;
    if (!data->match_forward.empty()) {
      p = ProposalFromGroundTruth(data->match_forward, n0);
    } else {  // no ground truth: everything unmatched until a matcher runs
      p.source = "none";
      p.matches.assign(static_cast<size_t>(n0), -1);
      p.confidence.assign(static_cast<size_t>(n0), 0.f);
    }
    session_ = AnnotationSession(n0, n1, std::move(p));
    session_.SetProtectedPath(pair.match_forward);
    const fs::path root = ChooseAnnotationRoot(split_root, fallback_dir_);
    // Named like the ground-truth file (frame t's name in AnimeRun), so that the tree is a
    // drop-in `eval-match --pred` folder.
    const std::string stem = pair.match_forward.empty() ? pair.name1 : pair.match_forward.stem().string();
    files_ = AnnotationFilesFor(root, pair.scene, stem);
  } catch (const std::exception& e) {
    ClearPair("Pair " + pair.name1 + " cannot be annotated");
    Fail(e.what());
    return;
  }
  data_ = std::move(data);
  has_session_ = true;
  message_.clear();
  status_ = "Edits are saved to " + files_.matches.string();
  // Saved edits, and changes journaled after the last save (a crash); unusable files are
  // moved aside by the core, never overwritten.
  OpenedAnnotation opened;
  try {
    opened = OpenSavedAnnotation(&session_, files_);
  } catch (const std::exception& e) {
    ClearPair("Pair " + pair.name1 + " cannot be annotated");
    Fail(e.what());
    return;
  }
  if (!opened.error.empty()) {
    std::string kept;
    for (const fs::path& f : opened.kept_aside) kept += (kept.empty() ? std::string() : std::string(", ")) + f.string();
    last_error_ = opened.error + "\nShowing the " +
                  (opened.restored                          ? "saved edits"
                   : session_.proposal().source == "gt" ? "ground truth"
                                                           : "pair unmatched") +
                  " instead; the unreadable file was kept as " + kept;
    Notify(Event::kSession);
    Fail(last_error_);
    ProposalChanged();
    return;
  }
  if (opened.restored) {
    status_ = "Restored " + std::to_string(session_.NumEdited()) + " edit(s) from " + files_.matches.string();
    if (opened.journaled > 0)
      status_ += ", " + std::to_string(opened.journaled) + " change(s) recovered after an interruption";
  }
  Notify(Event::kSession);
  Notify(Event::kStatus);
  ProposalChanged();
}

void CorrespondenceController::ProposalChanged() {
  queue_ = session_.ReviewQueue();
  queue_pos_ = -1;
  Notify(Event::kMatches);
}

void CorrespondenceController::Select(int id) {
  if (!has_session_) return;
  selected_ = id >= 0 && id < session_.NumSegments0() ? id : -1;
  Notify(Event::kSelection);
}

std::optional<int> CorrespondenceController::ClickAt(int frame, cv::Point pixel) {
  if (!has_session_) return std::nullopt;
  const int id = SegmentAt(frame, pixel);
  if (frame == 0) {
    Select(id);
    return std::nullopt;
  }
  if (selected_ < 0) {
    SetStatus("Select a segment of t first, then click its match in t+1.");
    return std::nullopt;
  }
  if (id < 0) return std::nullopt;
  return id;
}

int CorrespondenceController::SegmentAt(int frame, cv::Point pixel) const {
  if (!has_session_) return -1;
  return view::LabelAt(frame == 0 ? data_->segment1 : data_->segment2, pixel);
}

void CorrespondenceController::NextInQueue() {
  if (queue_.empty()) return;
  queue_pos_ = (queue_pos_ + 1) % static_cast<int>(queue_.size());
  Select(queue_[static_cast<size_t>(queue_pos_)]);
}

void CorrespondenceController::PrevInQueue() {
  if (queue_.empty()) return;
  queue_pos_ = queue_pos_ <= 0 ? static_cast<int>(queue_.size()) - 1 : queue_pos_ - 1;
  Select(queue_[static_cast<size_t>(queue_pos_)]);
}

bool CorrespondenceController::PrepareEdit(int id, int target, int* before) {
  if (!has_session_ || id < 0) {
    SetStatus("Select a segment of t first.");
    return false;
  }
  if (target < -1 || target >= session_.NumSegments1()) {
    Fail("Segment " + std::to_string(target) + " is not in frame t+1 (" + std::to_string(session_.NumSegments1()) +
         " segments)");
    return false;
  }
  *before = session_.MatchOf(id);
  if (*before == target) {
    SetStatus("Segment " + std::to_string(id) + " already has that match.");
    return false;
  }
  return true;
}

void CorrespondenceController::Edit(int id, int target) {
  try {
    session_.Set(id, target);
  } catch (const std::exception& e) {
    Fail(e.what());
    return;
  }
  selected_ = id;
  Notify(Event::kMatches);
  Notify(Event::kSelection);
}

bool CorrespondenceController::Save() {
  if (!Dirty()) return true;
  try {
    session_.Save(files_);
  } catch (const std::exception& e) {
    Fail(e.what());
    return false;
  }
  SetStatus("Saved " + std::to_string(session_.NumEdited()) + " edit(s) to " + files_.matches.string());
  Notify(Event::kSaved);
  return true;
}

void CorrespondenceController::MatcherEnded(bool ok, const std::string& message) {
  last_matcher_ok_ = ok;
  last_matcher_message_ = message;
  Notify(Event::kJob);
  Notify(Event::kMatcherFinished);
}

void CorrespondenceController::RunMatcher(const std::string& name, const MatcherOptions& options) {
  if (!has_session_) {
    Fail("No pair to match: open a dataset first.");
    MatcherEnded(false, last_error_);
    return;
  }
  if (name == "gt") {
    if (data_->match_forward.empty()) {
      Fail("This pair has no ground-truth matching (SegMatching/" + pair_.scene + "/forward)");
      MatcherEnded(false, last_error_);
      return;
    }
    session_.ReplaceProposal(ProposalFromGroundTruth(data_->match_forward, session_.NumSegments0()));
    ProposalChanged();
    SetStatus("Matches from the ground truth (" + std::to_string(session_.NumEdited()) + " edit(s) kept)");
    MatcherEnded(true, status_);
    return;
  }
  MatchInput input;
  input.image0 = data_->image1;
  input.image1 = data_->image2;
  input.labels0 = data_->segment1;
  input.labels1 = data_->segment2;
  input.flow = data_->flow_forward;
  auto result = std::make_shared<MatchResult>();
  SetStatus("Running matcher " + name + "…");
  runner_.Start(
      [name, options, input, result](const JobContext& job) {
        job.Report(0.0, "creating matcher " + name);
        // No weights chosen: the network's built-in weights, where the binary has them.
        std::unique_ptr<SegmentMatcher> m = CreateMatcher(name, WithBuiltinWeights(name, options));
        job.CheckCancel();
        job.Report(0.1, "matching segments (" + name + ")");
        *result = m->Match(input);
        job.CheckCancel();
      },
      [this, name, result](const JobOutcome& outcome) {
        if (!outcome.ok) {
          if (outcome.cancelled)
            SetStatus("Matcher " + name + " cancelled");
          else
            Fail("Matcher " + name + ": " + outcome.error);
          MatcherEnded(false, outcome.cancelled ? status_ : last_error_);
          return;
        }
        try {
          session_.ReplaceProposal(ProposalFromResult(*result, name));
        } catch (const std::exception& e) {
          Fail("Matcher " + name + ": " + e.what());
          MatcherEnded(false, last_error_);
          return;
        }
        ProposalChanged();
        SetStatus("Matches from " + name + " (" + std::to_string(session_.NumEdited()) +
                  " edit(s) kept); N steps through the least confident");
        MatcherEnded(true, status_);
      },
      [this](double, const std::string& message) {
        if (!message.empty()) SetStatus(message);
      });
  Notify(Event::kJob);
}

cv::Mat CorrespondenceController::Render(int frame) const {
  if (!has_session_) return cv::Mat();
  view::OverlayOptions o;
  o.boundaries = true;
  const int match = session_.MatchOf(selected_);
  cv::Mat img = view::ComposeFrameView(*data_, frame, o, frame == 0 ? selected_ : match);
  const cv::Mat& labels = frame == 0 ? data_->segment1 : data_->segment2;
  if (frame == 0 && session_.NumEdited() > 0) {
    // Edited segments tinted, so the artist sees what has been done.
    std::vector<uint8_t> edited(static_cast<size_t>(session_.NumSegments0()), 0);
    for (int i = 0; i < session_.NumSegments0(); ++i) edited[static_cast<size_t>(i)] = session_.IsEdited(i) && i != selected_ ? 255 : 0;
    cv::Mat mask(labels.size(), CV_8UC1);
    for (int y = 0; y < labels.rows; ++y) {
      const int* l = labels.ptr<int>(y);
      uint8_t* m = mask.ptr<uint8_t>(y);
      for (int x = 0; x < labels.cols; ++x)
        m[x] = l[x] >= 0 && l[x] < static_cast<int>(edited.size()) ? edited[static_cast<size_t>(l[x])] : 0;
    }
    view::TintMask(img, mask, kEditedTint, 0.35);
  }
  const int proposed = selected_ >= 0 ? session_.proposal().matches[static_cast<size_t>(selected_)] : -1;
  if (frame == 1 && session_.IsEdited(selected_) && proposed >= 0)
    view::PaintMask(img, Outline(view::SegmentMask(labels, proposed)), kProposalEdge);
  return img;
}

cv::Rect CorrespondenceController::SegmentBounds(int frame, int id) const {
  if (!has_session_ || id < 0) return cv::Rect();
  return cv::boundingRect(view::SegmentMask(frame == 0 ? data_->segment1 : data_->segment2, id));
}

}  // namespace animerun::segments
