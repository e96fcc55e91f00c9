#include "models/gmflow/gmflow_transformer.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>
#include <stdexcept>
#include <string>
#include <utility>

#include "models/common/bf16_rows.h"
#include "models/common/dnnl_matmul.h"
#include "models/common/row_softmax.h"

namespace animerun::models::gmflow {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

torch::Tensor PositionEmbeddingSine(int64_t h, int64_t w, int64_t num_pos_feats, const torch::Device& device) {
  // Same op sequence as position.py so the encodings agree to the last bit.
  const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const double scale = 2 * M_PI, eps = 1e-6;
  auto mask = torch::ones({1, h, w}, opts);
  auto y_embed = mask.cumsum(1, torch::kFloat32);
  auto x_embed = mask.cumsum(2, torch::kFloat32);
  y_embed = y_embed / (y_embed.slice(1, h - 1, h) + eps) * scale;
  x_embed = x_embed / (x_embed.slice(2, w - 1, w) + eps) * scale;

  auto dim_t = torch::arange(num_pos_feats, opts);
  dim_t = torch::pow(torch::full({}, 10000.0, opts), 2 * torch::div(dim_t, 2, "floor") / num_pos_feats);

  auto pos_x = x_embed.unsqueeze(3) / dim_t;  // [1, h, w, F]
  auto pos_y = y_embed.unsqueeze(3) / dim_t;
  using torch::indexing::Slice;
  using torch::indexing::None;
  auto interleave = [](const torch::Tensor& p) {
    return torch::stack({p.index({Slice(), Slice(), Slice(), Slice(0, None, 2)}).sin(),
                         p.index({Slice(), Slice(), Slice(), Slice(1, None, 2)}).cos()},
                        4)
        .flatten(3);
  };
  return torch::cat({interleave(pos_y), interleave(pos_x)}, 3).permute({0, 3, 1, 2});
}

std::pair<torch::Tensor, torch::Tensor> FeatureAddPosition(const torch::Tensor& feature0, const torch::Tensor& feature1,
                                                          int64_t attn_splits, int64_t feature_channels) {
  const int64_t h = feature0.size(2), w = feature0.size(3);
  if (attn_splits > 1) {
    if (h % attn_splits != 0 || w % attn_splits != 0)
      throw std::runtime_error("gmflow: feature " + std::to_string(h) + "x" + std::to_string(w) +
                               " does not split into " + std::to_string(attn_splits) + " windows per side");
    // The official code encodes each window separately; every window gets the same encoding,
    // so tiling it over the windows gives the same sums.
    auto pos = PositionEmbeddingSine(h / attn_splits, w / attn_splits, feature_channels / 2, feature0.device());
    pos = pos.repeat({1, 1, attn_splits, attn_splits});
    return {feature0 + pos, feature1 + pos};
  }
  auto pos = PositionEmbeddingSine(h, w, feature_channels / 2, feature0.device());
  return {feature0 + pos, feature1 + pos};
}

torch::Tensor SoftmaxAttention(const torch::Tensor& q, const torch::Tensor& kt, const torch::Tensor& v, double scale,
                               int64_t max_scores) {
  const int64_t batch = q.size(0), rows = q.size(1), cols = kt.size(2);
  // Outside autograd the scaling is done in place: one pass over the scores instead of a
  // second tensor as large (division, so the values are those of the official `/ scale`).
  const bool grad = torch::GradMode::is_enabled() && (q.requires_grad() || kt.requires_grad() || v.requires_grad());
  auto one_pass = [&](const torch::Tensor& qc, const torch::Tensor& ktc, const torch::Tensor& vc) {
    auto scores = CpuMatmul(qc, ktc);
    if (!grad && RowSoftmaxApplies(scores)) {
      RowSoftmaxInPlace(scores, scale);  // the division and softmax in one pass (row_softmax.h)
      return CpuMatmul(scores, vc);
    }
    scores = grad ? scores / scale : scores.div_(scale);
    return CpuMatmul(torch::softmax(scores, -1), vc);
  };
  max_scores = std::max<int64_t>(1, max_scores);
  const int64_t per_item = std::max<int64_t>(1, rows * cols);
  if (batch * per_item <= max_scores) return one_pass(q, kt, v);
  std::vector<torch::Tensor> parts;
  if (per_item <= max_scores) {
    // Whole batch items (windows), as many as fit: long products on few rows are slower.
    const int64_t items = max_scores / per_item;
    for (int64_t b = 0; b < batch; b += items) {
      const int64_t e = std::min(batch, b + items);
      parts.push_back(one_pass(q.slice(0, b, e), kt.slice(0, b, e), v.slice(0, b, e)));
    }
    return torch::cat(parts, 0);
  }
  const int64_t chunk = std::max<int64_t>(1, max_scores / std::max<int64_t>(1, cols));
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<torch::Tensor> item;
    const auto ktb = kt.slice(0, b, b + 1), vb = v.slice(0, b, b + 1);
    for (int64_t r = 0; r < rows; r += chunk)
      item.push_back(one_pass(q.slice(0, b, b + 1).slice(1, r, std::min(rows, r + chunk)), ktb, vb));
    parts.push_back(item.size() == 1 ? item[0] : torch::cat(item, 1));
  }
  return parts.size() == 1 ? parts[0] : torch::cat(parts, 0);
}

