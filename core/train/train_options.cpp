#include "core/train/train_options.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <type_traits>

#include "core/data/flow_mixture.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "models/common/flow_factory.h"

namespace animerun::train {

namespace {

using Kind = TrainOptionField::Kind;

struct FieldImpl {
  TrainOptionField info;
  std::function<nlohmann::json(const TrainOptions&)> get;
  std::function<void(TrainOptions&, const nlohmann::json&)> set;  // j already type-checked
};

template <class T>
FieldImpl MakeField(const std::string& key, T TrainOptions::*member, const std::string& help,
                    const std::string& task = "", std::vector<std::string> choices = {}) {
  Kind kind = Kind::kString;
  if constexpr (std::is_same_v<T, int>) kind = Kind::kInt;
  if constexpr (std::is_same_v<T, double>) kind = Kind::kDouble;
  if constexpr (std::is_same_v<T, bool>) kind = Kind::kBool;
  return {{key, kind, help, task, std::move(choices)},
          [member](const TrainOptions& o) { return nlohmann::json(o.*member); },
          [member](TrainOptions& o, const nlohmann::json& j) { o.*member = j.get<T>(); }};
}

const std::vector<FieldImpl>& Impl() {
  static const std::vector<FieldImpl> fields = {
      MakeField("task", &TrainOptions::task, "what is trained", "", {"ant", "flow"}),
      MakeField("model", &TrainOptions::model, "the flow network", "flow", models::FlowModelNames()),
      MakeField("data", &TrainOptions::data, "AnimeRun-layout root holding the splits"),
      MakeField("train_split", &TrainOptions::train_split, "split folder of the training pairs"),
      MakeField("val_split", &TrainOptions::val_split, "split folder for validation (\"\" = none)"),
      MakeField("pass", &TrainOptions::pass, "Frame_Anime pass giving the images"),
      MakeField("datasets", &TrainOptions::datasets,
                "training mixture KIND[@PATH][:FACTOR],... (kinds: anime, things, things-final, sintel, "
                "sintel-final, creative, pairs)",
                "flow"),
      MakeField("things_root", &TrainOptions::things_root, "FlyingThings3D folder (\"things\" entries)", "flow"),
      MakeField("sintel_root", &TrainOptions::sintel_root, "MPI-Sintel folder (\"sintel\" entries)", "flow"),
      MakeField("creative_root", &TrainOptions::creative_root, "Creative Flow+ decompressed folder", "flow"),
      MakeField("pairs_file", &TrainOptions::pairs_file, "pairs list: img1 img2 flow [valid] per line", "flow"),
      MakeField("iterations", &TrainOptions::iterations, "optimizer updates"),
      MakeField("batch_size", &TrainOptions::batch_size, "pairs per update", "flow"),
      MakeField("accumulation", &TrainOptions::accumulation, "batches accumulated per update"),
      MakeField("optimizer", &TrainOptions::optimizer, "optimizer", "", {"adam", "adamw"}),
      MakeField("lr", &TrainOptions::lr, "learning rate (one-cycle: its peak)"),
      MakeField("schedule", &TrainOptions::schedule, "learning-rate schedule", "", {"constant", "onecycle"}),
      MakeField("beta1", &TrainOptions::beta1, "Adam(W) beta1"),
      MakeField("beta2", &TrainOptions::beta2, "Adam(W) beta2"),
      MakeField("epsilon", &TrainOptions::epsilon, "Adam(W) epsilon"),
      MakeField("weight_decay", &TrainOptions::weight_decay, "Adam(W) weight decay"),
      MakeField("clip", &TrainOptions::clip, "gradient-norm clipping (0 = off)"),
      MakeField("gamma", &TrainOptions::gamma, "sequence-loss decay over the predictions", "flow"),
      MakeField("refine_iters", &TrainOptions::refine_iters, "RAFT/GMA iterations in training", "flow"),
      MakeField("precision", &TrainOptions::precision,
                "fp32; bf16 autocast (CPU or CUDA); fp16 autocast with loss scaling (CUDA)", "", {"fp32", "bf16", "fp16"}),
      MakeField("loss_scale", &TrainOptions::loss_scale,
                "initial dynamic loss scale (0 = 65536 with fp16, none otherwise)"),
      MakeField("winograd", &TrainOptions::winograd,
                "CPU fp32: 3x3 convolutions by oneDNN's Winograd F(4x4,3x3) (false: direct, as PyTorch)", "flow"),
      MakeField("crop_height", &TrainOptions::crop_height, "random crop height (px)"),
      MakeField("crop_width", &TrainOptions::crop_width, "random crop width (px)"),
      MakeField("min_scale", &TrainOptions::min_scale, "log2 scale augmentation, lower end", "flow"),
      MakeField("max_scale", &TrainOptions::max_scale, "log2 scale augmentation, upper end", "flow"),
      MakeField("do_flip", &TrainOptions::do_flip, "random flips", "flow"),
      MakeField("photometric", &TrainOptions::photometric, "colour jitter and eraser", "flow"),
      MakeField("area_weighted", &TrainOptions::area_weighted, "weight each segment's loss by its area share", "ant"),
      MakeField("unmatched_weight", &TrainOptions::unmatched_weight,
                "loss weight of segments without a partner (1 = official)", "ant"),
      MakeField("dustbin_lr_scale", &TrainOptions::dustbin_lr_scale,
                "learning rate of the dustbin score as a multiple of lr (1 = official)", "ant"),
      MakeField("freeze_encoder", &TrainOptions::freeze_encoder,
                "keep the CNN encoder fixed, train the box encoder and attention only (faster)", "ant"),
      MakeField("workers", &TrainOptions::workers, "threads preparing batches ahead of the model", "flow"),
      MakeField("seed", &TrainOptions::seed, "random seed (init, sampling, augmentation)"),
      MakeField("checkpoint_every", &TrainOptions::checkpoint_every, "updates between checkpoints (0 = end only)"),
      MakeField("eval_every", &TrainOptions::eval_every, "updates between validations (0 = end only)"),
      MakeField("eval_pairs", &TrainOptions::eval_pairs, "validation pairs (0 = all)"),
      MakeField("eval_iters", &TrainOptions::eval_iters, "RAFT/GMA iterations at validation", "flow"),
      MakeField("eval_at_start", &TrainOptions::eval_at_start, "validate the initial weights (baseline)"),
      MakeField("log_every", &TrainOptions::log_every, "updates between step events"),
      MakeField("cache_data", &TrainOptions::cache_data, "keep decoded training pairs in memory", "ant"),
      MakeField("init_weights", &TrainOptions::init_weights,
                "start from these weights (official file format or builtin:NAME; \"\" = random)"),
      MakeField("device", &TrainOptions::device, "cpu, cuda or cuda:N"),
      MakeField("threads", &TrainOptions::threads, "LibTorch CPU threads (0 = all cores or ANIMERUN_THREADS)"),
      MakeField("dist_timeout_s", &TrainOptions::dist_timeout_s,
                "several processes: seconds before a dead or hung process fails the run"),
  };
  return fields;
}

const FieldImpl* FindField(const std::string& key) {
  for (const auto& f : Impl())
    if (f.info.key == key) return &f;
  return nullptr;
}

bool TypeFits(Kind kind, const nlohmann::json& j) {
  switch (kind) {
    case Kind::kString: return j.is_string();
    case Kind::kInt: return j.is_number_integer() && j.get<int64_t>() >= INT32_MIN && j.get<int64_t>() <= INT32_MAX;
    case Kind::kDouble: return j.is_number();
    case Kind::kBool: return j.is_boolean();
  }
  return false;
}

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kString: return "a string";
    case Kind::kInt: return "an integer";
    case Kind::kDouble: return "a number";
    case Kind::kBool: return "true or false";
  }
  return "?";
}

}  // namespace

