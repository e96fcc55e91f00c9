#include "core/train/train_options.h"

#include <cerrno>
#include <cstdlib>
#include <type_traits>

#include "core/util/error.h"
#include "core/util/fs.h"

namespace animerun::train {

namespace {

using Kind = TrainOptionField::Kind;

struct FieldImpl {
  TrainOptionField info;
  std::function<nlohmann::json(const TrainOptions&)> get;
  std::function<void(TrainOptions&, const nlohmann::json&)> set;  // j already type-checked
};

template <class T>
FieldImpl MakeField(const std::string& key, T TrainOptions::*member, const std::string& help) {
  Kind kind = Kind::kString;
  if constexpr (std::is_same_v<T, int>) kind = Kind::kInt;
  if constexpr (std::is_same_v<T, double>) kind = Kind::kDouble;
  if constexpr (std::is_same_v<T, bool>) kind = Kind::kBool;
  return {{key, kind, help},
          [member](const TrainOptions& o) { return nlohmann::json(o.*member); },
          [member](TrainOptions& o, const nlohmann::json& j) { o.*member = j.get<T>(); }};
}

const std::vector<FieldImpl>& Impl() {
  static const std::vector<FieldImpl> fields = {
      MakeField("task", &TrainOptions::task, "what is trained: ant"),
      MakeField("data", &TrainOptions::data, "AnimeRun-layout root holding the splits"),
      MakeField("train_split", &TrainOptions::train_split, "split folder of the training pairs"),
      MakeField("val_split", &TrainOptions::val_split, "split folder for validation (\"\" = none)"),
      MakeField("pass", &TrainOptions::pass, "Frame_Anime pass giving the images"),
      MakeField("iterations", &TrainOptions::iterations, "optimizer updates"),
      MakeField("accumulation", &TrainOptions::accumulation, "samples accumulated per update"),
      MakeField("lr", &TrainOptions::lr, "Adam learning rate"),
      MakeField("beta1", &TrainOptions::beta1, "Adam beta1"),
      MakeField("beta2", &TrainOptions::beta2, "Adam beta2"),
      MakeField("weight_decay", &TrainOptions::weight_decay, "Adam weight decay"),
      MakeField("crop_height", &TrainOptions::crop_height, "random crop height (px)"),
      MakeField("crop_width", &TrainOptions::crop_width, "random crop width (px)"),
      MakeField("area_weighted", &TrainOptions::area_weighted, "weight each segment's loss by its area share"),
      MakeField("seed", &TrainOptions::seed, "random seed (init, sampling, crops)"),
      MakeField("checkpoint_every", &TrainOptions::checkpoint_every, "updates between checkpoints (0 = end only)"),
      MakeField("eval_every", &TrainOptions::eval_every, "updates between validations (0 = end only)"),
      MakeField("eval_pairs", &TrainOptions::eval_pairs, "validation pairs (0 = all)"),
      MakeField("eval_at_start", &TrainOptions::eval_at_start, "validate the initial weights (baseline)"),
      MakeField("log_every", &TrainOptions::log_every, "updates between step events"),
      MakeField("cache_data", &TrainOptions::cache_data, "keep decoded training pairs in memory"),
      MakeField("init_weights", &TrainOptions::init_weights, "start from these AnT weights (\"\" = random)"),
      MakeField("device", &TrainOptions::device, "cpu, cuda or cuda:N"),
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

void TrainOptions::Check() const {
  Require(task == "ant", "task: unknown task '" + task + "' (known: ant)");
  Require(!data.empty(), "data: the dataset root is required");
  Require(!train_split.empty(), "train_split: required");
  Require(!pass.empty(), "pass: required");
  Require(iterations >= 1 && iterations <= 100000000, "iterations: must be in 1..1e8");
  Require(accumulation >= 1 && accumulation <= 4096, "accumulation: must be in 1..4096");
  Require(lr > 0.0 && lr < 1.0, "lr: must be in (0, 1)");
  Require(beta1 >= 0.0 && beta1 < 1.0, "beta1: must be in [0, 1)");
  Require(beta2 >= 0.0 && beta2 < 1.0, "beta2: must be in [0, 1)");
  Require(weight_decay >= 0.0 && weight_decay < 1.0, "weight_decay: must be in [0, 1)");
  Require(crop_height >= 16 && crop_height <= 8192, "crop_height: must be in 16..8192");
  Require(crop_width >= 16 && crop_width <= 8192, "crop_width: must be in 16..8192");
  Require(seed >= 0, "seed: must be >= 0");
  Require(checkpoint_every >= 0, "checkpoint_every: must be >= 0");
  Require(eval_every >= 0, "eval_every: must be >= 0");
  Require(eval_pairs >= 0, "eval_pairs: must be >= 0");
  Require(log_every >= 1, "log_every: must be >= 1");
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

std::vector<std::string> TrainPresetNames() { return {"ant-animerun", "ant-tiny"}; }

TrainOptions TrainPreset(const std::string& name) {
  TrainOptions o;  // the defaults are the paper recipe
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
  throw Error("unknown preset '" + name + "' (known: ant-animerun, ant-tiny)");
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
  }
  o.MergeJson(j, path);
  return o;
}

void SaveTrainConfig(const std::string& path, const TrainOptions& options) {
  WriteFileAtomic(path, options.ToJson().dump(2) + "\n");
}

}  // namespace animerun::train