std::vector<std::pair<int64_t, int64_t>> WindowBands(int64_t n, int64_t num_splits, bool with_shift) {
  const int64_t m = n / num_splits, s = with_shift ? m / 2 : 0;
  std::vector<int64_t> edges = {0};
  for (int64_t i = 0; i < num_splits; ++i) edges.push_back(s + i * m);
  edges.push_back(n);
  std::vector<std::pair<int64_t, int64_t>> bands;
  for (size_t i = 0; i + 1 < edges.size(); ++i)
    if (edges[i + 1] > edges[i]) bands.emplace_back(edges[i], edges[i + 1] - edges[i]);
  return bands;
}

namespace {

torch::Tensor FullAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  return SoftmaxAttention(q, k.permute({0, 2, 1}), v, std::sqrt(static_cast<double>(q.size(2))));
}

}  // namespace

namespace {

// The WindowBands rectangles of an h x w map of `length` tokens, grouped by shape (height,
// width): each shape with its rectangles' (row band, column band) indices. Throws where the
// tokens are not h x w or the map does not split into num_splits x num_splits windows.
struct WindowRectangles {
  WindowRectangles(int64_t length, int64_t num_splits, bool with_shift, int64_t h, int64_t w) {
    if (length != h * w) throw std::runtime_error("gmflow: attention input length does not match h*w");
    if (h % num_splits != 0 || w % num_splits != 0)
      throw std::runtime_error("gmflow: feature " + std::to_string(h) + "x" + std::to_string(w) +
                               " does not split into " + std::to_string(num_splits) + "x" +
                               std::to_string(num_splits) + " windows");
    rows = WindowBands(h, num_splits, with_shift);
    cols = WindowBands(w, num_splits, with_shift);
    for (size_t i = 0; i < rows.size(); ++i)
      for (size_t j = 0; j < cols.size(); ++j) shapes[{rows[i].second, cols[j].second}].emplace_back(i, j);
  }
  std::vector<std::pair<int64_t, int64_t>> rows, cols;  // (start, length) bands
  std::map<std::pair<int64_t, int64_t>, std::vector<std::pair<size_t, size_t>>> shapes;
};

}  // namespace

