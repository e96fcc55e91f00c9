#include "core/train/train_curves.h"

#include <algorithm>

namespace animerun::train {

bool TrainCurves::Add(const nlohmann::json& e) {
  if (!e.is_object() || !e.contains("iter") || !e["iter"].is_number()) return false;
  const std::string type = e.value("event", "");
  const nlohmann::json* fields = nullptr;
  if (type == kStep) {
    fields = &e;
  } else if (type == kEval && e.contains("metrics") && e["metrics"].is_object()) {
    fields = &e["metrics"];
  } else {
    return false;
  }
  const double iter = e["iter"].get<double>();
  if (type == kStep) {
    if (iter <= last_step_) return false;
    last_step_ = static_cast<int>(iter);
  }
  bool added = false;
  for (const auto& [key, value] : fields->items()) {
    if (key == "iter" || !value.is_number()) continue;
    const auto id = std::make_pair(type, key);
    auto& points = series_[id];
    if (points.empty()) order_.push_back(id);
    points.push_back({iter, value.get<double>()});
    added = true;
  }
  return added;
}

void TrainCurves::Clear() {
  series_.clear();
  order_.clear();
  last_step_ = 0;
}

const std::vector<CurvePoint>& TrainCurves::Series(const std::string& source, const std::string& field) const {
  static const std::vector<CurvePoint> kNone;
  const auto it = series_.find({source, field});
  return it == series_.end() ? kNone : it->second;
}

std::vector<std::string> TrainCurves::Fields(const std::string& source) const {
  std::vector<std::string> out;
  for (const auto& id : order_)
    if (id.first == source) out.push_back(id.second);
  return out;
}

std::vector<std::string> TrainCurves::AllFields() const {
  std::vector<std::string> out;
  for (const auto& id : order_)
    if (std::find(out.begin(), out.end(), id.second) == out.end()) out.push_back(id.second);
  return out;
}

}  // namespace animerun::train
