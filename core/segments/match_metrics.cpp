#include "core/segments/match_metrics.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <unordered_set>

#include "core/util/error.h"
#include "core/util/json_text.h"

namespace animerun::segments {

namespace {

// torch's true division of integer counts: both cast to float32, divided in float32.
double Ratio32(int64_t num, int64_t den) { return static_cast<double>(static_cast<float>(num) / static_cast<float>(den)); }

std::optional<double> Mean(const std::vector<double>& v) {
  if (v.empty()) return std::nullopt;
  double s = 0.0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

}  // namespace

MatchPairMetrics ComputeMatchPairMetrics(const std::vector<int>& pred, const std::vector<int>& gt,
                                         const cv::Mat& segment1, const cv::Mat& segment2, const std::string& name) {
  if (gt.empty()) throw Error(name + ": the ground-truth matching has no segments");
  if (pred.size() != gt.size())
    throw Error(name + ": prediction has " + std::to_string(pred.size()) + " segments but the ground truth has " +
                std::to_string(gt.size()));
  for (const cv::Mat* s : {&segment1, &segment2})
    if (!s->empty() && s->type() != CV_32SC1) throw Error(name + ": segment maps must be CV_32SC1 label maps");

  MatchPairMetrics m;
  m.num_segments = static_cast<int>(gt.size());
  std::vector<char> correct(gt.size(), 0);
  int64_t valid_total = 0, valid_correct = 0, invalid_correct = 0;
  for (size_t i = 0; i < gt.size(); ++i) {
    correct[i] = pred[i] == gt[i];
    m.num_correct += correct[i];
    if (gt[i] == -1) {
      ++m.num_gt_unmatched;
      invalid_correct += correct[i];
    } else {
      ++valid_total;
      valid_correct += correct[i];
    }
  }
  m.accuracy = Ratio32(m.num_correct, m.num_segments);
  if (valid_total > 0) m.valid_accuracy = Ratio32(valid_correct, valid_total);
  if (m.num_gt_unmatched > 0) m.invalid_accuracy = Ratio32(invalid_correct, m.num_gt_unmatched);

  if (!segment1.empty()) {
    // Pixel count per label; the official denominator sums the counts of labels
    // 0..K-1 with K the number of distinct labels (all pixels when ids are contiguous).
    std::vector<int64_t> hist;
    std::unordered_set<int> negatives;
    for (int y = 0; y < segment1.rows; ++y) {
      const int* p = segment1.ptr<int>(y);
      for (int x = 0; x < segment1.cols; ++x) {
        if (p[x] < 0) {
          negatives.insert(p[x]);
          continue;
        }
        if (static_cast<size_t>(p[x]) >= hist.size()) hist.resize(static_cast<size_t>(p[x]) + 1, 0);
        ++hist[p[x]];
      }
    }
    const int64_t distinct = static_cast<int64_t>(negatives.size()) +
                             std::count_if(hist.begin(), hist.end(), [](int64_t c) { return c > 0; });
    int64_t total = 0, hit = 0;
    for (int64_t k = 0; k < distinct && k < static_cast<int64_t>(hist.size()); ++k) total += hist[k];
    for (size_t i = 0; i < gt.size() && i < hist.size(); ++i)
      if (correct[i]) hit += hist[i];
    if (total == 0) throw Error(name + ": the segment map of frame t has no pixel in segments 0..K-1");
    // float32 count sum as the denominator, as in the official expression.
    m.area_accuracy = static_cast<double>(static_cast<float>(hit) / static_cast<float>(total));
  }
  if (!segment2.empty()) {
    double mx = 0.0;
    cv::minMaxLoc(segment2, nullptr, &mx);
    m.max_label2 = static_cast<int>(mx);
  }
  return m;
}

nlohmann::json MatchPairMetrics::ToJson() const {
  nlohmann::json j;
  j["scene"] = scene;
  j["name"] = name;
  j["segments"] = num_segments;
  j["gt_unmatched"] = num_gt_unmatched;
  j["acc"] = accuracy;
  j["valid_acc"] = OptionalJson(valid_accuracy);
  j["invalid_acc"] = OptionalJson(invalid_accuracy);
  j["area_acc"] = OptionalJson(area_accuracy);
  j["max_label2"] = max_label2 ? nlohmann::json(*max_label2) : nlohmann::json(nullptr);
  return j;
}

MatchMetrics SummarizeMatchPairs(const std::vector<const MatchPairMetrics*>& pairs) {
  MatchMetrics m;
  std::vector<double> acc, valid, invalid, large, area;
  bool missing_seg1 = false, missing_seg2 = false;
  for (const MatchPairMetrics* p : pairs) {
    acc.push_back(p->accuracy);
    if (p->valid_accuracy) valid.push_back(*p->valid_accuracy);
    if (p->invalid_accuracy) invalid.push_back(*p->invalid_accuracy);
    if (p->area_accuracy) area.push_back(*p->area_accuracy);
    else missing_seg1 = true;
    if (!p->max_label2) missing_seg2 = true;
    if (p->large()) large.push_back(p->accuracy);
    m.segments += p->num_segments;
  }
  m.pairs = static_cast<int64_t>(pairs.size());
  m.pairs_valid = static_cast<int64_t>(valid.size());
  m.pairs_invalid = static_cast<int64_t>(invalid.size());
  m.acc = Mean(acc);
  m.valid_acc = Mean(valid);
  m.invalid_acc = Mean(invalid);
  if (!missing_seg1) m.area_acc = Mean(area);
  if (!missing_seg2) {
    m.acc_300 = Mean(large);
    m.pairs_300 = static_cast<int64_t>(large.size());
  }
  return m;
}

nlohmann::json MatchMetrics::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  j["acc"] = OptionalJson(acc);
  j["valid_acc"] = OptionalJson(valid_acc);
  j["invalid_acc"] = OptionalJson(invalid_acc);
  j["acc_300"] = OptionalJson(acc_300);
  j["area_acc"] = OptionalJson(area_acc);
  j["pairs"] = pairs;
  j["pairs_valid"] = pairs_valid;
  j["pairs_invalid"] = pairs_invalid;
  j["pairs_300"] = pairs_300;
  j["segments"] = segments;
  return j;
}

void MatchMetricsAccumulator::Add(const MatchPairMetrics& pair) { pairs_.push_back(pair); }

MatchEvalResult MatchMetricsAccumulator::Result() const {
  MatchEvalResult r;
  r.per_pair = pairs_;
  std::vector<const MatchPairMetrics*> all;
  std::map<std::string, std::vector<const MatchPairMetrics*>> by_scene;
  for (const auto& p : r.per_pair) {
    all.push_back(&p);
    by_scene[p.scene].push_back(&p);
  }
  r.overall = SummarizeMatchPairs(all);
  for (const auto& [name, list] : by_scene) r.scenes[name] = SummarizeMatchPairs(list);
  return r;
}

nlohmann::json MatchEvalResult::ToJson(bool with_pairs) const {
  nlohmann::json j = overall.ToJson();
  nlohmann::json s = nlohmann::json::object();
  for (const auto& [name, m] : scenes) s[name] = m.ToJson();
  j["scenes"] = s;
  if (with_pairs) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : per_pair) list.push_back(p.ToJson());
    j["per_pair"] = list;
  }
  return j;
}

std::string FormatMatchTable(const MatchEvalResult& result) {
  std::ostringstream out;
  char buf[96];
  auto cell = [&](const std::optional<double>& v) {
    if (v) std::snprintf(buf, sizeof buf, " %9.4f", *v);
    else std::snprintf(buf, sizeof buf, " %9s", "-");
    out << buf;
  };
  std::snprintf(buf, sizeof buf, "%-20s %6s %9s %9s %9s %9s %9s\n", "scene", "pairs", "Acc", "Valid", "Invalid",
                ">300 Acc", "Area Acc");
  out << buf;
  auto row = [&](const std::string& name, const MatchMetrics& m) {
    std::snprintf(buf, sizeof buf, "%-20.20s %6lld", name.c_str(), static_cast<long long>(m.pairs));
    out << buf;
    cell(m.acc);
    cell(m.valid_acc);
    cell(m.invalid_acc);
    cell(m.acc_300);
    cell(m.area_acc);
    out << '\n';
  };
  for (const auto& [name, m] : result.scenes) row(name, m);
  row("ALL (mean of pairs)", result.overall);
  return out.str();
}

}  // namespace animerun::segments