// The official (shifted-)window attention. Unshifted: attention within each of the k x k
// windows. Shifted: the official code rolls the map by -shift, splits it into windows and adds
// -100 to the scores of token pairs that the roll brought from opposite sides of the map.
// exp(-100) is below float precision against the in-region terms, so those pairs do not
// contribute: each token attends exactly to the tokens of its rectangle in the unrolled map
// whose edges WindowBands lists. Attending within those rectangles gives the official result
// without the roll, the mask, or the masked scores (44% of the shifted layers' attention at
// k = 2).
torch::Tensor SplitWindowAttention(const torch::Tensor& q_in, const torch::Tensor& k_in, const torch::Tensor& v_in,
                                   int64_t num_splits, bool with_shift, int64_t h, int64_t w,
                                   const WindowProjection& project, int64_t max_tokens) {
  const int64_t b = q_in.size(0), c = q_in.size(2);
  const WindowRectangles rects(q_in.size(1), num_splits, with_shift, h, w);
  const auto& rows = rects.rows;
  const auto& cols = rects.cols;
  const bool same_kv = k_in.is_same(v_in), same_qk = q_in.is_same(k_in);
  const auto q = q_in.view({b, h, w, c}), k = k_in.view({b, h, w, c}), v = v_in.view({b, h, w, c});
  // Rectangles of one shape go through the attention as one batch (or several, max_tokens).
  torch::Tensor out;
  const double scale = std::sqrt(static_cast<double>(c));
  for (const auto& entry : rects.shapes) {
    // Plain variables, not structured bindings: clang 14 (the sanitizer build) cannot
    // capture those in a lambda.
    const auto& members = entry.second;
    const int64_t rh = entry.first.first, cw = entry.first.second;
    const int64_t total = static_cast<int64_t>(members.size());
    const int64_t per_batch =
        max_tokens > 0 ? std::clamp<int64_t>(max_tokens / std::max<int64_t>(1, b * rh * cw), 1, total) : total;
    for (int64_t first = 0; first < total; first += per_batch) {
      const int64_t count = std::min(per_batch, total - first);
      // One copy into the batch of rectangles and one back (narrow + reshape + cat: two each).
      auto gather = [&](const torch::Tensor& t) {
        auto batch = torch::empty({count * b, rh, cw, t.size(3)}, t.options());
        for (int64_t n = 0; n < count; ++n) {
          const auto [i, j] = members[first + n];
          batch.narrow(0, n * b, b).copy_(t.narrow(1, rows[i].first, rh).narrow(2, cols[j].first, cw));
        }
        return batch.view({count * b, rh * cw, t.size(3)});
      };
      torch::Tensor qb, kb, vb;
      if (project) {
        const auto qs = gather(q);
        qb = project(0, qs);
        const auto kv = same_qk ? qs : gather(k);
        kb = project(1, kv);
        vb = project(2, same_kv ? kv : gather(v));
      } else {
        qb = gather(q), kb = gather(k), vb = gather(v);
      }
      const auto att = SoftmaxAttention(qb, kb.permute({0, 2, 1}), vb, scale).view({count, b, rh, cw, vb.size(2)});
      if (!out.defined()) out = torch::empty({b, h, w, vb.size(2)}, att.options());
      for (int64_t n = 0; n < count; ++n) {
        const auto [i, j] = members[first + n];
        out.narrow(1, rows[i].first, rh).narrow(2, cols[j].first, cw).copy_(att.select(0, n));
      }
    }
  }
  return out.view({b, h * w, out.size(3)});
}

torch::Tensor SplitWindowAttentionTrain(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                        int64_t num_splits, bool with_shift, int64_t h, int64_t w) {
  const int64_t b = q.size(0), c = q.size(2);
  const WindowRectangles rects(q.size(1), num_splits, with_shift, h, w);
  const auto& rows = rects.rows;
  const auto& cols = rects.cols;
  const auto& shapes = rects.shapes;
  // The token order: shape by shape, rectangle by rectangle, row-major inside each.
  std::vector<int64_t> order, inverse(h * w), sizes;
  order.reserve(h * w);
  for (const auto& entry : shapes) {
    for (const auto& [i, j] : entry.second)
      for (int64_t y = rows[i].first; y < rows[i].first + rows[i].second; ++y)
        for (int64_t x = cols[j].first; x < cols[j].first + cols[j].second; ++x) order.push_back(y * w + x);
    sizes.push_back(static_cast<int64_t>(entry.second.size()) * entry.first.first * entry.first.second);
  }
  for (int64_t p = 0; p < h * w; ++p) inverse[order[p]] = p;
  const auto index_opts = torch::TensorOptions().dtype(torch::kLong).device(q.device());
  const auto perm = torch::tensor(order, index_opts), unperm = torch::tensor(inverse, index_opts);
  auto gather = [&](const torch::Tensor& t) { return t.index_select(1, perm).split_with_sizes(sizes, 1); };
  const auto qs = gather(q);
  const auto ks = k.is_same(q) ? qs : gather(k);
  const auto vs = v.is_same(k) ? ks : gather(v);
  const double scale = std::sqrt(static_cast<double>(c));
  std::vector<torch::Tensor> out;
  size_t s = 0;
  for (const auto& entry : shapes) {
    const int64_t windows = static_cast<int64_t>(entry.second.size()), tokens = entry.first.first * entry.first.second;
    auto batch = [&](const torch::Tensor& t) { return t.reshape({b * windows, tokens, t.size(2)}); };
    const auto att = SoftmaxAttention(batch(qs[s]), batch(ks[s]).permute({0, 2, 1}), batch(vs[s]), scale);
    out.push_back(att.view({b, windows * tokens, att.size(2)}));
    ++s;
  }
  return torch::cat(out, 1).index_select(1, unperm);
}

