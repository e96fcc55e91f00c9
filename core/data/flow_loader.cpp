#include "core/data/flow_loader.h"

#include "core/util/error.h"
#include "core/util/rng.h"

namespace animerun::data {

void FlowLoaderOptions::Check() const {
  Require(batch >= 1 && batch <= 4096, "batch_size: must be in 1..4096");
  const int n = count < 0 ? batch - first : count;
  Require(first >= 0 && n >= 1 && first + n <= batch, "flow loader: rank share outside the batch");
  Require(workers >= 1 && workers <= 64, "workers: must be in 1..64");
  Require(prefetch >= 0 && prefetch <= 64, "prefetch: must be in 0..64");
  augment.Check();
}

FlowBatchLoader::FlowBatchLoader(std::shared_ptr<const FlowMixture> mixture, const FlowLoaderOptions& options)
    : mixture_(std::move(mixture)), options_(options) {
  options_.Check();
  if (options_.count < 0) options_.count = options_.batch - options_.first;
  mixture_->BatchesPerEpoch(options_.batch);  // throws when the data is smaller than a batch
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { Work(); });
}

FlowBatchLoader::~FlowBatchLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    queue_.clear();
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

FlowSample FlowBatchLoader::MakeSample(int64_t step, int b) const {
  const FlowPairFiles& files = mixture_->Sample(options_.seed, step, b, options_.batch);
  Rng rng(MixSeed(options_.seed, static_cast<uint64_t>(step), static_cast<uint64_t>(b)));
  return AugmentFlowSample(LoadFlowSample(files), options_.augment, rng);
}

void FlowBatchLoader::Schedule(int64_t step) {
  if (slots_.count(step)) return;
  Slot& slot = slots_[step];
  slot.id = next_slot_id_++;
  slot.samples.resize(options_.count);
  slot.pending = options_.count;
  for (int i = 0; i < options_.count; ++i) queue_.push_back({step, i, slot.id});
}

std::vector<FlowSample> FlowBatchLoader::Get(int64_t step) {
  std::unique_lock<std::mutex> lock(mutex_);
  // Earlier steps are no longer wanted (a resume or a skip): drop their slots and queued
  // work; what a worker is doing for them now is ignored when it ends (slot id).
  slots_.erase(slots_.begin(), slots_.lower_bound(step));
  for (auto q = queue_.begin(); q != queue_.end();) q = q->step < step ? queue_.erase(q) : q + 1;
  for (int64_t s = step; s <= step + options_.prefetch; ++s) Schedule(s);
  work_cv_.notify_all();
  done_cv_.wait(lock, [&] { return slots_.at(step).pending == 0; });
  Slot slot = std::move(slots_.at(step));
  slots_.erase(step);
  lock.unlock();
  if (slot.error) std::rethrow_exception(slot.error);
  return std::move(slot.samples);
}

void FlowBatchLoader::Work() {
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      task = queue_.front();
      queue_.pop_front();
    }
    FlowSample sample;
    std::exception_ptr error;
    try {
      sample = MakeSample(task.step, options_.first + task.index);
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = slots_.find(task.step);
      if (it == slots_.end() || it->second.id != task.slot_id) continue;
      Slot& slot = it->second;
      slot.samples[task.index] = std::move(sample);
      if (error && !slot.error) slot.error = error;
      --slot.pending;
    }
    done_cv_.notify_all();
  }
}

}  // namespace animerun::data
