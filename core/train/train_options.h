// Training options: one plain struct feeds `animerun train` (config file, presets,
// --set key=value), RUN_DIR/config.json and the GUI training dialog (its form is generated
// from TrainOptionFields()). Model-agnostic: `task` picks what is trained (only "ant" now;
// the flow models plug in as further tasks, see train_task.h).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace animerun::train {

struct TrainOptions {
  std::string task = "ant";           // what is trained: "ant" (AnT segment matching)
  std::string data;                   // AnimeRun-layout root holding the splits (required)
  std::string train_split = "train";  // split folder of the training pairs
  std::string val_split = "test";     // split folder for validation; "" = no validation
  std::string pass = "original";      // Frame_Anime pass giving the images (as at inference)
  int iterations = 3000;              // optimizer updates (each sums `accumulation` samples)
  int accumulation = 16;              // samples per update (AnimeRun: batch 1, 16 accumulated)
  double lr = 1e-4;                   // Adam learning rate (constant)
  double beta1 = 0.9;                 // Adam beta1
  double beta2 = 0.99;                // Adam beta2 (AnT supplementary; the public yaml has 0.999)
  double weight_decay = 0.0;          // Adam weight decay
  int crop_height = 368;              // random crop size; frames smaller than it are used whole
  int crop_width = 368;
  bool area_weighted = true;          // loss weight |S_i| / (H*W) per segment (else plain mean)
  int seed = 42;                      // model init, sampling and crops; same seed -> same run
  int checkpoint_every = 100;         // updates between checkpoints (0: only at the end / stop)
  int eval_every = 500;               // updates between validations (0: only at the end)
  int eval_pairs = 0;                 // validation pairs (first N in dataset order; 0 = all)
  bool eval_at_start = false;         // validate the initial weights too (a baseline; not on resume)
  int log_every = 1;                  // updates between "step" events
  bool cache_data = false;            // keep decoded training pairs in memory (small datasets)
  std::string init_weights;           // start from these AnT weights (LoadAntWeights); "" = random
  std::string device = "cpu";         // cpu, cuda or cuda:N
  void Check() const;                 // throws Error naming the field on bad values

  nlohmann::json ToJson() const;
  // Fields absent from j keep their current values; unknown keys or wrong types throw Error
  // (source names the file in the message).
  void MergeJson(const nlohmann::json& j, const std::string& source = "config");
  // "key=value": the value is parsed as the field's type (bool: true/false/1/0).
  void ApplyOverride(const std::string& assignment);
};

// The fields, in form order, for the GUI and --help.
struct TrainOptionField {
  enum class Kind { kString, kInt, kDouble, kBool };
  std::string key;
  Kind kind;
  std::string help;
};
const std::vector<TrainOptionField>& TrainOptionFields();

// Presets: "ant-animerun" (the paper recipe) and "ant-tiny" (seconds on a CPU; tests, demo).
std::vector<std::string> TrainPresetNames();
TrainOptions TrainPreset(const std::string& name);  // throws Error for an unknown name

// A config file: a JSON object of fields, optionally with "preset": NAME as the base that
// the other fields override. Throws Error naming the file when unreadable or invalid.
TrainOptions LoadTrainConfig(const std::string& path);
void SaveTrainConfig(const std::string& path, const TrainOptions& options);  // atomic

}  // namespace animerun::train
