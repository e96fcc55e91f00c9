// The curves of a training run, from the JSON-lines events `animerun train` prints
// (trainer.h): every numeric field of a "step" event is a series over its "iter" (source
// "step"), and so is every numeric field of an "eval" event's "metrics" (source "eval").
// Tasks that report other fields (the flow tasks' "epe", a changing "lr") need no change
// here or in the dialog: each field is a plottable series.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace animerun::train {

struct CurvePoint {
  double iter = 0.0;
  double value = 0.0;
};

class TrainCurves {
 public:
  static constexpr const char* kStep = "step";
  static constexpr const char* kEval = "eval";

  // Adds the numbers of a "step" or "eval" event; false when it added none (another event,
  // no numeric field, or a step at or below the last step's iteration: a replayed or
  // repeated update after a resume).
  bool Add(const nlohmann::json& event);
  void Clear();

  // The series of one source and field; empty when absent.
  const std::vector<CurvePoint>& Series(const std::string& source, const std::string& field) const;
  // The fields with points, in the order they first appeared; of one source or of both.
  std::vector<std::string> Fields(const std::string& source) const;
  std::vector<std::string> AllFields() const;
  int LastStep() const { return last_step_; }

 private:
  std::map<std::pair<std::string, std::string>, std::vector<CurvePoint>> series_;
  std::vector<std::pair<std::string, std::string>> order_;
  int last_step_ = 0;
};

}  // namespace animerun::train
