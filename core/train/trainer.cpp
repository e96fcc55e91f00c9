#include "core/train/trainer.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <torch/torch.h>

#include "core/train/data_parallel.h"
#include "core/train/loss_scaler.h"
#include "core/train/lr_schedule.h"
#include "core/train/process_group.h"
#include "core/train/train_task.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "models/common/runtime.h"

namespace animerun::train {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kCheckpointVersion = 1;
// Updates in a row whose gradients are not finite before the run gives up (diverged).
constexpr int kMaxNonFiniteInARow = 20;

struct State {
  int iteration = 0;
  TrainRng rng;
};

// Adam or AdamW over the task's groups, each at lr times its scale.
template <class Optim, class Options>
std::unique_ptr<torch::optim::Optimizer> MakeAdam(const std::vector<TrainTask::ParamGroup>& groups,
                                                  const TrainOptions& o) {
  const auto options = [&](double lr) {
    return Options(lr).betas(std::make_tuple(o.beta1, o.beta2)).eps(o.epsilon).weight_decay(o.weight_decay);
  };
  std::vector<torch::optim::OptimizerParamGroup> g;
  for (const auto& pg : groups) g.emplace_back(pg.params, std::make_unique<Options>(options(o.lr * pg.lr_scale)));
  return std::make_unique<Optim>(g, options(o.lr));
}

std::unique_ptr<torch::optim::Optimizer> MakeOptimizer(const std::vector<TrainTask::ParamGroup>& groups,
                                                       const TrainOptions& o) {
  if (o.optimizer == "adamw") return MakeAdam<torch::optim::AdamW, torch::optim::AdamWOptions>(groups, o);
  return MakeAdam<torch::optim::Adam, torch::optim::AdamOptions>(groups, o);
}

// The scheduled rate times each group's scale (the optimizer was built from these groups).
void SetLearningRate(torch::optim::Optimizer& opt, double lr, const std::vector<TrainTask::ParamGroup>& groups) {
  auto& pg = opt.param_groups();
  for (size_t i = 0; i < groups.size(); ++i) pg[i].options().set_lr(lr * groups[i].lr_scale);
}

void SaveCheckpoint(const fs::path& path, TrainTask& task, torch::optim::Optimizer& opt, const State& st,
                    const TrainOptions& options, const DynamicLossScaler* scaler) {
  torch::serialize::OutputArchive ar, model_ar, opt_ar;
  task.module().save(model_ar);
  opt.save(opt_ar);
  ar.write("model", model_ar);
  ar.write("optimizer", opt_ar);
  ar.write("version", c10::IValue(kCheckpointVersion));
  ar.write("task", c10::IValue(task.name()));
  ar.write("iteration", c10::IValue(static_cast<int64_t>(st.iteration)));
  ar.write("rng", c10::IValue(st.rng.Serialize()));
  ar.write("options", c10::IValue(options.ToJson().dump()));
  if (scaler) ar.write("loss_scaler", c10::IValue(scaler->Serialize()));
  std::ostringstream os;
  ar.save_to(os);
  WriteFileAtomic(path, os.str());
}

// scaler: restored from the checkpoint when it holds a scaler state (a run without loss
// scaling resumed with it starts from the initial scale).
State LoadCheckpoint(const fs::path& path, TrainTask& task, torch::optim::Optimizer& opt, DynamicLossScaler* scaler) {
  const std::string bytes = ReadFileText(path);
  State st;
  try {
    std::istringstream is(bytes);
    torch::serialize::InputArchive ar, model_ar, opt_ar;
    ar.load_from(is);
    c10::IValue v;
    if (!ar.try_read("version", v) || !v.isInt() || v.toInt() != kCheckpointVersion)
      ThrowFileError(path.string(), "not a training checkpoint of this version");
    if (!ar.try_read("task", v) || !v.isString() || v.toStringRef() != task.name())
      ThrowFileError(path.string(), "checkpoint of another task (this run trains " + task.name() + ")");
    if (!ar.try_read("iteration", v) || !v.isInt() || v.toInt() < 0)
      ThrowFileError(path.string(), "no iteration count");
    st.iteration = static_cast<int>(v.toInt());
    if (!ar.try_read("rng", v) || !v.isString()) ThrowFileError(path.string(), "no random generator state");
    st.rng.Deserialize(v.toStringRef());
    if (scaler && ar.try_read("loss_scaler", v)) {
      if (!v.isString()) ThrowFileError(path.string(), "bad loss-scaler state");
      scaler->Deserialize(v.toStringRef(), path.string());
    }
    ar.read("model", model_ar);
    ar.read("optimizer", opt_ar);
    task.module().load(model_ar);
    opt.load(opt_ar);
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.rfind(path.string(), 0) == 0) throw;
    ThrowFileError(path.string(), "corrupt checkpoint: " + what);
  } catch (const std::exception& e) {  // c10::Error from a truncated or foreign archive
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));
    ThrowFileError(path.string(), "corrupt or truncated checkpoint: " + what);
  }
  return st;
}

