// The demo that opens on first start, offline: a synthetic AnimeRun dataset (the
// generator's defaults: 2 scenes x 6 frames at 960x540, with a recoloured pass) and, beside
// it, a palette file whose groups are extracted from the demo's own frames, so that every
// panel has something to show.
#pragma once

#include <filesystem>

#include "core/jobs/job.h"

namespace animerun::session {

// The split the demo is generated into.
inline constexpr const char* kDemoSplit = "test";

// The palette file a dataset folder may carry; the palette panel opens it with the folder.
std::filesystem::path PalettesBeside(const std::filesystem::path& folder);

// The dataset and its palette file are both there.
bool DemoReady(const std::filesystem::path& folder);

// Makes what the demo lacks. The dataset is generated into "<folder>.partial" and renamed
// when complete, so a cancelled or failed run never leaves a half-written demo; the palette
// file is written atomically. Throws Error on failure, Cancelled when job asks.
void PrepareDemo(const std::filesystem::path& folder, const JobContext* job = nullptr);

}  // namespace animerun::session
