// Optical-flow evaluation over an AnimeRun split: every forward pair of every scene, pooled
// with FlowMetricsAccumulator (official validate_anime definitions, see flow_metrics.h).
//
// Two sources of predictions share one loop:
//  * EvaluateFlowPredictions: a folder of .flo files laid out like the ground truth,
//    DIR/<scene>/forward/<same file name as Flow/<scene>/forward/...>.flo;
//  * EvaluateFlow with a predictor callback (e.g. a flow network run on each pair).
#pragma once

#include <filesystem>
#include <functional>

#include <opencv2/core.hpp>

#include "core/data/animerun_dataset.h"
#include "core/flow/flow_metrics.h"
#include "core/jobs/job.h"

namespace animerun::flow {

// Returns the predicted CV_32FC2 forward flow (frame t -> t+1) for a pair. PairData holds
// the pair's images (RGB), ground-truth forward flow and masks; other members are empty.
using FlowPredictor = std::function<cv::Mat(const data::FramePair&, const data::PairData&)>;

// Evaluates predictor on every pair of the dataset (or its first max_pairs pairs in dataset
// order, when > 0: a training run's quick validation). A pair without ground-truth flow is
// an Error naming the scene (the metric must cover the whole split). Missing masks make
// those buckets absent. Reports progress and honours cancellation (throws Cancelled).
FlowEvalResult EvaluateFlow(const data::AnimeRunDataset& dataset, const FlowPredictor& predictor,
                            const JobContext* job = nullptr, int64_t max_pairs = 0);

// Where EvaluateFlowPredictions looks for a pair's prediction:
// pred_dir/<scene>/forward/<file name of the ground-truth forward flow>.
std::filesystem::path FlowPredictionPath(const std::filesystem::path& pred_dir, const data::FramePair& pair);

// Evaluates the .flo files under pred_dir. Every prediction is checked to exist before any
// is read; missing ones give an Error saying how many and naming the first expected path.
FlowEvalResult EvaluateFlowPredictions(const data::AnimeRunDataset& dataset, const std::filesystem::path& pred_dir,
                                       const JobContext* job = nullptr);

}  // namespace animerun::flow
