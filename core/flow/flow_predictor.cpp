#include "core/flow/flow_predictor.h"

#include <torch/torch.h>

#include <cstring>

#include "core/flow/flow_models.h"
#include "core/flow/model_predict.h"
#include "core/jobs/job.h"
#include "core/util/error.h"
#include "models/common/flow_factory.h"
#include "models/common/model_registry.h"
#include "models/common/runtime.h"

namespace animerun::flow {

void FlowRunOptions::Check() const {
  const models::FlowModelInfo* info = models::FindFlowModel(model);
  if (!info) {
    std::string known;
    for (const auto& m : models::FlowModelRegistry()) known += (known.empty() ? "" : ", ") + m.name;
    throw Error("unknown model '" + model + "' (" + known + ")");
  }
  const std::string builtin = BuiltinWeightsRef(model);
  Require(allow_random_weights || !weights.empty(),
          "--weights is required: the official checkpoint of " + model + " is " + info->CheckpointHint() +
              (builtin.empty() ? std::string() : " (or --weights " + builtin + ", built in, trained on synthetic frames)"));
  Require(iters >= 1 && iters <= 1000, "iters must be in [1, 1000]");
  Require(early_stop_px >= 0 && early_stop_px <= 100, "early_stop_px must be in [0, 100] pixels");
  Require(padding == "sintel" || padding == "kitti", "padding must be sintel or kitti");
  Require(precision == "fp32" || precision == "bf16" || precision == "fp16", "precision must be fp32, bf16 or fp16");
  Require(precision != "fp16" || device.rfind("cuda", 0) == 0, "fp16 runs on CUDA only; use bf16 on the CPU");
  Require(info->SupportsPrecision(precision), model + " does not run in " + precision);
  Require(threads >= 0, "threads must be >= 0");
  Require(corr == "auto" || corr == "all-pairs" || corr == "on-demand",
          "corr must be auto, all-pairs or on-demand, got '" + corr + "'");
  try {
    models::CheckDeviceName(device.c_str());
  } catch (const std::exception& e) {
    throw Error(e.what());
  }
}

struct FlowRunner::Impl {
  std::unique_ptr<models::FlowModel> net;
  torch::Device device{torch::kCPU};
};

std::vector<std::pair<std::string, double>> FlowRunner::OfficialFlops(int height, int width) const {
  return impl_->net->OfficialFlops(height, width, options_.iters).parts();
}

FlowRunner::FlowRunner(const FlowRunOptions& options) : options_(options), impl_(std::make_unique<Impl>()) {
  options_.Check();
  if (options_.threads > 0) models::ConfigureThreads(options_.threads);
  impl_->net = models::CreateFlowModel(options_.model);
  if (!options_.weights.empty()) {
    try {
      impl_->net->LoadWeights(options_.weights, /*strict=*/true);
    } catch (const std::exception& e) {
      const std::string what = e.what();
      // The loaders name the file already; add which network it was meant for.
      throw Error((what.find(options_.weights) == std::string::npos ? options_.weights + ": " : std::string()) + what +
                  " (expected " + models::FindFlowModel(options_.model)->CheckpointHint() + ")");
    }
  }
  impl_->device = torch::Device(options_.device);
  impl_->net->To(impl_->device);
}

FlowRunner::~FlowRunner() = default;

namespace {

torch::Tensor ToBatch(const cv::Mat& rgb, const torch::Device& device) {
  // Wrap the (continuous) pixels, then one conversion to float on the target device.
  cv::Mat c = rgb.isContinuous() ? rgb : rgb.clone();
  auto t = torch::from_blob(c.data, {1, c.rows, c.cols, 3}, torch::kUInt8);
  return t.to(device).permute({0, 3, 1, 2}).to(torch::kFloat32).contiguous();
}

// The first flow of a [B, 2, rows, cols] tensor as a CV_32FC2 image.
cv::Mat FlowToMat(const torch::Tensor& batch, int rows, int cols) {
  const auto flow = batch[0].permute({1, 2, 0}).to(torch::kCPU, torch::kFloat32).contiguous();
  cv::Mat out(rows, cols, CV_32FC2);
  std::memcpy(out.data, flow.data_ptr<float>(), out.total() * sizeof(float) * 2);
  return out;
}

}  // namespace

int PredictSteps(const FlowRunOptions& options) {
  // What the networks count (see models::FlowStepFn), as each describes itself.
  const models::FlowModelInfo* info = models::FindFlowModel(options.model);
  return info ? info->Steps(options.iters) : options.iters;
}

cv::Mat FlowRunner::Predict(const cv::Mat& image1, const cv::Mat& image2, const JobContext* job,
                            const FlowPreviewFn& preview) {
  models::FlowInferenceOptions o;
  o.iters = options_.iters;
  o.early_stop_px = options_.early_stop_px;
  o.padding = options_.padding;
  o.precision = options_.precision;
  o.corr = options_.corr;
  return PredictWithModel(*impl_->net, image1, image2, o, options_.model, job, preview);
}

cv::Mat PredictWithModel(models::FlowModel& net, const cv::Mat& image1, const cv::Mat& image2,
                         models::FlowInferenceOptions o, const std::string& name, const JobContext* job,
                         const FlowPreviewFn& preview) {
  Require(image1.type() == CV_8UC3 && image2.type() == CV_8UC3, "flow: images must be 8-bit RGB");
  Require(image1.size() == image2.size(), "flow: the two images differ in size (" + std::to_string(image1.cols) + "x" +
                                              std::to_string(image1.rows) + " vs " + std::to_string(image2.cols) +
                                              "x" + std::to_string(image2.rows) + ")");
  if (job) {
    job->CheckCancel();
    const models::FlowModelInfo* info = models::FindFlowModel(name);
    const std::string unit = info ? info->step_unit : std::string("step");  // "iteration" for RAFT/GMA
    o.on_step = [job, unit](int done, int total) {
      if (job->IsCancelled()) return false;
      job->Report(static_cast<double>(done) / total, unit + " " + std::to_string(done) + "/" + std::to_string(total));
      return true;
    };
  }
  if (preview)
    o.on_preview = [&](int done, int total, const std::function<torch::Tensor()>& flow) {
      preview(done, total, [&] { return FlowToMat(flow(), image1.rows, image1.cols); });
    };
  torch::Tensor flow;
  try {
    torch::InferenceMode guard;
    const torch::Device device = net.device();
    flow = net.Estimate(ToBatch(image1, device), ToBatch(image2, device), o);
  } catch (const models::EstimateCancelled&) {
    throw Cancelled();
  } catch (const c10::Error& e) {
    throw Error(name + ": " + e.what_without_backtrace());
  } catch (const std::invalid_argument& e) {
    throw Error(name + ": " + e.what());
  }
  return FlowToMat(flow, image1.rows, image1.cols);
}

}  // namespace animerun::flow
