// Multi-head softmax attention over a few hundred points with heads of 32 channels, as one
// CPU kernel: scores, softmax and the weighted sum per block of queries, without the
// per-head batched products, the full score tensors and the softmax pass between them.
//
// AnT's graph network runs 24 attention layers over ~400 segments per frame; through
// LibTorch each layer was two products per frame of [4, 400, 32] x [4, 32, 400] and back,
// small enough that OpenBLAS's second thread gained nothing, plus a softmax over a 2.5 MB
// score tensor: about 110 of the graph network's ~200 ms per 960x540 pair on 2 cores
// (docs/benchmarks.md). Here every (span, head, block of 8 queries) is one task on
// LibTorch's threads, the scores of a block stay in the cache, and the 1 / sum of the
// softmax is applied to the 32 outputs instead of the ns probabilities.
#pragma once

#include <torch/types.h>

#include <vector>

namespace animerun::models {

// Queries in columns [q0, q0 + nq) attending to the sources in columns [s0, s0 + ns).
struct AttentionSpan {
  int64_t q0, nq, s0, ns;
};

// qkv [3d, n] float CPU (rows q, then k, then v; channel c of each belongs to head
// c % heads, as SuperGlue's view(d / heads, heads, n)), d / heads == 32. Returns the messages
// [d, n]: softmax(q_h^T k_h / sqrt(32)) v_h per head, written to each span's query columns
// (columns no span covers are zero). ns >= 1 for every span. Throws std::invalid_argument on
// other shapes.
torch::Tensor SmallAttention(const torch::Tensor& qkv, int64_t heads, const std::vector<AttentionSpan>& spans);

// Whether SmallAttention takes these: float CPU qkv [3d, n] with d / heads == 32.
bool SmallAttentionApplies(const torch::Tensor& qkv, int64_t heads);

}  // namespace animerun::models
