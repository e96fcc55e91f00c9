// AnT (the Animation Transformer as AnimeRun's segmat implements it) behind the
// SegmentMatcher interface: RGB frames and label maps in, per-segment matches out. The
// network, its official checkpoint format and the dataset's box keypoints live in
// models/ant/ant.h; this file only converts cv::Mat inputs and outputs. LibTorch stays
// out of this header.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/segments/matcher.h"

namespace animerun::segments {

struct AntMatcherOptions {
  std::string weights;                // AnT checkpoint (segmat's {'model', 'config', 'epoch'} or a state dict)
  std::string device = "cpu";         // cpu, cuda or cuda:N
  int threads = 0;                    // LibTorch CPU threads; 0 = leave the process setting
  std::string precision = "fp32";     // fp32, or bf16: the encoder's convolutions in bf16 (CPUs with
                                      // AVX-512 BF16 or AMX, GPUs; docs/benchmarks.md), the rest fp32;
                                      // where oneDNN's fp32 Winograd runs the others, the first
                                      // and the last's products (AntEncoderImpl::UsePrecision)
  bool allow_random_weights = false;  // run without weights (benchmarks and tests only)
  void Check() const;                 // throws Error on bad values
};

class AntMatcher : public SegmentMatcher {
 public:
  // Builds the network (the official configuration: d = 128, 12 self/cross pairs) and loads
  // the weights strictly; throws Error naming the file and the problem (missing,
  // truncated, not an AnT checkpoint, missing/unexpected keys).
  explicit AntMatcher(const AntMatcherOptions& options);
  ~AntMatcher() override;
  AntMatcher(const AntMatcher&) = delete;
  AntMatcher& operator=(const AntMatcher&) = delete;

  std::string name() const override { return "ant"; }

  // images RGB CV_8UC3, labels CV_32SC1 of the same size per frame (the two frames may
  // differ in size), ids 0..N-1. Per segment of frame t: matches = argmax of the row
  // softmax over the N1 + 1 columns (the dustbin column gives -1), confidence = that
  // maximum, scores = the raw (N0+1) x (N1+1) matrix before the softmax (CV_32FC1), as the
  // official forward computes them.
  //  * Fewer than 2 segments in either frame: the official forward does not run the
  //    network; every match is -1 with confidence 0 and scores stay empty.
  //  * Ids without pixels (the official dataset requires none): the network sees only the
  //    present ids (renumbered in order); an absent id of frame t gets -1 / confidence 0,
  //    and its row and column in scores hold -inf (its dustbin entry keeps bin_score).
  // Throws Error on bad inputs.
  MatchResult Match(const MatchInput& input) override;

  // The official network's work on two height x width frames with n0 and n1 segments, as
  // (part, FLOP) (models::AntNetImpl::CountOfficialFlops), for `animerun bench ant`.
  std::vector<std::pair<std::string, double>> OfficialFlops(int height, int width, int n0, int n1) const;

 private:
  struct Impl;
  AntMatcherOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace animerun::segments
