// The interface every optical-flow network offers the engine (CLI, GUI, evaluation).
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "models/common/checkpoint.h"
#include "models/common/flop_count.h"
#include "models/common/module_precision.h"

namespace animerun::models {

// Called by a network after each step of its forward pass (done = 1..total); returning false
// aborts the pass with EstimateCancelled. Steps: refinement iterations (RAFT, RAFT-small,
// GMA), stages (GMFlow: backbone, then each transformer block and the matching per scale),
// pyramid levels (PWC-Net). Lets a GUI show progress and cancel within one step instead of one pass.
using FlowStepFn = std::function<bool(int done, int total)>;

// Called by RAFT/GMA after each refinement iteration but the last, for a progressive display:
// flow() computes the current estimate, upsampled like the final one ([B,2,H,W] at the
// input size, fp32), only when called, so that a caller showing one preview per second
// pays the upsampling once per second. Not called where no one is listening.
using FlowPreviewFn = std::function<void(int done, int total, const std::function<torch::Tensor()>& flow)>;

// Thrown out of Estimate/Forward when the FlowStepFn returned false.
class EstimateCancelled : public std::runtime_error {
 public:
  EstimateCancelled() : std::runtime_error("flow estimation cancelled") {}
};

// Calls on_step (when set) and throws EstimateCancelled when it returns false.
inline void ReportFlowStep(const FlowStepFn& on_step, int done, int total) {
  if (on_step && !on_step(done, total)) throw EstimateCancelled();
}

struct FlowInferenceOptions {
  int iters = 32;                    // RAFT/GMA refinement iterations (AnimeRun evaluates with 32)
  std::string padding = "sintel";    // RAFT/GMA InputPadder mode: "sintel" (centred) or "kitti" (bottom)
  std::string precision = "fp32";    // "fp32", "bf16" or "fp16" (CUDA only): reduced-precision weights and
                                     // convolutions/matmuls, with the correlation volumes, their softmaxes,
                                     // coordinates and flows in fp32
  torch::Tensor flow_init;           // optional warm start at 1/8 resolution [B,2,H/8,W/8] (RAFT/GMA)
  FlowStepFn on_step;                // optional progress/cancel hook (see FlowStepFn); no effect on the flow
  FlowPreviewFn on_preview;          // optional intermediate estimates (RAFT/GMA; see FlowPreviewFn)
  double early_stop_px = 0;          // RAFT/GMA: end the iterations (at most iters) once the mean update over
                                     // the image falls below this many input pixels; 0 = always iters
  std::string corr = "auto";         // RAFT/GMA correlation: "all-pairs" (the volume), "on-demand" (RAFT's
                                     // memory-efficient variant; same flow to float rounding) or "auto"
                                     // (on demand when the volume would exceed 2 GiB: frames above ~1100x1100)
  void Check() const;                // throws std::invalid_argument on bad values
};

// The parameters of a module, each once: modules registered under two names (RAFT's
// norm3 is also downsample.1) list the same tensor twice, which an optimizer would update
// twice per step and gradient clipping would count twice (Python's parameters() dedupes).
std::vector<torch::Tensor> UniqueParameters(const torch::nn::Module& module);

// Train mode as the official finetuning stages set it: train(), then every BatchNorm
// layer back in eval mode (freeze_bn: running statistics fixed, affine parameters still
// trained) when freeze_batch_norm.
void SetTrainMode(torch::nn::Module& module, bool freeze_batch_norm);

class FlowModel {
 public:
  virtual ~FlowModel() = default;
  virtual std::string name() const = 0;

  // --- Training (core/train's flow task) ---
  // The network (its parameters are what an optimizer updates, its state what a
  // checkpoint stores). fp32 whenever it is handed out.
  virtual torch::nn::Module& module() = 0;
  // True where the official finetuning stages call freeze_bn() (RAFT and GMA, whose
  // context encoder has BatchNorm); GMFlow and PWC-Net have none.
  virtual bool FreezesBatchNorm() const { return false; }
  // Training inputs must be multiples of this in both sides (RAFT/GMA 8, GMFlow its
  // padding factor, PWC-Net 1: it resizes internally) and at least TrainMinSize().
  virtual int TrainSizeMultiple() const = 0;
  virtual int TrainMinSize() const { return 64; }
  // The official training-mode forward on RGB float images [B,3,H,W] in [0, 255] already on
  // the model's device, H and W as above: every prediction the official sequence loss reads,
  // in its order, each [B,2,H,W] fp32 (RAFT/GMA: the upsampled flow after each of iters
  // iterations; GMFlow: per scale the matching flow and the propagated flow; PWC-Net: the
  // final flow). Differentiable; the caller sets the module's mode (SetTrainMode).
  virtual std::vector<torch::Tensor> TrainForward(const torch::Tensor& image1, const torch::Tensor& image2,
                                                  int iters) = 0;

  // Loads an official checkpoint file (the release format of this network). With strict,
  // missing/unexpected/mis-shaped keys throw std::runtime_error listing them by name.
  virtual LoadReport LoadWeights(const std::string& path, bool strict = true) = 0;
  // Saves the weights as a torch.save zip file with the official key names.
  virtual void SaveWeights(const std::string& path) const = 0;

  // Moves the network (eval mode) to a device ("cpu", "cuda", "cuda:1").
  virtual void To(const torch::Device& device) = 0;
  virtual torch::Device device() const = 0;

  // image1, image2: RGB float tensors in [0, 255], [B,3,H,W], any H, W. Returns the flow
  // from image1 to image2, [B,2,H,W] float32 at the input size (padding/resizing as the
  // official inference code does, undone here). Runs under inference mode.
  virtual torch::Tensor Estimate(const torch::Tensor& image1, const torch::Tensor& image2,
                                 const FlowInferenceOptions& options) = 0;

  // The work of the official network's inference on one height x width pair (after the
  // padding or resizing its inference code applies; `iters` for RAFT/GMA), counted as
  // PyTorch's FlopCounterMode counts it (models/common/flop_count.h), from this network's
  // layer shapes. What this implementation skips still counts: `bench` reports speed as
  // the official work done per second.
  virtual FlopCount OfficialFlops(int64_t height, int64_t width, int iters) const = 0;
};

}  // namespace animerun::models
