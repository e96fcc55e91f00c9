// The trainer's random source is the project's reproducible generator (core/util/rng.h):
// its whole state goes into the checkpoint, so a resumed run draws what an uninterrupted
// one would.
#pragma once

#include "core/util/rng.h"

namespace animerun::train {

using TrainRng = animerun::Rng;

}  // namespace animerun::train
