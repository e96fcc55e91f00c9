#include "core/palette/sampler.h"

#include <cmath>

#include "core/util/error.h"

namespace animerun::palette {

double ColorWeight(int64_t count) { return std::log(static_cast<double>(count) / 10.0); }

bool IsDrawable(const PaletteGroup& group) {
  for (const auto& c : group.colors)
    if (c.count > kMinSampledCount) return true;
  return false;
}

SamplingTable MakeSamplingTable(const PaletteGroup& group) {
  SamplingTable t;
  double sum = 0.0;
  for (const auto& c : group.colors) {
    if (c.count <= kMinSampledCount) {
      ++t.excluded;
      continue;
    }
    sum += ColorWeight(c.count);  // the same left-to-right sums as itertools.accumulate
    t.colors.push_back(c.rgb);
    t.counts.push_back(c.count);
    t.cum_weights.push_back(sum);
  }
  if (t.colors.empty())
    throw Error("palette group '" + group.name + "': no colour has a count above " +
                std::to_string(kMinSampledCount) + " (weights ln(N/10) would not be positive)" +
                (group.extracted() ? "" : "; the group has not been extracted yet"));
  return t;
}

size_t DrawIndex(const SamplingTable& table, PyRandom* rng) { return ChooseIndex(table.cum_weights, rng); }

std::vector<Rgb> DrawColors(const SamplingTable& table, PyRandom* rng, size_t k) {
  std::vector<Rgb> out;
  out.reserve(k);
  for (size_t i = 0; i < k; ++i) out.push_back(table.colors[DrawIndex(table, rng)]);
  return out;
}

const PaletteGroup& ChooseGroup(const PaletteFile& file, PyRandom* rng) {
  std::vector<const PaletteGroup*> drawable;
  for (const auto& g : file.groups)
    if (IsDrawable(g)) drawable.push_back(&g);
  if (drawable.empty()) throw Error("no palette group has drawable colours (extract palettes first)");
  return *drawable[rng->RandBelow(static_cast<uint32_t>(drawable.size()))];
}

}  // namespace animerun::palette