std::string TrainOptions::FlowRoot(const std::string& kind, std::string* field) const {
  std::string unused;
  std::string& f = field ? *field : unused;
  if (kind == "anime") return f = "data", data;
  if (kind == "things" || kind == "things-final") return f = "things_root", things_root;
  if (kind == "sintel" || kind == "sintel-final") return f = "sintel_root", sintel_root;
  if (kind == "creative") return f = "creative_root", creative_root;
  return f = "pairs_file", pairs_file;
}

void TrainOptions::Check() const {
  Require(task == "ant" || task == "flow", "task: unknown task '" + task + "' (known: ant, flow)");
  const auto& names = models::FlowModelNames();
  if (task == "flow")
    Require(std::find(names.begin(), names.end(), model) != names.end(),
            "model: unknown flow network '" + model + "' (known: raft, raft-small, gma, gmflow, gmflow-refine, pwcnet)");
  Require(task != "ant" || !data.empty(), "data: the dataset root is required");
  Require(!train_split.empty(), "train_split: required");
  Require(!pass.empty(), "pass: required");
  if (task == "flow") {
    try {
      data::ParseFlowMixture(datasets);
    } catch (const Error& e) {
      throw Error(std::string("datasets: ") + e.what());
    }
  }
  Require(iterations >= 1 && iterations <= 100000000, "iterations: must be in 1..1e8");
  Require(batch_size >= 1 && batch_size <= 4096, "batch_size: must be in 1..4096");
  Require(accumulation >= 1 && accumulation <= 4096, "accumulation: must be in 1..4096");
  Require(optimizer == "adam" || optimizer == "adamw", "optimizer: must be adam or adamw, got '" + optimizer + "'");
  Require(schedule == "constant" || schedule == "onecycle",
          "schedule: must be constant or onecycle, got '" + schedule + "'");
  Require(lr > 0.0 && lr < 1.0, "lr: must be in (0, 1)");
  Require(beta1 >= 0.0 && beta1 < 1.0, "beta1: must be in [0, 1)");
  Require(beta2 >= 0.0 && beta2 < 1.0, "beta2: must be in [0, 1)");
  Require(epsilon > 0.0 && epsilon < 1.0, "epsilon: must be in (0, 1)");
  Require(weight_decay >= 0.0 && weight_decay < 1.0, "weight_decay: must be in [0, 1)");
  Require(clip >= 0.0 && std::isfinite(clip), "clip: must be >= 0 (0 = off)");
  Require(std::isfinite(unmatched_weight) && unmatched_weight > 0.0 && unmatched_weight <= 100.0,
          "unmatched_weight: must be in (0, 100] (1 = the official loss)");
  Require(std::isfinite(dustbin_lr_scale) && dustbin_lr_scale > 0.0 && dustbin_lr_scale <= 10000.0,
          "dustbin_lr_scale: must be in (0, 10000] (1 = the official)");
  Require(gamma > 0.0 && gamma <= 1.0, "gamma: must be in (0, 1]");
  Require(refine_iters >= 1 && refine_iters <= 100, "refine_iters: must be in 1..100");
  Require(eval_iters >= 1 && eval_iters <= 1000, "eval_iters: must be in 1..1000");
  Require(precision == "fp32" || precision == "bf16" || precision == "fp16",
          "precision: must be fp32, bf16 or fp16, got '" + precision + "'");
  Require(precision != "fp16" || device.rfind("cuda", 0) == 0,
          "precision: fp16 training needs a CUDA device (device is '" + device + "'); on the CPU use bf16 or fp32");
  Require(std::isfinite(loss_scale) && loss_scale >= 0.0, "loss_scale: must be >= 0 (0 = automatic)");
  Require(crop_height >= 16 && crop_height <= 8192, "crop_height: must be in 16..8192");
  Require(crop_width >= 16 && crop_width <= 8192, "crop_width: must be in 16..8192");
  Require(std::isfinite(min_scale) && std::isfinite(max_scale) && min_scale <= max_scale && min_scale >= -4 &&
              max_scale <= 4,
          "min_scale/max_scale: need -4 <= min_scale <= max_scale <= 4 (log2 of the scale)");
  Require(workers >= 1 && workers <= 64, "workers: must be in 1..64");
  Require(seed >= 0, "seed: must be >= 0");
  Require(checkpoint_every >= 0, "checkpoint_every: must be >= 0");
  Require(eval_every >= 0, "eval_every: must be >= 0");
  Require(eval_pairs >= 0, "eval_pairs: must be >= 0");
  Require(log_every >= 1, "log_every: must be >= 1");
  Require(threads >= 0 && threads <= 1024, "threads: must be in 0..1024 (0 = the process default)");
  Require(dist_timeout_s >= 1 && dist_timeout_s <= 86400, "dist_timeout_s: must be in 1..86400 seconds");
  Require(device == "cpu" || device == "cuda" || device.rfind("cuda:", 0) == 0,
          "device: must be cpu, cuda or cuda:N, got '" + device + "'");
}

