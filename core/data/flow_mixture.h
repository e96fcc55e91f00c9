// A training mixture of flow sets with repetition factors (the official `200 * anime +
// things`), and the order samples are drawn in.
//
// Spec syntax (TrainOptions::datasets, the GUI's mixture table): comma-separated entries
// KIND[@PATH][:FACTOR], e.g. "anime:200,things:1" or "anime:200,things@/data/FlyingThings3D".
// KIND is a FlowSetKinds() name; PATH (optional) overrides the kind's default folder; FACTOR
// is a whole number >= 1 (default 1).
//
// Order: like the official DataLoader (shuffle, drop_last), the virtual list (every set
// repeated FACTOR times) is shuffled per epoch and cut into batches; the last incomplete
// batch of an epoch is dropped. Sample b of step s is a function of (seed, s, b) alone: a
// run resumed at any step, or split over ranks, draws exactly the same samples.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/data/flow_datasets.h"

namespace animerun::data {

struct FlowMixtureEntry {
  std::string kind;   // a FlowSetKinds() name
  std::string path;   // "" = the kind's default folder (TrainOptions: data, things_root, ...)
  int repeat = 1;     // repetition factor
};

// Parses a spec; throws Error naming the entry at fault.
std::vector<FlowMixtureEntry> ParseFlowMixture(const std::string& spec);
std::string FormatFlowMixture(const std::vector<FlowMixtureEntry>& entries);

class FlowMixture {
 public:
  // sets and repeats pair up; throws Error when empty or when a factor is < 1.
  FlowMixture(std::vector<FlowSet> sets, std::vector<int> repeats);

  int64_t epoch_size() const { return epoch_size_; }  // sum of |set| * repeat
  const std::vector<FlowSet>& sets() const { return sets_; }
  const std::vector<int>& repeats() const { return repeats_; }

  // Batches per epoch for a global batch size (>= 1; throws Error when the mixture is
  // smaller than one batch).
  int64_t BatchesPerEpoch(int batch) const;
  // Sample b (0 <= b < batch) of global step `step` for seed.
  const FlowPairFiles& Sample(uint64_t seed, int64_t step, int b, int batch) const;
  // Which set (index into sets()) that sample comes from.
  size_t SetOf(uint64_t seed, int64_t step, int b, int batch) const;

 private:
  // Virtual position v of an epoch -> (set, pair).
  std::pair<size_t, size_t> Locate(int64_t v) const;
  int64_t Position(uint64_t seed, int64_t step, int b, int batch) const;
  std::shared_ptr<const std::vector<int64_t>> Permutation(uint64_t seed, int64_t epoch) const;

  std::vector<FlowSet> sets_;
  std::vector<int> repeats_;
  std::vector<int64_t> starts_;  // first virtual position of each set
  int64_t epoch_size_ = 0;
  mutable std::mutex mutex_;
  // Recently used epoch permutations, keyed by (seed, epoch); workers near an epoch
  // boundary need two at once.
  mutable std::map<std::pair<uint64_t, int64_t>, std::shared_ptr<const std::vector<int64_t>>> permutations_;
};

}  // namespace animerun::data