namespace {

// An nn::Linear's forward by CpuLinear: oneDNN's matmul in inference (dnnl_matmul.h).
torch::Tensor LinearInference(const nn::LinearImpl& linear, const torch::Tensor& x) {
  return CpuLinear(x, linear.weight, linear.bias);
}

}  // namespace

TransformerLayerImpl::TransformerLayerImpl(int64_t d_model, bool no_ffn, int64_t ffn_dim_expansion, bool with_shift)
    : no_ffn_(no_ffn), with_shift_(with_shift) {
  auto linear = [](int64_t in, int64_t out) { return nn::Linear(nn::LinearOptions(in, out).bias(false)); };
  q_proj_ = register_module("q_proj", linear(d_model, d_model));
  k_proj_ = register_module("k_proj", linear(d_model, d_model));
  v_proj_ = register_module("v_proj", linear(d_model, d_model));
  merge_ = register_module("merge", linear(d_model, d_model));
  norm1_ = register_module("norm1", nn::LayerNorm(nn::LayerNormOptions({d_model})));
  if (!no_ffn_) {
    const int64_t in_channels = d_model * 2;
    mlp_ = register_module("mlp", nn::Sequential(linear(in_channels, in_channels * ffn_dim_expansion), nn::GELU(),
                                                 linear(in_channels * ffn_dim_expansion, d_model)));
    norm2_ = register_module("norm2", nn::LayerNorm(nn::LayerNormOptions({d_model})));
  }
}

torch::Tensor TransformerLayerImpl::forward(const torch::Tensor& source, const torch::Tensor& target, int64_t height,
                                            int64_t width, int64_t attn_num_splits) {
  if (!torch::GradMode::is_enabled()) return ForwardInference(source, target, height, width, attn_num_splits);
  auto query = q_proj_->forward(source);
  auto key = k_proj_->forward(target);
  auto value = v_proj_->forward(target);
  torch::Tensor message;
  if (attn_num_splits > 1) {
    message = SplitWindowAttentionTrain(query, key, value, attn_num_splits, with_shift_, height, width);
  } else {
    message = FullAttention(query, key, value);
  }
  // Under CPU bf16 autocast the linear layers return bf16, and LibTorch 1.13's CPU layer norm
  // refuses bf16 input with fp32 weights: normalise in the weights' type (a no-op otherwise).
  const auto norm_type = norm1_->weight.scalar_type();
  message = norm1_->forward(merge_->forward(message).to(norm_type));
  if (!no_ffn_) message = norm2_->forward(mlp_->forward(torch::cat({source, message}, -1)).to(norm_type));
  return source + message;
}

// The same layer with its whole-map intermediates bounded (every step after the attention is
// per token, and the window attention projects its own batches of windows). At the
// refinement scale of a 960x540 frame a [2, 32640, 128] map is 33 MB; the plain order held
// about ten of them plus the feed-forward hidden layer (2 x 267 MB), this one three (the result
// goes into the message's buffer). Chunks of 4096 tokens, the hidden layer activated in place:
// the feed-forward step holds 17 MB (GMFlow-refine at 960x540: 936 MB peak RSS against 1030 MB
// with 8192 tokens and a second hidden layer, without huge pages; docs/benchmarks.md).
namespace {

// Whether Bf16LayerNorm computes norm.forward(x): bf16 rows, a norm over the last dimension
// with weight and bias.
bool Bf16NormApplies(const nn::LayerNormImpl& norm, const torch::Tensor& x) {
  return Bf16RowsApply(x) && norm.options.normalized_shape().size() == 1 && norm.options.elementwise_affine();
}

// norm.forward(x): bf16 rows by Bf16LayerNorm (fp32 arithmetic, one pass), else LibTorch.
torch::Tensor LayerNormInference(nn::LayerNormImpl& norm, const torch::Tensor& x) {
  if (Bf16NormApplies(norm, x)) return Bf16LayerNorm(x, norm.weight, norm.bias, norm.options.eps());
  return norm.forward(x);
}

// dst = residual + norm.forward(x); bf16 rows in one pass, the sum rounded once.
void LayerNormAddInto(nn::LayerNormImpl& norm, const torch::Tensor& x, const torch::Tensor& residual,
                      torch::Tensor& dst) {
  if (Bf16NormApplies(norm, x) && Bf16RowsApply(residual) && Bf16RowsApply(dst)) {
    Bf16LayerNormOut(dst, x, norm.weight, norm.bias, norm.options.eps(), residual);
  } else {
    torch::add_out(dst, residual, norm.forward(x));
  }
}

}  // namespace