nlohmann::json TrainOptions::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : Impl()) j[f.info.key] = f.get(*this);
  return j;
}

void TrainOptions::MergeJson(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": training options must be a JSON object");
  TrainOptions next = *this;  // all or nothing: no half-applied config on error
  for (const auto& [key, value] : j.items()) {
    if (key == "preset") continue;  // handled by LoadTrainConfig
    const FieldImpl* f = FindField(key);
    if (!f) throw Error(source + ": unknown training option '" + key + "'");
    if (!TypeFits(f->info.kind, value))
      throw Error(source + ": option '" + key + "' must be " + KindName(f->info.kind) + ", got " + value.dump());
    f->set(next, value);
  }
  *this = next;
}

void TrainOptions::ApplyOverride(const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) throw Error("--set " + assignment + ": expected key=value");
  const std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  const FieldImpl* f = FindField(key);
  if (!f) throw Error("--set " + assignment + ": unknown training option '" + key + "'");
  const std::string where = "--set " + assignment;
  nlohmann::json value;
  switch (f->info.kind) {
    case Kind::kString: value = text; break;
    case Kind::kBool:
      if (text == "true" || text == "1") value = true;
      else if (text == "false" || text == "0") value = false;
      else throw Error(where + ": expected true or false");
      break;
    case Kind::kInt: {
      char* end = nullptr;
      errno = 0;
      const long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || errno != 0 || v < INT32_MIN || v > INT32_MAX)
        throw Error(where + ": expected an integer");
      value = static_cast<int>(v);
      break;
    }
    case Kind::kDouble: {
      char* end = nullptr;
      const double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0') throw Error(where + ": expected a number");
      value = v;
      break;
    }
  }
  f->set(*this, value);
}

