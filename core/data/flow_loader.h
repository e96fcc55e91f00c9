// Training batches of a flow mixture, decoded and augmented by worker threads ahead of the
// model. Sample b of step s is drawn from the mixture (flow_mixture.h) and augmented with a
// generator seeded by (seed, s, b), so every batch is a function of (seed, step) alone,
// whichever thread made it and however far ahead: a resumed run, or a run split over
// ranks, sees the same samples. A rank takes the samples [first, first + count) of each
// global batch.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/data/flow_augment.h"
#include "core/data/flow_mixture.h"

namespace animerun::data {

struct FlowLoaderOptions {
  uint64_t seed = 42;
  int batch = 12;            // global batch size
  int first = 0;             // this rank's share of each batch: samples [first, first + count)
  int count = -1;            // -1 = the whole batch
  int workers = 2;           // decoding/augmenting threads
  int prefetch = 2;          // steps prepared ahead of the one asked for
  FlowAugmentOptions augment;
  void Check() const;
};

class FlowBatchLoader {
 public:
  FlowBatchLoader(std::shared_ptr<const FlowMixture> mixture, const FlowLoaderOptions& options);
  ~FlowBatchLoader();
  FlowBatchLoader(const FlowBatchLoader&) = delete;
  FlowBatchLoader& operator=(const FlowBatchLoader&) = delete;

  // This rank's samples of `step` (blocks until they are ready) and schedules the next
  // `prefetch` steps. Steps are normally asked in increasing order; any step may be asked.
  // A sample that fails to load rethrows its Error (naming the file) here.
  std::vector<FlowSample> Get(int64_t step);

  // The sample the loader makes for (step, b), on the calling thread (tests, previews).
  FlowSample MakeSample(int64_t step, int b) const;

 private:
  struct Slot {
    uint64_t id = 0;  // tasks carry it: a slot dropped and made again ignores old work
    std::vector<FlowSample> samples;
    int pending = 0;
    std::exception_ptr error;
  };
  struct Task {
    int64_t step;
    int index;  // within this rank's share
    uint64_t slot_id;
  };
  void Schedule(int64_t step);  // caller holds mutex_
  void Work();

  std::shared_ptr<const FlowMixture> mixture_;
  FlowLoaderOptions options_;
  std::mutex mutex_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<Task> queue_;
  std::map<int64_t, Slot> slots_;
  uint64_t next_slot_id_ = 1;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace animerun::data