// User + system CPU seconds of the process (all threads): on a shared machine the wall time
// of a step depends on the other processes, the CPU time much less.
double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// The total 2-norm of the gradients (torch.nn.utils.clip_grad_norm_'s).
double GradNorm(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> norms;
  for (const auto& p : params)
    if (p.grad().defined()) norms.push_back(p.grad().norm(2));
  if (norms.empty()) return 0.0;
  return torch::stack(norms).norm(2).item<double>();
}

// When max_norm > 0 and norm is finite, the gradients scaled by min(1, max_norm / (norm + 1e-6)).
void ClipGradients(const std::vector<torch::Tensor>& params, double max_norm, double norm) {
  if (max_norm <= 0.0 || !std::isfinite(norm)) return;
  const double coef = std::min(1.0, max_norm / (norm + 1e-6));
  if (coef < 1.0)
    for (const auto& p : params)
      if (p.grad().defined()) p.grad().mul_(coef);
}

TrainResult RunTrainingImpl(const TrainOptions& options, const TrainRunSpec& spec, const TrainEventSink& sink,
                            const JobContext* job);

}  // namespace

TrainResult RunTraining(const TrainOptions& options, const TrainRunSpec& spec, const TrainEventSink& sink,
                        const JobContext* job) {
  try {
    return RunTrainingImpl(options, spec, sink, job);
  } catch (const c10::Error& e) {  // LibTorch's message without its C++ backtrace
    throw Error(e.what_without_backtrace());
  }
}

