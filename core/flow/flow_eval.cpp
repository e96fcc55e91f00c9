#include "core/flow/flow_eval.h"

#include <string>
#include <vector>

#include "core/io/flow_io.h"
#include "core/io/npy.h"
#include "core/util/error.h"

namespace animerun::flow {

namespace fs = std::filesystem;

namespace {

// Only what a predictor-driven evaluation reads: images, flow and masks.
data::FramePair FlowEvalInputs(const data::FramePair& p) {
  data::FramePair t = data::PairIdentity(p);
  t.image1 = p.image1;
  t.image2 = p.image2;
  t.flow_forward = p.flow_forward;
  t.unmatched_forward = p.unmatched_forward;
  t.line_area = p.line_area;
  return t;
}

// LoadPair always decodes the frames; a prediction folder needs only the flow and masks,
// so those are read directly (sizes are checked by the accumulator).
data::PairData LoadTargets(const data::FramePair& p, bool with_images) {
  if (with_images) return data::LoadPair(FlowEvalInputs(p));
  data::PairData d;
  d.flow_forward = io::ReadFlo(p.flow_forward);
  if (!p.unmatched_forward.empty()) d.unmatched_forward = io::ReadNpyMask(p.unmatched_forward);
  if (!p.line_area.empty()) d.line_area = io::ReadNpyMask(p.line_area);
  return d;
}

std::vector<data::FramePair> PairsWithFlow(const data::AnimeRunDataset& dataset) {
  std::vector<data::FramePair> pairs = dataset.AllPairs();
  if (pairs.empty()) throw Error(dataset.root().string() + ": no frame pairs to evaluate");
  int64_t missing = 0;
  const data::FramePair* first = nullptr;
  for (const auto& p : pairs) {
    if (!p.flow_forward.empty()) continue;
    if (!first) first = &p;
    ++missing;
  }
  if (first)
    throw Error((dataset.root() / "Flow" / first->scene / "forward").string() + ": no ground-truth flow for " +
                std::to_string(missing) + " of " + std::to_string(pairs.size()) + " pair(s) (first: frame " +
                first->name1 + ")");
  return pairs;
}

// The shared loop: pred_for returns the prediction and the name used in error messages.
FlowEvalResult Evaluate(const data::AnimeRunDataset& dataset, bool with_images,
                        const std::function<cv::Mat(const data::FramePair&, const data::PairData&, std::string*)>& pred_for,
                        const JobContext* job, int64_t max_pairs = 0) {
  std::vector<data::FramePair> pairs = PairsWithFlow(dataset);
  if (max_pairs > 0 && static_cast<int64_t>(pairs.size()) > max_pairs) pairs.resize(max_pairs);
  FlowMetricsAccumulator acc;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const data::FramePair& p = pairs[i];
    if (job) {
      job->CheckCancel();
      job->Report(static_cast<double>(i) / pairs.size(),
                  p.scene + ": pair " + std::to_string(i + 1) + "/" + std::to_string(pairs.size()));
    }
    const data::PairData d = LoadTargets(p, with_images);
    if (d.flow_forward.empty()) throw Error(p.flow_forward.string() + ": ground-truth flow could not be loaded");
    std::string pred_name = "prediction for " + p.scene + "/" + p.name1;
    const cv::Mat pred = pred_for(p, d, &pred_name);
    acc.Add(p.scene, pred, d.flow_forward, d.unmatched_forward, d.line_area, pred_name, p.flow_forward.string());
  }
  if (job) job->Report(1.0, "done");
  return acc.Result();
}

}  // namespace

FlowEvalResult EvaluateFlow(const data::AnimeRunDataset& dataset, const FlowPredictor& predictor,
                            const JobContext* job, int64_t max_pairs) {
  if (!predictor) throw Error("EvaluateFlow: no predictor given");
  return Evaluate(
      dataset, true,
      [&](const data::FramePair& p, const data::PairData& d, std::string*) { return predictor(p, d); }, job,
      max_pairs);
}

fs::path FlowPredictionPath(const fs::path& pred_dir, const data::FramePair& pair) {
  return pred_dir / pair.scene / "forward" / pair.flow_forward.filename();
}

FlowEvalResult EvaluateFlowPredictions(const data::AnimeRunDataset& dataset, const fs::path& pred_dir,
                                       const JobContext* job) {
  if (!fs::is_directory(pred_dir)) throw Error(pred_dir.string() + ": prediction folder not found");
  const std::vector<data::FramePair> pairs = PairsWithFlow(dataset);
  data::RequireAllPredictions(pairs, [&](const data::FramePair& p) { return FlowPredictionPath(pred_dir, p); });
  return Evaluate(
      dataset, false,
      [&](const data::FramePair& p, const data::PairData&, std::string* name) {
        const fs::path path = FlowPredictionPath(pred_dir, p);
        *name = path.string();
        return io::ReadFlo(path);
      },
      job);
}

}  // namespace animerun::flow
