// The flow-network options shared by `flow`, `eval-flow --model` and `bench flow`, so
// that the three spell them the same way.
#pragma once

#include <filesystem>

#include <opencv2/core.hpp>

#include "app/cli/arg_parser.h"
#include "core/flow/flow_predictor.h"

namespace animerun::cli {

// --model, --weights, --iters, --padding, --device, --precision, --threads.
void AddFlowRunOptions(ArgParser& p, flow::FlowRunOptions* o);
// o.Check(), with its errors reported as usage errors.
void CheckAsUsage(const flow::FlowRunOptions& o);
// Writes .flo, .png (KITTI 16-bit) or .pfm by extension; Error for anything else.
void WriteFlowByExtension(const std::filesystem::path& path, const cv::Mat& flow);

}  // namespace animerun::cli
