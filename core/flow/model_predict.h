// One flow network on one pair of RGB frames, for callers that hold the network themselves
// (FlowRunner, the training task's validation): the frames to tensors, Estimate, the flow
// back to a cv::Mat, with progress/cancel through job and errors as animerun::Error.
#pragma once

#include <string>

#include <opencv2/core.hpp>

#include "core/flow/flow_predictor.h"
#include "core/jobs/job.h"
#include "models/common/flow_model.h"

namespace animerun::flow {

// image1, image2: RGB CV_8UC3 of one size. Returns the CV_32FC2 flow image1 -> image2.
// With a job: reports (k / total, "iteration k/N") after every network step and throws
// Cancelled at the next step once the job is cancelled; preview receives RAFT/GMA's
// intermediate estimates (FlowPreviewFn). name prefixes error messages.
cv::Mat PredictWithModel(models::FlowModel& net, const cv::Mat& image1, const cv::Mat& image2,
                         models::FlowInferenceOptions options, const std::string& name,
                         const JobContext* job = nullptr, const FlowPreviewFn& preview = {});

}  // namespace animerun::flow