torch::Tensor TransformerLayerImpl::ForwardInference(const torch::Tensor& source, const torch::Tensor& target,
                                                     int64_t height, int64_t width, int64_t attn_num_splits) {
  constexpr int64_t kTokens = 4096;
  torch::Tensor message;
  // Small maps (the 1/8 scale up to about 1024x1024) keep the whole-map projections: one
  // large product each, where memory is no concern.
  if (attn_num_splits > 1 && source.size(0) * source.size(1) > 4 * kTokens) {
    const WindowProjection project = [this](int i, const torch::Tensor& x) {
      return LinearInference(*(i == 0 ? q_proj_ : i == 1 ? k_proj_ : v_proj_), x);
    };
    message = SplitWindowAttention(source, target, target, attn_num_splits, with_shift_, height, width, project,
                                   4 * kTokens);
  } else if (attn_num_splits > 1) {
    message = SplitWindowAttention(LinearInference(*q_proj_, source), LinearInference(*k_proj_, target), LinearInference(*v_proj_, target),
                                   attn_num_splits, with_shift_, height, width);
  } else {
    message = FullAttention(LinearInference(*q_proj_, source), LinearInference(*k_proj_, target), LinearInference(*v_proj_, target));
  }
  // The result goes into the message's own buffer where nothing else holds it: each chunk of
  // the message is read before its rows are written. One whole map less at the peak.
  const bool reuse = message.sizes().equals(source.sizes()) && message.scalar_type() == source.scalar_type() &&
                     message.is_contiguous() && message.storage().use_count() == 1 && !message.is_alias_of(source) &&
                     !message.is_alias_of(target);
  const auto src = source.reshape({-1, source.size(-1)});
  const auto msg = message.view({-1, message.size(-1)});
  auto out = reuse ? msg : torch::empty_like(src);
  for (int64_t r = 0; r < src.size(0); r += kTokens) {
    const int64_t n = std::min(kTokens, src.size(0) - r);
    auto m = LayerNormInference(*norm1_, LinearInference(*merge_, msg.narrow(0, r, n)));
    auto dst = out.narrow(0, r, n);
    if (no_ffn_) {
      torch::add_out(dst, src.narrow(0, r, n), m);
    } else {
      // mlp_'s layers one by one, its linear ones through LinearInference.
      m = torch::cat({src.narrow(0, r, n), m}, -1);
      for (auto& layer : *mlp_) {
        const auto* linear = layer.ptr()->as<nn::LinearImpl>();
        if (linear != nullptr) {
          m = LinearInference(*linear, m);
        } else if (const auto* gelu = layer.ptr()->as<nn::GELUImpl>()) {
          // In place: the hidden layer is the chunk's largest tensor (kTokens x 4C).
          if (Bf16RowsApply(m)) {
            Bf16GeluInPlace(m, gelu->options.approximate() == "tanh");
          } else {
            at::gelu_(m, gelu->options.approximate());
          }
        } else {
          m = layer.forward(m);
        }
      }
      LayerNormAddInto(*norm2_, m, src.narrow(0, r, n), dst);
    }
  }
  return out.view(source.sizes());
}

void TransformerLayerImpl::CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w,
                                      int64_t attn_num_splits) const {
  const int64_t rows = batch * h * w, c = q_proj_->options.out_features();
  for (const auto* proj : {&q_proj_, &k_proj_, &v_proj_}) count.Linear("transformer", **proj, rows);
  // Single-head attention within k x k windows (k = 1: over the whole map): q @ k^T, then @ v.
  const int64_t windows = attn_num_splits * attn_num_splits, tokens = h * w / windows;
  count.Matmul("transformer", batch * windows, tokens, tokens, c, 2);
  count.Linear("transformer", *merge_, rows);
  if (!no_ffn_) count.Sequential("transformer", *mlp_, batch, h, w);  // Linear layers over the tokens
}

