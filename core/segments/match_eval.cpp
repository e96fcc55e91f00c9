#include "core/segments/match_eval.h"

#include <string>

#include "core/io/match_json.h"
#include "core/io/npy.h"
#include "core/util/error.h"

namespace animerun::segments {

namespace fs = std::filesystem;

namespace {

std::vector<data::FramePair> PairsWithMatching(const data::AnimeRunDataset& dataset) {
  std::vector<data::FramePair> pairs = dataset.AllPairs();
  if (pairs.empty()) throw Error(dataset.root().string() + ": no frame pairs to evaluate");
  int64_t missing = 0;
  const data::FramePair* first = nullptr;
  for (const auto& p : pairs) {
    if (!p.match_forward.empty()) continue;
    if (!first) first = &p;
    ++missing;
  }
  if (first)
    throw Error((dataset.root() / "SegMatching" / first->scene / "forward").string() +
                ": no ground-truth matching for " + std::to_string(missing) + " of " + std::to_string(pairs.size()) +
                " pair(s) (first: frame " + first->name1 + ")");
  return pairs;
}

// What LoadPair reads for a predictor: images, contours and segment maps. The ground truth
// is read here (not by LoadPair) so that its length is len(json), as in the official reader.
data::FramePair MatchEvalInputs(const data::FramePair& p) {
  data::FramePair t = data::PairIdentity(p);
  t.segment1 = p.segment1;
  t.segment2 = p.segment2;
  t.image1 = p.image1;
  t.image2 = p.image2;
  t.contour1 = p.contour1;
  t.contour2 = p.contour2;
  return t;
}

using PredFn = std::function<std::vector<int>(const data::FramePair&, const data::PairData&, int num_segments,
                                              std::string* name)>;

MatchEvalResult Evaluate(const data::AnimeRunDataset& dataset, bool for_predictor, const PredFn& pred_for,
                         const JobContext* job) {
  const std::vector<data::FramePair> pairs = PairsWithMatching(dataset);
  MatchMetricsAccumulator acc;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const data::FramePair& p = pairs[i];
    if (job) {
      job->CheckCancel();
      job->Report(static_cast<double>(i) / pairs.size(),
                  p.scene + ": pair " + std::to_string(i + 1) + "/" + std::to_string(pairs.size()));
    }
    const std::vector<int> gt = io::ReadMatchJson(p.match_forward);
    data::PairData d;
    if (for_predictor) {
      d = data::LoadPair(MatchEvalInputs(p));
    } else {  // LoadPair always decodes the frames; a prediction folder needs only the segment maps
      if (!p.segment1.empty()) d.segment1 = io::ReadNpyLabels(p.segment1);
      if (!p.segment2.empty()) d.segment2 = io::ReadNpyLabels(p.segment2);
    }
    std::string name = "prediction for " + p.scene + "/" + p.name1;
    const std::vector<int> pred = pred_for(p, d, static_cast<int>(gt.size()), &name);
    MatchPairMetrics m = ComputeMatchPairMetrics(pred, gt, d.segment1, d.segment2, name);
    m.scene = p.scene;
    m.name = p.name1;
    acc.Add(m);
  }
  if (job) job->Report(1.0, "done");
  return acc.Result();
}

}  // namespace

MatchEvalResult EvaluateMatch(const data::AnimeRunDataset& dataset, const MatchPredictor& predictor,
                              const JobContext* job) {
  if (!predictor) throw Error("EvaluateMatch: no predictor given");
  return Evaluate(
      dataset, true,
      [&](const data::FramePair& p, const data::PairData& d, int, std::string*) { return predictor(p, d); }, job);
}

fs::path MatchPredictionPath(const fs::path& pred_dir, const data::FramePair& pair) {
  return pred_dir / pair.scene / "forward" / pair.match_forward.filename();
}

MatchEvalResult EvaluateMatchPredictions(const data::AnimeRunDataset& dataset, const fs::path& pred_dir,
                                         const JobContext* job) {
  if (!fs::is_directory(pred_dir)) throw Error(pred_dir.string() + ": prediction folder not found");
  const std::vector<data::FramePair> pairs = PairsWithMatching(dataset);
  data::RequireAllPredictions(pairs, [&](const data::FramePair& p) { return MatchPredictionPath(pred_dir, p); });
  return Evaluate(
      dataset, false,
      [&](const data::FramePair& p, const data::PairData&, int num_segments, std::string* name) {
        const fs::path path = MatchPredictionPath(pred_dir, p);
        *name = path.string();
        return io::ReadMatchJson(path, num_segments);
      },
      job);
}

}  // namespace animerun::segments
