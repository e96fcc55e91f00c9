#include "app/cli/eval_cli.h"

#include <cstdio>

#include "core/util/fs.h"

namespace animerun::cli {

data::AnimeRunDataset OpenEvalDataset(const std::string& data, const std::string& split, const std::string& pass) {
  data::DatasetOptions d;
  d.split = split;
  d.pass = pass;
  d.Check();
  data::AnimeRunDataset ds = data::AnimeRunDataset::Open(data, d);
  for (const auto& problem : ds.AllProblems()) std::fprintf(stderr, "warning: %s\n", problem.c_str());
  return ds;
}

void WriteEvalJson(nlohmann::json j, const std::string& path, const std::string& data, const std::string& split,
                   const std::string& pass, const std::string& source_kind, const std::string& source,
                   const std::vector<std::string>& problems) {
  j["source"] = {{"data", data}, {"split", split}, {"pass", pass}, {source_kind, source}};
  j["dataset_problems"] = problems;
  WriteFileAtomic(path, j.dump(1) + "\n");
  std::printf("metrics written to %s\n", path.c_str());
}

}  // namespace animerun::cli