TransformerBlockImpl::TransformerBlockImpl(int64_t d_model, int64_t ffn_dim_expansion, bool with_shift) {
  self_attn_ = register_module("self_attn", TransformerLayer(d_model, true, ffn_dim_expansion, with_shift));
  cross_attn_ffn_ = register_module("cross_attn_ffn", TransformerLayer(d_model, false, ffn_dim_expansion, with_shift));
}

torch::Tensor TransformerBlockImpl::forward(torch::Tensor source, const torch::Tensor& target, int64_t height,
                                            int64_t width, int64_t attn_num_splits) {
  auto s = self_attn_->forward(source, source, height, width, attn_num_splits);
  source.reset();
  return cross_attn_ffn_->forward(s, target, height, width, attn_num_splits);
}

void TransformerBlockImpl::CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w,
                                      int64_t attn_num_splits) const {
  self_attn_->CountFlops(count, batch, h, w, attn_num_splits);
  cross_attn_ffn_->CountFlops(count, batch, h, w, attn_num_splits);
}

FeatureTransformerImpl::FeatureTransformerImpl(int64_t num_layers, int64_t d_model, int64_t ffn_dim_expansion)
    : d_model_(d_model) {
  layers_ = register_module("layers", nn::ModuleList());
  // Swin alternation: odd layers attend within shifted windows.
  for (int64_t i = 0; i < num_layers; ++i) layers_->push_back(TransformerBlock(d_model, ffn_dim_expansion, i % 2 == 1));
}

std::pair<torch::Tensor, torch::Tensor> FeatureTransformerImpl::forward(const torch::Tensor& feature0,
                                                                        const torch::Tensor& feature1,
                                                                        int64_t attn_num_splits,
                                                                        const std::function<void()>& after_layer) {
  const int64_t b = feature0.size(0), c = feature0.size(1), h = feature0.size(2), w = feature0.size(3);
  if (c != d_model_) throw std::runtime_error("gmflow: transformer got " + std::to_string(c) + " channels");
  auto f0 = feature0.flatten(-2).permute({0, 2, 1});
  auto f1 = feature1.flatten(-2).permute({0, 2, 1});
  // Both directions in one batch: [f0; f1] attends to [f1; f0].
  auto concat0 = torch::cat({f0, f1}, 0);
  auto concat1 = torch::cat({f1, f0}, 0);
  for (const auto& layer : *layers_) {
    concat0 = layer->as<TransformerBlockImpl>()->forward(std::move(concat0), concat1, h, w, attn_num_splits);
    auto chunks = concat0.chunk(2, 0);
    concat1 = torch::cat({chunks[1], chunks[0]}, 0);
    if (after_layer) after_layer();
  }
  auto chunks = concat0.chunk(2, 0);
  return {chunks[0].view({b, h, w, c}).permute({0, 3, 1, 2}).contiguous(),
          chunks[1].view({b, h, w, c}).permute({0, 3, 1, 2}).contiguous()};
}

void FeatureTransformerImpl::CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w,
                                        int64_t attn_num_splits) const {
  for (const auto& layer : *layers_)
    layer->as<TransformerBlockImpl>()->CountFlops(count, 2 * batch, h, w, attn_num_splits);
}

FeatureFlowAttentionImpl::FeatureFlowAttentionImpl(int64_t in_channels) {
  q_proj_ = register_module("q_proj", nn::Linear(in_channels, in_channels));
  k_proj_ = register_module("k_proj", nn::Linear(in_channels, in_channels));
}

void FeatureFlowAttentionImpl::CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w,
                                          int64_t local_window_radius) const {
  const int64_t c = q_proj_->options.out_features(), hw = h * w;
  count.Linear("propagation", *q_proj_, batch * hw);
  count.Linear("propagation", *k_proj_, batch * hw);
  // Scores against every position (global) or the (2r+1)^2 window, then their flow average.
  const int64_t keys = local_window_radius > 0 ? (2 * local_window_radius + 1) * (2 * local_window_radius + 1) : hw;
  const int64_t value_channels = 2;
  count.Matmul("propagation", batch, hw, keys, c);
  count.Matmul("propagation", batch, hw, value_channels, keys);
}

