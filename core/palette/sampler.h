// Drawing colours from a palette group (AnimeRun supplementary 1.1): each colour i is
// chosen with weight ln(N_i / 10), with replacement, as Python's random.choices does.
// Colours with N_i <= 10 have a non-positive weight and are left out.
#pragma once

#include <cstdint>
#include <vector>

#include "core/palette/palette.h"
#include "core/palette/py_random.h"

namespace animerun::palette {

// ln(count / 10): the sampling weight of a colour seen count times.
double ColorWeight(int64_t count);
// Colours with count <= this have weight <= 0 and are never drawn.
constexpr int64_t kMinSampledCount = 10;

struct SamplingTable {
  std::vector<Rgb> colors;          // the drawable colours, in the group's (file) order
  std::vector<int64_t> counts;
  std::vector<double> cum_weights;  // running sums of ColorWeight(count)
  size_t excluded = 0;              // colours left out because count <= 10
  double total() const { return cum_weights.empty() ? 0.0 : cum_weights.back(); }
};

// Throws Error naming the group when it has no drawable colour.
SamplingTable MakeSamplingTable(const PaletteGroup& group);
// True when the group has at least one colour with count > 10.
bool IsDrawable(const PaletteGroup& group);

// One draw (random.choices(colors, weights)[0]); an index into table.colors.
size_t DrawIndex(const SamplingTable& table, PyRandom* rng);
// k draws with replacement (random.choices(colors, weights, k=k)).
std::vector<Rgb> DrawColors(const SamplingTable& table, PyRandom* rng, size_t k);

// random.choice over the drawable groups of the file, in file order. Throws Error when
// no group is drawable.
const PaletteGroup& ChooseGroup(const PaletteFile& file, PyRandom* rng);

}  // namespace animerun::palette
