// What eval-flow and eval-match share: opening the dataset (its problems as warnings on
// stderr) and writing the metrics JSON with where the numbers came from.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/data/animerun_dataset.h"

namespace animerun::cli {

// Opens <data>/<split> indexing the frames of pass; throws Error for a missing or foreign folder.
data::AnimeRunDataset OpenEvalDataset(const std::string& data, const std::string& split, const std::string& pass);

// Adds "source" ({data, split, pass, <source_kind>: source}) and "dataset_problems" (pairs the
// indexer dropped are not in the numbers) to j and writes it atomically to path.
void WriteEvalJson(nlohmann::json j, const std::string& path, const std::string& data, const std::string& split,
                   const std::string& pass, const std::string& source_kind, const std::string& source,
                   const std::vector<std::string>& problems);

}  // namespace animerun::cli
