// Weights files as files: what one holds, and re-saving one in another storage precision or
// wrapping (how the project's built-in weights are packed: AnT's 16 MB of fp32 weights fit
// the 10 MB a shipped file may take as fp16; docs/training.md). The networks read them
// through models/; here nothing is interpreted beyond tensors and keys.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace animerun::io {

struct WeightsInfo {
  int64_t tensors = 0;                // entries of the state dict
  int64_t elements = 0;               // their elements, summed
  int64_t bytes = 0;                  // their bytes as stored
  std::vector<std::string> dtypes;    // distinct dtypes ("Float", "Half"), in first-seen order
  std::vector<std::string> keys;      // in file order, as stored ("module." kept)
};

// Reads a torch.save weights file or builtin:NAME (errors name the file).
WeightsInfo InspectWeights(const std::string& path);

struct WeightsConvertOptions {
  std::string in;                // a torch.save weights file or builtin:NAME
  std::string out;               // written atomically, torch.save zip format
  std::string dtype = "keep";    // floating-point tensors stored as: keep, fp32, fp16 or bf16
  std::string wrapper;           // "" = a bare state dict; e.g. "model" = {'model': state dict} (GMFlow, AnT)
  void Check() const;            // throws Error
};

// Writes options.out; keys ("module." prefixes included) and order as in the input. Returns
// what was written, and in *input (when given) what was read.
WeightsInfo ConvertWeights(const WeightsConvertOptions& options, WeightsInfo* input = nullptr);

}  // namespace animerun::io