const std::vector<TrainOptionField>& TrainOptionFields() {
  static const std::vector<TrainOptionField> fields = [] {
    std::vector<TrainOptionField> v;
    for (const auto& f : Impl()) v.push_back(f.info);
    return v;
  }();
  return fields;
}

std::vector<std::string> TrainPresetNames() {
  return {"ant-animerun", "ant-tiny", "raft-animerun", "gma-animerun", "gmflow-animerun", "pwcnet-animerun",
          "flow-tiny"};
}

namespace {

// What every AnimeRun flow finetuning script shares (flow/train_*.py + *.sh, notes §5):
// anime = 200 * AnimeRun(train, original) + FlyingThings3D(clean), AdamW(lr 1e-4, eps 1e-8),
// OneCycle over num_steps + 100, clip 1.0, gamma 0.85, 12 iterations, frozen BatchNorm,
// RAFT's augmentation with scale -0.2..0.6 and flips, validation on AnimeRun test.
TrainOptions AnimeRunFlowRecipe(const std::string& model) {
  TrainOptions o;
  o.task = "flow";
  o.model = model;
  o.datasets = "anime:200,things:1";
  o.iterations = 20000;
  o.batch_size = 12;
  o.accumulation = 1;
  o.optimizer = "adamw";
  o.lr = 1e-4;
  o.schedule = "onecycle";
  o.beta2 = 0.999;  // torch.optim.AdamW's default
  // The scripts pass --wdecay 0.00001; the supplementary's text says 5e-5. The scripts are
  // what produced the released numbers.
  o.weight_decay = 1e-5;
  o.clip = 1.0;
  o.gamma = 0.85;
  o.refine_iters = 12;
  o.crop_height = 368;
  o.crop_width = 768;
  o.checkpoint_every = 1000;
  o.eval_every = 5000;  // the scripts' VAL_FREQ
  o.eval_iters = 32;
  return o;
}

}  // namespace