torch::Tensor FeatureFlowAttentionImpl::forward(const torch::Tensor& feature0, const torch::Tensor& flow,
                                                int64_t local_window_radius) {
  if (local_window_radius > 0) return ForwardLocal(feature0, flow, local_window_radius);
  const int64_t b = feature0.size(0), c = feature0.size(1), h = feature0.size(2), w = feature0.size(3);
  auto query = q_proj_->forward(feature0.view({b, c, h * w}).permute({0, 2, 1}));
  // Official quirk, kept for the released weights: the key is k_proj of the *projected*
  // query, not of the feature.
  auto key = k_proj_->forward(query);
  auto value = flow.reshape({b, flow.size(1), h * w}).permute({0, 2, 1});
  // Scores and softmax in the flow's dtype (fp32 also when the projections run in bf16).
  query = query.to(flow.scalar_type());
  key = key.to(flow.scalar_type());
  auto out = SoftmaxAttention(query, key.permute({0, 2, 1}), value, std::sqrt(static_cast<double>(c)));
  return out.view({b, h, w, value.size(-1)}).permute({0, 3, 1, 2});
}

torch::Tensor FeatureFlowAttentionImpl::ForwardLocal(const torch::Tensor& feature0, const torch::Tensor& flow,
                                                     int64_t r) {
  if (flow.size(1) != 2) throw std::runtime_error("gmflow: flow propagation expects a 2-channel flow");
  const int64_t b = feature0.size(0), c = feature0.size(1), h = feature0.size(2), w = feature0.size(3);
  const int64_t ks = 2 * r + 1;
  auto tokens = feature0.view({b, c, -1}).permute({0, 2, 1});
  if (!torch::GradMode::is_enabled()) {
    // Inference: the ks x ks neighbours one offset at a time from zero-padded maps, instead
    // of unfolding every pixel's neighbourhood (the key windows are 9 x C floats per pixel:
    // 150 MB at GMFlow-refine's 960x540 refinement scale, its peak). Same zero padding, so
    // out-of-image neighbours score 0 and carry zero flow, as with unfold.
    const auto ft = flow.scalar_type();
    auto query = q_proj_->forward(tokens).to(ft).view({b, h, w, c});
    auto key = torch::constant_pad_nd(k_proj_->forward(tokens).to(ft).view({b, h, w, c}), {0, 0, r, r, r, r});
    auto flow_pad = torch::constant_pad_nd(flow.permute({0, 2, 3, 1}), {0, 0, r, r, r, r});  // [b, h+2r, w+2r, 2]
    auto scores = torch::empty({b, h, w, ks * ks}, query.options());
    for (int64_t j = 0; j < ks * ks; ++j) {
      const auto k = key.narrow(1, j / ks, h).narrow(2, j % ks, w);
      scores.select(3, j).copy_((query * k).sum(-1));
    }
    scores.div_(std::sqrt(static_cast<double>(c)));
    const auto prob = torch::softmax(scores, -1);
    auto out = torch::zeros({b, h, w, 2}, flow.options());
    for (int64_t j = 0; j < ks * ks; ++j)
      out.addcmul_(prob.narrow(3, j, 1), flow_pad.narrow(1, j / ks, h).narrow(2, j % ks, w));
    return out.permute({0, 3, 1, 2}).contiguous();
  }
  auto query = q_proj_->forward(tokens).to(flow.scalar_type()).reshape({b * h * w, 1, c});
  // Here (unlike the global path) the key is projected from the feature itself.
  auto key = k_proj_->forward(tokens).to(flow.scalar_type()).permute({0, 2, 1}).reshape({b, c, h, w});
  auto key_window = F::unfold(key, F::UnfoldFuncOptions({ks, ks}).padding(r))
                        .view({b, c, ks * ks, h, w})
                        .permute({0, 3, 4, 1, 2})
                        .reshape({b * h * w, c, ks * ks});
  auto flow_window = F::unfold(flow, F::UnfoldFuncOptions({ks, ks}).padding(r))
                         .view({b, 2, ks * ks, h, w})
                         .permute({0, 3, 4, 2, 1})
                         .reshape({b * h * w, ks * ks, 2});
  auto scores = torch::matmul(query, key_window) / std::sqrt(static_cast<double>(c));
  auto prob = torch::softmax(scores, -1);
  return torch::matmul(prob, flow_window).view({b, h, w, 2}).permute({0, 3, 1, 2}).contiguous();
}

}  // namespace animerun::models::gmflow