namespace {

TrainResult RunTrainingImpl(const TrainOptions& options, const TrainRunSpec& spec, const TrainEventSink& sink,
                            const JobContext* job) {
  options.Check();
  const DistributedEnv& denv = spec.distributed;
  denv.Check();
  CheckDataParallel(options, denv.world_size);
  // Join the other processes first: a wrong address or port fails before the (possibly
  // long) data checks, and an error of any rank from here on (say, rank 0 refusing the
  // run folder) closes its connections, so the others fail at their next collective
  // instead of waiting for dist_timeout_s.
  std::unique_ptr<ProcessGroup> group;
  if (denv.distributed()) {
    ProcessGroupOptions po;
    po.rank = denv.rank;
    po.world_size = denv.world_size;
    po.backend = options.device.rfind("cuda", 0) == 0 ? "nccl" : "gloo";
    po.master_addr = denv.master_addr;
    po.master_port = denv.master_port;
    po.timeout_s = options.dist_timeout_s;
    if (job) job->Report(0.0, "joining " + std::to_string(denv.world_size) + " processes at " + denv.master_addr + ":" +
                                  std::to_string(denv.master_port));
    group = std::make_unique<ProcessGroup>(po);
  }

  // Rank 0 owns the run folder: config, events, checkpoints, weights, the STOP file. The
  // other ranks only read the checkpoint when resuming.
  const bool root = denv.rank == 0;
  Require(!spec.run_dir.empty(), "run folder: required");
  const fs::path dir = spec.run_dir;
  const fs::path ckpt = dir / kCheckpointFile, stop_file = dir / kStopFile;
  if (root && !spec.resume && fs::exists(ckpt))
    ThrowFileError(dir.string(), "already holds a training run (resume it, or choose another folder)");
  if (spec.resume && !fs::exists(ckpt))
    ThrowFileError(ckpt.string(), root ? "no checkpoint to resume from"
                                       : "no checkpoint to resume from on rank " + std::to_string(denv.rank) +
                                             " (every process reads it: the run folder must be shared, or copied "
                                             "to the same path on every machine)");
  std::ofstream events_log;
  if (root) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) ThrowFileError(dir.string(), "cannot create the run folder: " + ec.message());
    fs::remove(stop_file, ec);  // a stale stop request must not end the new session at once
    SaveTrainConfig((dir / kConfigFile).string(), options);
    events_log.open(dir / kEventsFile, std::ios::app);
  }
  if (options.threads > 0) models::ConfigureThreads(options.threads);

  auto emit = [&](const nlohmann::json& e) {
    if (!root) return;
    if (events_log) events_log << e.dump() << "\n" << std::flush;
    if (sink) sink(e);
  };
  auto stop_requested = [&] {
    return (spec.should_stop && spec.should_stop()) || (job && job->IsCancelled()) ||
           (root && fs::exists(stop_file));
  };

  const TrainShard shard{denv.rank, denv.world_size, denv.local_rank};
  std::unique_ptr<TrainTask> task = CreateTrainTask(options, job, shard);
  emit({{"event", "data"}, {"task", task->name()}, {"description", task->Describe()}});
  const std::vector<torch::Tensor> params = task->Parameters();
  const std::vector<TrainTask::ParamGroup> param_groups = task->ParamGroups();
  std::unique_ptr<torch::optim::Optimizer> opt = MakeOptimizer(param_groups, options);
  const LrSchedule schedule(options.schedule, options.lr, options.iterations);
  std::unique_ptr<DynamicLossScaler> scaler;
  if (options.EffectiveLossScale() > 0.0) {
    LossScalerOptions so;
    so.init_scale = options.EffectiveLossScale();
    scaler = std::make_unique<DynamicLossScaler>(so);
  }
  State st;
  st.rng = TrainRng(static_cast<uint64_t>(options.seed));
  if (spec.resume) st = LoadCheckpoint(ckpt, *task, *opt, scaler.get());

  std::unique_ptr<DataParallel> dp;
  const std::vector<std::string> metric_names = task->MetricNames();
  if (group) {
    dp = std::make_unique<DataParallel>(*group, params);
    const double root_iteration = dp->FromRoot({static_cast<double>(st.iteration)})[0];
    if (root_iteration != st.iteration)
      throw Error("rank " + std::to_string(denv.rank) + " resumed at iteration " + std::to_string(st.iteration) +
                  ", rank 0 at " + std::to_string(static_cast<int64_t>(root_iteration)) +
                  ": every process must read the same checkpoint (a shared run folder)");
    dp->BroadcastModule(task->module());
  }
  task->TrainMode();

  auto checkpoint = [&] {
    if (!root) return;
    task->SaveWeights((dir / task->weights_file_name()).string());
    SaveCheckpoint(ckpt, *task, *opt, st, options, scaler.get());
    emit({{"event", "checkpoint"}, {"iter", st.iteration}, {"path", ckpt.string()},
          {"weights", (dir / task->weights_file_name()).string()}});
  };
  TrainResult result;
  auto evaluate = [&] {
    nlohmann::json m;
    if (!dp) {
      m = task->Evaluate(nullptr);
    } else if (root) {
      // Rank 0 validates while the others wait. Its progress (a pair at a time) reaches
      // them as heartbeats, so that a validation longer than dist_timeout_s does not pass
      // for a hung process; 1 says it is over.
      JobContext beat([&](double, const std::string&) { dp->FromRoot({0.0}); });
      m = task->Evaluate(&beat);
      dp->FromRoot({1.0});
    } else {
      while (dp->FromRoot({0.0})[0] == 0.0) {
      }
    }
    if (m.is_null()) return;
    result.last_eval = m;
    emit({{"event", "eval"}, {"iter", st.iteration}, {"metrics", m}});
  };
  // Every rank stops at the same sample: a stop anywhere (rank 0's STOP file, a signal to
  // any process) is summed over the ranks before each sample.
  auto stop_agreed = [&] {
    const bool mine = stop_requested();
    return dp ? dp->Sum({mine ? 1.0 : 0.0})[0] > 0.0 : mine;
  };

  emit({{"event", "start"}, {"iter", st.iteration}, {"iterations", options.iterations}, {"task", task->name()},
        {"run_dir", dir.string()}, {"resumed", spec.resume}, {"world_size", denv.world_size}});
  if (options.eval_at_start && !spec.resume) evaluate();
  const auto t_start = std::chrono::steady_clock::now();
  bool stopped = false;
  int nonfinite_in_a_row = 0;
  const bool whole_samples = dp && task->split() == TrainTask::Split::kWholeSamples;
  while (st.iteration < options.iterations) {
    const auto t0 = std::chrono::steady_clock::now();
    const double cpu0 = ProcessCpuSeconds();
    const TrainRng rng_at_start = st.rng;
    const double lr = schedule.At(st.iteration);
    SetLearningRate(*opt, lr, param_groups);
    opt->zero_grad();
    double loss_sum = 0.0, used = 0.0;
    double skipped = 0.0;
    std::map<std::string, double> metric_sums, metric_weights;
    for (int a = 0; a < options.accumulation && !stopped; ++a) {
      if (stop_agreed()) {
        stopped = true;
        break;
      }
      const int64_t index = int64_t(st.iteration) * options.accumulation + a;
      if (whole_samples && a % denv.world_size != denv.rank) {
        task->SkipSample(st.rng, index);  // another rank's sample
        continue;
      }
      const SampleLoss s = task->TrainSample(st.rng, index);
      if (!s.loss.defined()) {
        ++skipped;
        continue;
      }
      const double loss_factor = (scaler ? scaler->scale() : 1.0) / static_cast<double>(options.accumulation);
      (s.loss * loss_factor).backward();
      loss_sum += s.loss.item<double>();
      used += s.share;
      for (const auto& [k, v] : s.metrics) {
        metric_sums[k] += v * s.metric_weight;
        metric_weights[k] += s.metric_weight;
      }
    }
    if (stopped) {  // drop the partial update so that a resume replays it whole
      st.rng = rng_at_start;
      opt->zero_grad();
      break;
    }
    if (dp) dp->AllReduceGradients();
    const double step_scale = scaler ? scaler->scale() : 0.0;
    if (scaler) scaler->Unscale(params);  // clipping and the step see the true gradients
    // As GradScaler does for inf/NaN gradients: skip the update, keep the weights sound.
    double grad_norm = GradNorm(params);
    if (dp) {
      // One collective for the step's numbers: this rank's loss, counts and metrics, summed
      // over ranks, and rank 0's gradient norm (the others add 0), so that clipping and the
      // skip of a non-finite update are decided from the same value everywhere.
      std::vector<double> v = {loss_sum, used, skipped, root ? grad_norm : 0.0};
      for (const auto& k : metric_names) {
        v.push_back(metric_sums[k]);
        v.push_back(metric_weights[k]);
      }
      v = dp->Sum(v);
      loss_sum = v[0], used = v[1], skipped = v[2], grad_norm = v[3];
      for (size_t i = 0; i < metric_names.size(); ++i) {
        metric_sums[metric_names[i]] = v[4 + 2 * i];
        metric_weights[metric_names[i]] = v[5 + 2 * i];
      }
    }
    const bool finite = std::isfinite(grad_norm);
    if (scaler) scaler->Update(finite);  // every rank decides from the same norm
    if (finite) {
      ClipGradients(params, options.clip, grad_norm);
      opt->step();
      nonfinite_in_a_row = 0;
    } else if (++nonfinite_in_a_row >= kMaxNonFiniteInARow) {
      checkpoint();
      throw Error("training diverged: gradients were not finite for " + std::to_string(kMaxNonFiniteInARow) +
                  " updates in a row at iteration " + std::to_string(st.iteration + 1) +
                  " (lower lr, or resume from an earlier checkpoint)");
    }
    ++st.iteration;
    const auto t1 = std::chrono::steady_clock::now();
    if (job) job->Report(static_cast<double>(st.iteration) / options.iterations,
                         "iteration " + std::to_string(st.iteration));
    if (st.iteration % options.log_every == 0 || st.iteration == options.iterations) {
      nlohmann::json e = {{"event", "step"}, {"iter", st.iteration}, {"lr", lr},
                          {"seconds", std::chrono::duration<double>(t1 - t0).count()},
                          {"cpu_seconds", ProcessCpuSeconds() - cpu0},
                          {"elapsed", std::chrono::duration<double>(t1 - t_start).count()},
                          {"skipped", static_cast<int64_t>(std::llround(skipped))}};
      e["loss"] = used > 0.0 ? nlohmann::json(loss_sum / used) : nlohmann::json(nullptr);
      for (const auto& [k, w] : metric_weights)
        if (w > 0.0) e[k] = metric_sums[k] / w;
      if (finite) e["grad_norm"] = grad_norm;
      else e["nonfinite"] = true;
      if (scaler) e["loss_scale"] = step_scale;
      emit(e);
    }
    const bool last = st.iteration == options.iterations;
    if (!last && options.checkpoint_every > 0 && st.iteration % options.checkpoint_every == 0) checkpoint();
    if (!last && options.eval_every > 0 && st.iteration % options.eval_every == 0) evaluate();
  }
  checkpoint();
  if (!stopped) evaluate();
  result.iteration = st.iteration;
  result.stopped = stopped;
  emit({{"event", "done"}, {"iter", st.iteration}, {"reason", stopped ? "stopped" : "finished"}});
  return result;
}

}  // namespace

}  // namespace animerun::train
