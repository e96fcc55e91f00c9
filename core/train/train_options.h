// Training options: one plain struct feeds `animerun train` (config file, presets,
// --set key=value), RUN_DIR/config.json and the GUI training dialog (its form is generated
// from TrainOptionFields()). `task` picks what is trained: "ant" (AnT segment matching) or
// "flow" (one of the optical-flow networks, `model`); fields that apply to one task only say so.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace animerun::train {

struct TrainOptions {
  // --- what is trained, on what ---
  std::string task = "ant";           // "ant" (AnT segment matching) or "flow" (an optical-flow network)
  std::string model = "raft";         // flow: raft, raft-small, gma, gmflow, gmflow-refine, pwcnet
  std::string data;                   // AnimeRun-layout root holding the splits (AnT: required;
                                      // flow: the "anime" datasets entry and validation)
  std::string train_split = "train";  // split folder of the training pairs
  std::string val_split = "test";     // split folder for validation; "" = no validation
  std::string pass = "original";      // Frame_Anime pass giving the images (as at inference)
  std::string datasets = "anime:1";   // flow: training mixture KIND[@PATH][:FACTOR],... (flow_mixture.h),
                                      // e.g. the AnimeRun recipe anime:200,things:1
  std::string things_root;            // flow: FlyingThings3D folder for "things" entries
  std::string sintel_root;            // flow: MPI-Sintel folder for "sintel" entries
  std::string creative_root;          // flow: Creative Flow+ decompressed folder for "creative" entries
  std::string pairs_file;             // flow: pairs list file for "pairs" entries
  // --- optimisation ---
  int iterations = 3000;              // optimizer updates
  int batch_size = 1;                 // flow: pairs per update (AnimeRun: 12; GMFlow 6)
  int accumulation = 16;              // batches accumulated per update (AnimeRun AnT: batch 1, 16 accumulated)
  std::string optimizer = "adam";     // adam (AnT) or adamw (flow, as the official train.py)
  double lr = 1e-4;                   // learning rate (the peak of the one-cycle schedule)
  std::string schedule = "constant";  // constant, or onecycle (RAFT's OneCycleLR: 5% linear warm-up,
                                      // linear decay, over iterations + 100 steps)
  double beta1 = 0.9;                 // Adam(W) beta1
  double beta2 = 0.99;                // Adam(W) beta2 (AnT supplementary; the public yaml and AdamW use 0.999)
  double epsilon = 1e-8;              // Adam(W) epsilon
  double weight_decay = 0.0;          // Adam(W) weight decay
  double clip = 0.0;                  // gradient-norm clipping (0 = off; the flow recipes use 1.0)
  double gamma = 0.85;                // flow: sequence-loss decay over the predictions (AnimeRun: 0.85)
  int refine_iters = 12;              // flow: RAFT/GMA refinement iterations in training (AnimeRun: 12)
  std::string precision = "fp32";     // fp32; bf16 (autocast: convolutions and matmuls in bf16, fp32
                                      // weights, correlation and loss; CPU or CUDA); fp16 (the same in
                                      // fp16 with dynamic loss scaling; CUDA only)
  double loss_scale = 0.0;            // dynamic loss scaling's initial scale (loss_scaler.h); 0 = 65536
                                      // with fp16 and no scaling otherwise; > 0 scales in any precision
  bool winograd = true;               // flow: 3x3 stride-1 convolutions of CPU fp32 training by oneDNN's
                                      // Winograd F(4x4, 3x3) where the build has it (Debian LibTorch;
                                      // models/common/dnnl_winograd_conv.h): 4x fewer multiplies, 1-3e-6
                                      // relative rounding. false: direct convolutions, as PyTorch
  // --- data augmentation ---
  int crop_height = 368;              // random crop size; AnT: frames smaller than it are used whole
  int crop_width = 368;
  double min_scale = -0.2;            // flow: log2 scale range of the spatial augmentation
  double max_scale = 0.6;
  bool do_flip = true;                // flow: random flips
  bool photometric = true;            // flow: colour jitter and eraser
  bool area_weighted = true;          // AnT: loss weight |S_i| / (H*W) per segment (else plain mean)
  double unmatched_weight = 1.0;      // AnT: loss weight of a segment without a partner (dustbin target)
                                      // relative to one with a partner; 1 = the official loss. The
                                      // dustbin rows are few (~15% on synthetic frames) and tiny, and
                                      // a plain mean learns to ignore them
  double dustbin_lr_scale = 1.0;      // AnT: learning rate of the dustbin score (bin_score) as a multiple
                                      // of lr; 1 = the official. Adam moves that one scalar ~lr per
                                      // update while the learned scores reach ~5-10, so at 1 a short
                                      // run never reaches the dustbin
  bool freeze_encoder = false;        // AnT: keep the CNN encoder's weights as they start (init_weights or
                                      // the seeded initialisation) and train the box encoder and attention
                                      // only; the encoder's backward at full resolution is ~85% of an
                                      // update's time on a CPU; with cache_data, whole-frame samples
                                      // (frames no larger than the crop) compute the encoder once per pair
  int workers = 2;                    // flow: threads decoding and augmenting batches ahead of the model
  // --- run ---
  int seed = 42;                      // model init, sampling and augmentation; same seed -> same run
  int checkpoint_every = 100;         // updates between checkpoints (0: only at the end / stop)
  int eval_every = 500;               // updates between validations (0: only at the end)
  int eval_pairs = 0;                 // validation pairs (first N in dataset order; 0 = all)
  int eval_iters = 32;                // flow: RAFT/GMA iterations at validation (AnimeRun evaluates with 32)
  bool eval_at_start = false;         // validate the initial weights too (a baseline; not on resume)
  int log_every = 1;                  // updates between "step" events
  bool cache_data = false;            // AnT: keep decoded training pairs in memory (small datasets)
  std::string init_weights;           // start from these weights (the network's official file format, or
                                      // builtin:NAME); "" = random
  std::string device = "cpu";         // cpu, cuda or cuda:N
  int threads = 0;                    // LibTorch CPU threads; 0 = the process's setting (animerun: all
                                      // cores, or ANIMERUN_THREADS)
  int dist_timeout_s = 300;           // data-parallel runs (docs/training.md): joining the run and each
                                      // collective fail after this many seconds, so a process that died
                                      // or hangs ends the others with an error instead of a hang
  void Check() const;                 // throws Error naming the field on bad values
  // The initial loss scale this run uses; 0 = no loss scaling.
  double EffectiveLossScale() const { return loss_scale > 0.0 ? loss_scale : precision == "fp16" ? 65536.0 : 0.0; }
  // The folder (pairs: list file) a datasets entry of `kind` reads when it names none, and
  // the field it comes from (data, things_root, sintel_root, creative_root, pairs_file).
  std::string FlowRoot(const std::string& kind, std::string* field = nullptr) const;

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
  std::string task;                  // "ant" or "flow" when the field applies to one task only
  std::vector<std::string> choices;  // the allowed values of a string field (empty: free text)
};
const std::vector<TrainOptionField>& TrainOptionFields();

// Presets: "ant-animerun" (the paper recipe), "ant-tiny" (seconds on a CPU; tests, demo),
// one per flow network reproducing AnimeRun's finetuning scripts ("raft-animerun",
// "gma-animerun", "gmflow-animerun", "pwcnet-animerun"; docs/training.md lists where they
// follow the scripts and where the supplementary) and "flow-tiny" (minutes on a CPU).
std::vector<std::string> TrainPresetNames();
TrainOptions TrainPreset(const std::string& name);  // throws Error for an unknown name

// A config file: a JSON object of fields, optionally with "preset": NAME as the base that
// the other fields override; without one, a "task": "flow" config starts from its model's
// AnimeRun recipe and any other from the defaults (AnT's). Throws Error naming the file
// when unreadable or invalid.
TrainOptions LoadTrainConfig(const std::string& path);
void SaveTrainConfig(const std::string& path, const TrainOptions& options);  // atomic

}  // namespace animerun::train
