#include "models/raft/raft_family.h"

#include <stdexcept>
#include <utility>

#include "models/common/checkpoint.h"
#include "models/common/input_padder.h"

namespace animerun::models {

namespace {

// Below 128 px the coarsest correlation level is a single pixel and the official
// bilinear_sampler divides by zero (NaN flow); Estimate pads small inputs up to this.
constexpr int64_t kMinPaddedSize = 128;

class RaftFamilyModel : public FlowModel {
 public:
  RaftFamilyModel(std::string name, std::shared_ptr<torch::nn::Module> module, RaftForwardFn forward,
                  RaftFlopsFn flops)
      : name_(std::move(name)), module_(std::move(module)), forward_(std::move(forward)), flops_(std::move(flops)) {
    module_->eval();
  }

  std::string name() const override { return name_; }

  LoadReport LoadWeights(const std::string& path, bool strict) override {
    precision_.Restore();
    const StateDict state = LoadStateDict(path);
    return LoadIntoModule(*module_, state, nullptr, strict);
  }

  void SaveWeights(const std::string& path) const override {
    // Saved weights are always the fp32 ones (kept aside while the module runs in bf16).
    precision_.Restore();
    // The official files are state dicts of nn.DataParallel(model): every key has 'module.'.
    SaveStateDict(path, ModuleStateDict(*module_, [](const std::string& key) { return "module." + key; }));
  }

  void To(const torch::Device& device) override {
    precision_.Restore();
    module_->to(device);
    module_->eval();
    device_ = device;
  }

  torch::Device device() const override { return device_; }

  torch::nn::Module& module() override {
    precision_.Restore();
    return *module_;
  }
  bool FreezesBatchNorm() const override { return true; }
  int TrainSizeMultiple() const override { return 8; }
  // The coarsest correlation level needs two pixels (see kMinPaddedSize).
  int TrainMinSize() const override { return static_cast<int>(kMinPaddedSize); }

  std::vector<torch::Tensor> TrainForward(const torch::Tensor& image1, const torch::Tensor& image2,
                                          int iters) override {
    precision_.Restore();
    RaftForwardOptions fwd;
    fwd.iters = iters;
    fwd.all_predictions = true;  // the official forward with test_mode=False
    return forward_(image1.to(torch::kFloat), image2.to(torch::kFloat), fwd).flow_predictions;
  }

  FlopCount OfficialFlops(int64_t height, int64_t width, int iters) const override {
    // At the size Estimate pads to (the official InputPadder, and at least kMinPaddedSize).
    const InputPadder padder(height, width, "sintel", 8, kMinPaddedSize);
    return flops_(padder.padded_height(), padder.padded_width(), iters);
  }

  torch::Tensor Estimate(const torch::Tensor& image1, const torch::Tensor& image2,
                         const FlowInferenceOptions& options) override {
    options.Check();
    if (image1.dim() != 4 || image1.size(1) != 3 || image1.sizes() != image2.sizes())
      throw std::invalid_argument(name_ + ": images must be [B, 3, H, W] of equal shape, got " +
                                  c10::str(image1.sizes()) + " and " + c10::str(image2.sizes()));
    precision_.Use(*module_, options.precision);
    c10::InferenceMode guard;
    const InputPadder padder(image1.size(2), image1.size(3), options.padding, 8, kMinPaddedSize);
    auto to_input = [&](const torch::Tensor& t) { return padder.Pad(t.to(device_, torch::kFloat)); };
    RaftForwardOptions fwd;
    fwd.iters = options.iters;
    fwd.on_step = options.on_step;
    fwd.early_stop_px = options.early_stop_px;
    fwd.corr = ParseCorrMode(options.corr);
    if (options.on_preview)
      fwd.on_preview = [&](int done, int total, const std::function<torch::Tensor()>& flow) {
        options.on_preview(done, total, [&] { return padder.Unpad(flow()).to(torch::kFloat).contiguous(); });
      };
    if (options.flow_init.defined()) fwd.flow_init = options.flow_init.to(device_, torch::kFloat);
    const RaftOutput out = forward_(to_input(image1), to_input(image2), fwd);
    // On the input's device, as the other networks return it (the model may be on CUDA).
    return padder.Unpad(out.flow_up).to(image1.device(), torch::kFloat).contiguous();
  }

 private:
  std::string name_;
  std::shared_ptr<torch::nn::Module> module_;
  RaftForwardFn forward_;
  RaftFlopsFn flops_;
  torch::Device device_{torch::kCPU};
  mutable ModulePrecision precision_;  // mutable: SaveWeights (const) restores fp32 first
};

}  // namespace

std::unique_ptr<FlowModel> MakeRaftFamilyModel(const std::string& name, std::shared_ptr<torch::nn::Module> module,
                                               RaftForwardFn forward, RaftFlopsFn flops) {
  return std::make_unique<RaftFamilyModel>(name, std::move(module), std::move(forward), std::move(flops));
}

}  // namespace animerun::models
