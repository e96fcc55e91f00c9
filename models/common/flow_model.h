// The interface every optical-flow network offers the engine (CLI, GUI, evaluation).
#pragma once

#include <memory>
#include <string>

#include <torch/torch.h>

#include "models/common/checkpoint.h"

namespace animerun::models {

struct FlowInferenceOptions {
  int iters = 32;                    // RAFT/GMA refinement iterations (AnimeRun evaluates with 32)
  std::string padding = "sintel";    // RAFT/GMA InputPadder mode: "sintel" (centred) or "kitti" (bottom)
  std::string precision = "fp32";    // "fp32" or "bf16" (autocast-free bf16 weights/activations)
  torch::Tensor flow_init;           // optional warm start at 1/8 resolution [B,2,H/8,W/8] (RAFT/GMA)
  void Check() const;                // throws std::invalid_argument on bad values
};

class FlowModel {
 public:
  virtual ~FlowModel() = default;
  virtual std::string name() const = 0;

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
};

}  // namespace animerun::models
