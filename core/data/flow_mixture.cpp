#include "core/data/flow_mixture.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <numeric>
#include <sstream>

#include "core/util/error.h"
#include "core/util/rng.h"

namespace animerun::data {

std::vector<FlowMixtureEntry> ParseFlowMixture(const std::string& spec) {
  std::vector<FlowMixtureEntry> out;
  std::istringstream in(spec);
  for (std::string item; std::getline(in, item, ',');) {
    const size_t a = item.find_first_not_of(" \t"), b = item.find_last_not_of(" \t");
    if (a == std::string::npos) throw Error("datasets '" + spec + "': empty entry");
    item = item.substr(a, b - a + 1);
    FlowMixtureEntry e;
    // FACTOR: digits after the last ':' (a path may hold ':' itself, a factor never).
    const size_t colon = item.rfind(':');
    if (colon != std::string::npos && colon + 1 < item.size() &&
        item.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
      errno = 0;
      const long v = std::strtol(item.c_str() + colon + 1, nullptr, 10);
      if (errno != 0 || v < 1 || v > 1000000)
        throw Error("datasets entry '" + item + "': the factor must be a whole number in 1..1000000");
      e.repeat = static_cast<int>(v);
      item.resize(colon);
    } else if (colon != std::string::npos && item.find('@') == std::string::npos) {
      throw Error("datasets entry '" + item + "': the factor after ':' must be a whole number >= 1");
    }
    const size_t at = item.find('@');
    e.kind = item.substr(0, at);
    if (at != std::string::npos) {
      e.path = item.substr(at + 1);
      if (e.path.empty()) throw Error("datasets entry '" + item + "': empty path after '@'");
    }
    const auto& kinds = FlowSetKinds();
    if (std::find(kinds.begin(), kinds.end(), e.kind) == kinds.end()) {
      std::string known;
      for (const auto& k : kinds) known += (known.empty() ? "" : ", ") + k;
      throw Error("datasets entry '" + item + "': unknown kind '" + e.kind + "' (known: " + known + ")");
    }
    out.push_back(e);
  }
  if (out.empty()) throw Error("datasets: no entries (e.g. anime:200,things:1)");
  return out;
}

std::string FormatFlowMixture(const std::vector<FlowMixtureEntry>& entries) {
  std::string s;
  for (const auto& e : entries) {
    if (!s.empty()) s += ",";
    s += e.kind;
    // Appended piece by piece: operator+ on a temporary trips GCC 12's false -Wstringop-overflow.
    if (!e.path.empty()) {
      s += '@';
      s += e.path;
    }
    s += ':';
    s += std::to_string(e.repeat);
  }
  return s;
}

FlowMixture::FlowMixture(std::vector<FlowSet> sets, std::vector<int> repeats)
    : sets_(std::move(sets)), repeats_(std::move(repeats)) {
  if (sets_.empty() || sets_.size() != repeats_.size()) throw Error("flow mixture: no datasets");
  for (size_t i = 0; i < sets_.size(); ++i) {
    if (repeats_[i] < 1) throw Error("flow mixture: repetition factors must be >= 1");
    if (sets_[i].pairs.empty()) throw Error("flow mixture: " + sets_[i].kind + " holds no pairs");
    starts_.push_back(epoch_size_);
    epoch_size_ += static_cast<int64_t>(sets_[i].pairs.size()) * repeats_[i];
  }
}

int64_t FlowMixture::BatchesPerEpoch(int batch) const {
  if (batch < 1) throw Error("flow mixture: batch size must be >= 1");
  const int64_t n = epoch_size_ / batch;
  if (n < 1)
    throw Error("flow mixture: " + std::to_string(epoch_size_) + " samples per epoch, fewer than one batch of " +
                std::to_string(batch));
  return n;
}

std::pair<size_t, size_t> FlowMixture::Locate(int64_t v) const {
  const size_t set = static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), v) - starts_.begin()) - 1;
  const int64_t n = static_cast<int64_t>(sets_[set].pairs.size());
  return {set, static_cast<size_t>((v - starts_[set]) % n)};  // `k * dataset` repeats the list
}

std::shared_ptr<const std::vector<int64_t>> FlowMixture::Permutation(uint64_t seed, int64_t epoch) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto key = std::make_pair(seed, epoch);
  if (auto it = permutations_.find(key); it != permutations_.end()) return it->second;
  auto perm = std::make_shared<std::vector<int64_t>>(epoch_size_);
  std::iota(perm->begin(), perm->end(), int64_t(0));
  Rng rng(MixSeed(seed, static_cast<uint64_t>(epoch), 0x6d6978ULL));
  for (int64_t i = epoch_size_ - 1; i > 0; --i) std::swap((*perm)[i], (*perm)[rng.Below(i + 1)]);
  if (permutations_.size() >= 3) permutations_.erase(permutations_.begin());  // smallest key: oldest epoch
  permutations_[key] = perm;
  return perm;
}

int64_t FlowMixture::Position(uint64_t seed, int64_t step, int b, int batch) const {
  if (step < 0 || b < 0 || b >= batch) throw Error("flow mixture: sample index out of range");
  const int64_t per_epoch = BatchesPerEpoch(batch);
  const int64_t epoch = step / per_epoch, within = (step % per_epoch) * batch + b;
  return (*Permutation(seed, epoch))[within];
}

const FlowPairFiles& FlowMixture::Sample(uint64_t seed, int64_t step, int b, int batch) const {
  const auto [set, pair] = Locate(Position(seed, step, b, batch));
  return sets_[set].pairs[pair];
}

size_t FlowMixture::SetOf(uint64_t seed, int64_t step, int b, int batch) const {
  return Locate(Position(seed, step, b, batch)).first;
}

}  // namespace animerun::data
