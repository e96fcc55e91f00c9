#include "core/io/weights_file.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/util/error.h"
#include "models/common/checkpoint.h"

namespace animerun::io {
namespace {

models::StateDict Load(const std::string& path) {
  models::CheckpointLoadOptions o;
  o.strip_module_prefix = false;  // keep the file's own key names
  try {
    return models::LoadStateDict(path, o);
  } catch (const std::exception& e) {
    throw Error(e.what());  // names the file
  }
}

WeightsInfo Describe(const models::StateDict& state) {
  WeightsInfo info;
  for (const auto& [key, t] : state.entries) {
    ++info.tensors;
    info.elements += t.numel();
    info.bytes += static_cast<int64_t>(t.numel() * t.element_size());
    const std::string dtype = c10::toString(t.scalar_type());
    if (std::find(info.dtypes.begin(), info.dtypes.end(), dtype) == info.dtypes.end()) info.dtypes.push_back(dtype);
    info.keys.push_back(key);
  }
  return info;
}

}  // namespace

WeightsInfo InspectWeights(const std::string& path) { return Describe(Load(path)); }

void WeightsConvertOptions::Check() const {
  Require(!in.empty(), "weights convert: the input file is required");
  Require(!out.empty(), "weights convert: the output file is required");
  Require(dtype == "keep" || dtype == "fp32" || dtype == "fp16" || dtype == "bf16",
          "weights convert: dtype must be keep, fp32, fp16 or bf16, got '" + dtype + "'");
  Require(wrapper.find_first_of("'\"\\") == std::string::npos, "weights convert: bad wrapper key '" + wrapper + "'");
}

WeightsInfo ConvertWeights(const WeightsConvertOptions& options, WeightsInfo* input) {
  options.Check();
  models::StateDict state = Load(options.in);
  if (input) *input = Describe(state);
  if (options.dtype != "keep") {
    const c10::ScalarType to = options.dtype == "fp16"   ? torch::kHalf
                               : options.dtype == "bf16" ? torch::kBFloat16
                                                         : torch::kFloat;
    for (auto& [key, t] : state.entries) {
      if (!t.is_floating_point()) continue;
      const torch::Tensor converted = t.to(to);
      // A weight beyond fp16's range would silently become infinite.
      if (!torch::isfinite(converted).all().item<bool>() && torch::isfinite(t).all().item<bool>())
        throw Error(options.in + ": entry '" + key + "' has values outside the range of " + options.dtype);
      t = converted;
    }
  }
  try {
    models::SaveStateDict(options.out, state, "", options.wrapper);
  } catch (const std::exception& e) {
    throw Error(e.what());
  }
  return Describe(state);
}

}  // namespace animerun::io