TrainOptions TrainPreset(const std::string& name) {
  TrainOptions o;  // the defaults are the AnT paper recipe
  if (name == "ant-animerun") return o;
  if (name == "ant-tiny") {
    o.iterations = 20;
    o.accumulation = 2;
    o.crop_height = 64;
    o.crop_width = 96;
    o.checkpoint_every = 5;
    o.eval_every = 10;
    o.eval_pairs = 2;
    o.cache_data = true;
    return o;
  }
  if (name == "raft-animerun") return AnimeRunFlowRecipe("raft");
  if (name == "gma-animerun") return AnimeRunFlowRecipe("gma");
  if (name == "gmflow-animerun") {
    // train_gmflow.py builds GMFlow with refinement (attn splits [2, 8], corr radius
    // [-1, 4], prop radius [-1, 1]), batch 6, 384 x 768, no freeze_bn (it has no BatchNorm).
    o = AnimeRunFlowRecipe("gmflow-refine");
    o.batch_size = 6;
    o.crop_height = 384;
    return o;
  }
  if (name == "pwcnet-animerun") {
    o = AnimeRunFlowRecipe("pwcnet");  // train_pwc_anime.sh: 100k steps, one GPU
    o.iterations = 100000;
    return o;
  }
  if (name == "flow-tiny") {
    // Minutes on a 2-core CPU: small crops and batches of the AnimeRun recipe, on the
    // AnimeRun-layout data alone (e.g. `animerun synth`), validating a few pairs.
    o = AnimeRunFlowRecipe("raft-small");
    o.datasets = "anime:1";
    o.iterations = 300;
    o.batch_size = 2;
    o.crop_height = 128;
    o.crop_width = 192;
    o.refine_iters = 6;
    o.lr = 4e-4;
    o.weight_decay = 1e-5;
    o.checkpoint_every = 50;
    o.eval_every = 100;
    o.eval_pairs = 4;
    o.eval_iters = 12;
    return o;
  }
  std::string known;
  for (const auto& n : TrainPresetNames()) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown preset '" + name + "' (known: " + known + ")");
}

TrainOptions LoadTrainConfig(const std::string& path) {
  const std::string text = ReadFileText(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    ThrowFileError(path, std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) ThrowFileError(path, "training config must be a JSON object");
  TrainOptions o;
  if (j.contains("preset")) {
    if (!j["preset"].is_string()) ThrowFileError(path, "'preset' must be a string");
    try {
      o = TrainPreset(j["preset"].get<std::string>());
    } catch (const Error& e) {
      ThrowFileError(path, e.what());
    }
  } else if (j.contains("task") && j["task"] == "flow") {
    // A flow config without a preset starts from its network's AnimeRun recipe, not from the
    // AnT defaults (whose 16 accumulated batches per update made a flow run 16x slower).
    const std::string model =
        j.contains("model") && j["model"].is_string() ? j["model"].get<std::string>() : std::string("raft");
    o = model == "pwcnet"                 ? TrainPreset("pwcnet-animerun")
        : model.rfind("gmflow", 0) == 0 ? TrainPreset("gmflow-animerun")
                                        : AnimeRunFlowRecipe(model);
    o.model = model;
  }
  o.MergeJson(j, path);
  return o;
}

void SaveTrainConfig(const std::string& path, const TrainOptions& options) {
  WriteFileAtomic(path, options.ToJson().dump(2) + "\n");
}

}  // namespace animerun::train
