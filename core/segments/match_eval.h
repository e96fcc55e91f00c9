// Segment-matching evaluation over an AnimeRun split: every forward pair's prediction
// against SegMatching/<scene>/forward/*.json, with the official segmat metrics
// (match_metrics.h). Two sources of predictions share one loop:
//  * EvaluateMatchPredictions: JSON files laid out like the ground truth,
//    DIR/<scene>/forward/<same file name as SegMatching/<scene>/forward/...>.json;
//  * EvaluateMatch with a predictor callback (e.g. a matching network run on each pair).
#pragma once

#include <filesystem>
#include <functional>
#include <vector>

#include "core/data/animerun_dataset.h"
#include "core/jobs/job.h"
#include "core/segments/match_metrics.h"

namespace animerun::segments {

// Returns, for each segment of frame t, its id in frame t+1 or -1. PairData holds the
// images, contours and segment maps of the pair; the ground truth is not given to it.
// The result must have one entry per ground-truth segment.
using MatchPredictor = std::function<std::vector<int>(const data::FramePair&, const data::PairData&)>;

// Evaluates predictor on every pair. A pair without ground-truth matching is an Error
// naming the scene. Reports progress and honours cancellation (throws Cancelled).
MatchEvalResult EvaluateMatch(const data::AnimeRunDataset& dataset, const MatchPredictor& predictor,
                              const JobContext* job = nullptr);

// pred_dir/<scene>/forward/<file name of the ground-truth forward matching JSON>.
std::filesystem::path MatchPredictionPath(const std::filesystem::path& pred_dir, const data::FramePair& pair);

// Evaluates the JSON files under pred_dir. All are checked to exist first; missing ones
// give an Error saying how many and naming the first expected path. Segment ids absent
// from a prediction count as -1; ids beyond the ground truth's segments are an Error.
MatchEvalResult EvaluateMatchPredictions(const data::AnimeRunDataset& dataset, const std::filesystem::path& pred_dir,
                                         const JobContext* job = nullptr);

}  // namespace animerun::segments
