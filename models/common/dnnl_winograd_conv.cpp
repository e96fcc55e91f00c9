#include "models/common/dnnl_winograd_conv.h"

#include <torch/torch.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

#ifdef ANIMERUN_WITH_DNNL
#include <ATen/autocast_mode.h>
#include <dnnl.hpp>

#include "models/common/dnnl_engine.h"
#endif

namespace animerun::models {

namespace {

std::atomic<bool> g_winograd_training{true};
std::atomic<bool> g_winograd_inference{true};

#ifdef ANIMERUN_WITH_DNNL

using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;

// The primitives of one convolution shape (batch, channels in and out, height, width, bias):
// made once, since making them compiles kernels.
using Shape = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, bool>;

struct Primitives {
  dnnl::convolution_forward::primitive_desc fwd_pd;
  dnnl::convolution_backward_data::primitive_desc data_pd;
  dnnl::convolution_backward_weights::primitive_desc weights_pd;
  dnnl::convolution_forward fwd;
  dnnl::convolution_backward_data data;
  dnnl::convolution_backward_weights weights;
};

memory::desc Plain(const memory::dims& dims, Tag tag) { return memory::desc(dims, kF32, tag); }

std::unique_ptr<Primitives> MakePrimitives(const Shape& shape) {
  const auto [n, c, k, h, w, has_bias] = shape;
  const auto any = Tag::any;
  const memory::desc src({n, c, h, w}, kF32, any), wei({k, c, 3, 3}, kF32, any), dst({n, k, h, w}, kF32, any);
  const memory::desc bias = Plain({k}, Tag::x);
  const memory::dims one{1, 1};
  const auto alg = dnnl::algorithm::convolution_winograd;
  auto& eng = DnnlEngine();
  auto fwd_desc = has_bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, src, wei, bias,
                                                             dst, one, one, one)
                           : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, src, wei, dst,
                                                             one, one, one);
  dnnl::convolution_forward::primitive_desc fwd_pd(fwd_desc, eng);
  dnnl::convolution_backward_data::primitive_desc data_pd(
      dnnl::convolution_backward_data::desc(alg, src, wei, dst, one, one, one), eng, fwd_pd);
  auto weights_desc = has_bias ? dnnl::convolution_backward_weights::desc(alg, src, wei, bias, dst, one, one, one)
                               : dnnl::convolution_backward_weights::desc(alg, src, wei, dst, one, one, one);
  dnnl::convolution_backward_weights::primitive_desc weights_pd(weights_desc, eng, fwd_pd);
  return std::unique_ptr<Primitives>(new Primitives{fwd_pd, data_pd, weights_pd, dnnl::convolution_forward(fwd_pd),
                                                    dnnl::convolution_backward_data(data_pd),
                                                    dnnl::convolution_backward_weights(weights_pd)});
}

const Primitives& GetPrimitives(const Shape& shape) {
  static std::mutex mutex;
  static std::map<Shape, std::unique_ptr<Primitives>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(shape);
  if (it != cache.end()) return *it->second;
  // Training crops keep a handful of shapes; a program that cycles through many sizes
  // starts over rather than holding every kernel.
  if (cache.size() >= 256) cache.clear();
  return *cache.emplace(shape, MakePrimitives(shape)).first->second;
}

// A tensor's memory as oneDNN memory in layout `want`: the tensor itself when its plain
// layout is that, else a reordered copy in a buffer that `keep` holds.
struct Mem {
  memory mem;
  torch::Tensor keep;
};

Mem InLayout(memory user, const memory::desc& want, dnnl::stream& stream) {
  if (user.get_desc() == want) return {user, {}};
  auto buffer = torch::empty({static_cast<int64_t>(want.get_size())}, torch::kUInt8);
  memory converted(want, DnnlEngine(), buffer.data_ptr());
  dnnl::reorder(user, converted).execute(stream, user, converted);
  return {converted, buffer};
}

// Where a primitive writes a result that the caller wants in plain layout `user`: the
// user's memory itself, or a buffer to reorder from afterwards (Finish).
struct Out {
  memory user, mem;
  torch::Tensor keep;
  void Finish(dnnl::stream& stream) {
    if (keep.defined()) dnnl::reorder(mem, user).execute(stream, mem, user);
  }
};

Out OutLayout(memory user, const memory::desc& got) {
  if (user.get_desc() == got) return {user, user, {}};
  auto buffer = torch::empty({static_cast<int64_t>(got.get_size())}, torch::kUInt8);
  return {user, memory(got, DnnlEngine(), buffer.data_ptr()), buffer};
}

memory Wrap(const torch::Tensor& t, const memory::dims& dims, Tag tag) {
  return memory(Plain(dims, tag), DnnlEngine(), t.data_ptr());
}

// Runs a forward convolution `conv` (its src and dst descs given) on xs, plain in layout
// `tag`, with weights already in the primitive's layout; the output [N, K, H, W] comes plain
// in the same layout. scratchpad: the primitive's user scratchpad, or null for oneDNN's own.
torch::Tensor ExecuteForward(const dnnl::primitive& conv, const memory::desc& src_desc, const memory::desc& dst_desc,
                             const memory& weights, const torch::Tensor& xs, Tag tag, int64_t k,
                             const torch::Tensor& bias, const memory::desc* scratchpad) {
  const int64_t n = xs.size(0), c = xs.size(1), h = xs.size(2), w = xs.size(3);
  dnnl::stream stream(DnnlEngine());
  const Mem src = InLayout(Wrap(xs, {n, c, h, w}, tag), src_desc, stream);
  const auto format = tag == Tag::nhwc ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  auto out = torch::empty({n, k, h, w}, xs.options().memory_format(format));
  Out dst = OutLayout(Wrap(out, {n, k, h, w}, tag), dst_desc);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src.mem}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst.mem}};
  torch::Tensor bs, scratch;
  if (bias.defined()) {
    bs = bias.detach().contiguous();
    args[DNNL_ARG_BIAS] = Wrap(bs, {k}, Tag::x);
  }
  if (scratchpad != nullptr) {
    scratch = torch::empty({static_cast<int64_t>(scratchpad->get_size())}, torch::kUInt8);  // 64-byte aligned
    args[DNNL_ARG_SCRATCHPAD] = memory(*scratchpad, DnnlEngine(), scratch.data_ptr());
  }
  conv.execute(stream, args);
  dst.Finish(stream);
  stream.wait();
  return out;
}

torch::Tensor Forward(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  const int64_t c = x.size(1), k = weight.size(0);
  const auto& p = GetPrimitives({x.size(0), c, k, x.size(2), x.size(3), bias.defined()});
  dnnl::stream stream(DnnlEngine());
  const auto ws = weight.contiguous();
  const Mem wei = InLayout(Wrap(ws, {k, c, 3, 3}, Tag::oihw), p.fwd_pd.weights_desc(), stream);
  stream.wait();
  return ExecuteForward(p.fwd, p.fwd_pd.src_desc(), p.fwd_pd.dst_desc(), wei.mem, x.contiguous(), Tag::nchw, k, bias,
                        nullptr);
}

// Gradients of x, weight and bias from grad_out, each only where asked for.
void Backward(const torch::Tensor& x, const torch::Tensor& weight, bool has_bias, const torch::Tensor& grad_out,
              torch::Tensor* grad_x, torch::Tensor* grad_weight, torch::Tensor* grad_bias) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), k = weight.size(0);
  const auto& p = GetPrimitives({n, c, k, h, w, has_bias});
  dnnl::stream stream(DnnlEngine());
  const auto g = grad_out.contiguous();
  const memory g_user = Wrap(g, {n, k, h, w}, Tag::nchw);
  Mem data_diff_dst;  // grad_out in the data gradient's layout, reused for the weights' when equal
  if (grad_x) {
    const auto ws = weight.contiguous();
    data_diff_dst = InLayout(g_user, p.data_pd.diff_dst_desc(), stream);
    const auto& diff_dst = data_diff_dst;
    auto wei = InLayout(Wrap(ws, {k, c, 3, 3}, Tag::oihw), p.data_pd.weights_desc(), stream);
    *grad_x = torch::empty({n, c, h, w}, x.options());
    auto diff_src = OutLayout(Wrap(*grad_x, {n, c, h, w}, Tag::nchw), p.data_pd.diff_src_desc());
    p.data.execute(stream, {{DNNL_ARG_DIFF_DST, diff_dst.mem}, {DNNL_ARG_WEIGHTS, wei.mem},
                            {DNNL_ARG_DIFF_SRC, diff_src.mem}});
    diff_src.Finish(stream);
    stream.wait();
  }
  if (grad_weight || grad_bias) {
    const auto xs = x.contiguous();
    auto src = InLayout(Wrap(xs, {n, c, h, w}, Tag::nchw), p.weights_pd.src_desc(), stream);
    const bool reuse = grad_x && p.weights_pd.diff_dst_desc() == p.data_pd.diff_dst_desc();
    const Mem diff_dst = reuse ? data_diff_dst : InLayout(g_user, p.weights_pd.diff_dst_desc(), stream);
    auto dw = torch::empty({k, c, 3, 3}, weight.options());
    auto diff_w = OutLayout(Wrap(dw, {k, c, 3, 3}, Tag::oihw), p.weights_pd.diff_weights_desc());
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, src.mem}, {DNNL_ARG_DIFF_DST, diff_dst.mem}, {DNNL_ARG_DIFF_WEIGHTS, diff_w.mem}};
    torch::Tensor db;
    Out diff_b;
    if (has_bias) {
      db = torch::empty({k}, weight.options());
      diff_b = OutLayout(Wrap(db, {k}, Tag::x), p.weights_pd.diff_bias_desc());
      args[DNNL_ARG_DIFF_BIAS] = diff_b.mem;
    }
    p.weights.execute(stream, args);
    diff_w.Finish(stream);
    if (has_bias) diff_b.Finish(stream);
    stream.wait();
    if (grad_weight) *grad_weight = dw;
    if (grad_bias && has_bias) *grad_bias = db;
  }
}

// bias: [K], or an empty tensor for none (LibTorch 1.13's Function::apply cannot take an
// undefined tensor); Apply below makes that choice.
class WinogradConv : public torch::autograd::Function<WinogradConv> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias) {
    ctx->save_for_backward({x, weight});
    const bool has_bias = bias.numel() > 0;
    ctx->saved_data["bias"] = has_bias;
    return Forward(x, weight, has_bias ? bias : torch::Tensor());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const bool has_bias = ctx->saved_data["bias"].toBool();
    torch::Tensor gx, gw, gb;
    Backward(saved[0], saved[1], has_bias, grads[0].to(torch::kFloat), ctx->needs_input_grad(0) ? &gx : nullptr,
             ctx->needs_input_grad(1) ? &gw : nullptr, has_bias && ctx->needs_input_grad(2) ? &gb : nullptr);
    return {gx, gw, gb};
  }
};

torch::Tensor Apply(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  return WinogradConv::apply(x, weight, bias.defined() ? bias : torch::empty({0}, weight.options()));
}

// Inference: the forward primitive of one shape (batch, channels in and out, input height
// and width, bias, whether rows are zero-padded: bands carry their neighbours' rows instead;
// plain: LibTorch's layouts, reordered by the caller, else oneDNN's channel blocks; and the
// address of the weight tensor, so that layers of one shape keep their own), with the
// weights of its last call in its own (Winograd) layout, kept while the caller passes the
// same weight values.
struct InferenceShape {
  int64_t n, c, k, h, w;
  bool has_bias, pad_rows, plain;
  const void* weight;
  auto Tie() const { return std::tie(n, c, k, h, w, has_bias, pad_rows, plain, weight); }
  bool operator<(const InferenceShape& o) const { return Tie() < o.Tie(); }
};

struct InferencePrimitive {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward conv;
  torch::Tensor weight;       // a copy of the weights the transformed ones came from
  torch::Tensor wino_weight;  // bytes of the weights in pd.weights_desc()
};

memory::desc Blocks(int64_t c, int64_t h, int64_t w) { return memory::desc({1, c, h, w}, kF32, Tag::nChw16c); }

std::unique_ptr<InferencePrimitive> MakeInference(const InferenceShape& shape) {
  const auto& [n, c, k, h, w, has_bias, pad_rows, plain, weight] = shape;
  (void)weight;
  const int64_t pad = pad_rows ? 1 : 0;
  const memory::desc src = plain ? memory::desc({n, c, h, w}, kF32, Tag::any) : Blocks(c, h, w);
  const memory::desc dst = plain ? memory::desc({n, k, h, w}, kF32, Tag::any) : Blocks(k, h + 2 * pad - 2, w);
  const memory::desc wei({k, c, 3, 3}, kF32, Tag::any), bias = Plain({k}, Tag::x);
  const memory::dims one{1, 1}, padding{pad, 1};
  const auto alg = dnnl::algorithm::convolution_winograd;
  const auto prop = dnnl::prop_kind::forward_inference;
  auto desc = has_bias ? dnnl::convolution_forward::desc(prop, alg, src, wei, bias, dst, one, padding, padding)
                       : dnnl::convolution_forward::desc(prop, alg, src, wei, dst, one, padding, padding);
  // The scratchpad (the transformed tiles) comes from the caller, through LibTorch's
  // allocator, and is freed after the call instead of being held by oneDNN for good.
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::convolution_forward::primitive_desc pd(desc, attr, DnnlEngine());
  return std::make_unique<InferencePrimitive>(InferencePrimitive{pd, dnnl::convolution_forward(pd), {}, {}});
}

struct Inference {
  dnnl::convolution_forward conv;
  Mem weights;  // in the primitive's layout
  memory::desc src, dst, scratchpad;
};

// The primitive for `shape` and `weight` in its layout (reordered on the first call with a
// new or changed weight tensor).
Inference GetInference(const InferenceShape& shape, const torch::Tensor& weight) {
  static std::mutex mutex;
  static std::map<InferenceShape, std::unique_ptr<InferencePrimitive>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(shape);
  if (it == cache.end()) {
    // Images of many sizes: start over. A flow network has a few dozen layers.
    if (cache.size() >= 256) cache.clear();
    it = cache.emplace(shape, MakeInference(shape)).first;
  }
  InferencePrimitive& p = *it->second;
  // Compared by value (0.1 ms for AnT's 64 -> 128 layer, against 3 ms to transform): weights
  // change by loading, by a precision switch (set_data) or in place through .data(), and
  // only values catch all three.
  if (!p.weight.defined() || !torch::equal(p.weight, weight)) {
    const auto ws = weight.contiguous();
    dnnl::stream stream(DnnlEngine());
    Mem converted = InLayout(Wrap(ws, {shape.k, shape.c, 3, 3}, Tag::oihw), p.pd.weights_desc(), stream);
    stream.wait();
    p.wino_weight = converted.keep.defined() ? converted.keep : ws.clone();
    p.weight = weight.detach().clone();
  }
  return {p.conv, Mem{memory(p.pd.weights_desc(), DnnlEngine(), p.wino_weight.data_ptr()), p.wino_weight},
          p.pd.src_desc(), p.pd.dst_desc(), p.pd.scratchpad_desc()};
}

// One call of an inference primitive: src [C/16, h_in, W, 16] -> dst [K/16, h_out, W, 16].
void RunInference(const Inference& inf, const torch::Tensor& src, const torch::Tensor& dst, const torch::Tensor& bias,
                  const torch::Tensor& scratchpad) {
  const int64_t c = src.size(0) * 16, k = dst.size(0) * 16, w = src.size(2);
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, memory(Blocks(c, src.size(1), w), DnnlEngine(), src.data_ptr())},
      {DNNL_ARG_WEIGHTS, inf.weights.mem},
      {DNNL_ARG_DST, memory(Blocks(k, dst.size(1), w), DnnlEngine(), dst.data_ptr())},
      {DNNL_ARG_SCRATCHPAD, memory(inf.scratchpad, DnnlEngine(), scratchpad.data_ptr())}};
  if (bias.defined()) args[DNNL_ARG_BIAS] = Wrap(bias, {k}, Tag::x);
  dnnl::stream stream(DnnlEngine());
  inf.conv.execute(stream, args);
  stream.wait();
}

torch::Tensor Scratchpad(const Inference& inf) {
  return torch::empty({static_cast<int64_t>(inf.scratchpad.get_size())}, torch::kUInt8);  // 64-byte aligned
}

// conv2d(x, weight, bias, stride 1, padding 1) for inference on x [N, C, H, W] in NCHW or
// channels-last; the output comes in x's layout.
torch::Tensor InferPlain(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  const bool nhwc = x.is_contiguous(torch::MemoryFormat::ChannelsLast) && !x.is_contiguous();
  const Inference inf =
      GetInference({x.size(0), x.size(1), weight.size(0), x.size(2), x.size(3), bias.defined(), true, true,
                    weight.data_ptr()},
                   weight);
  return ExecuteForward(inf.conv, inf.src, inf.dst, inf.weights.mem, nhwc ? x : x.contiguous(),
                        nhwc ? Tag::nhwc : Tag::nchw, weight.size(0), bias, &inf.scratchpad);
}

bool ProbeWinograd() {
  try {
    GetPrimitives({1, 16, 16, 8, 8, true});
    return true;
  } catch (const dnnl::error&) {
    return false;  // no Winograd kernel for this CPU (it needs AVX-512)
  }
}

#endif  // ANIMERUN_WITH_DNNL

}  // namespace

bool DnnlWinogradAvailable() {
#ifdef ANIMERUN_WITH_DNNL
  static const bool available = ProbeWinograd();
  return available;
#else
  return false;
#endif
}

void SetWinogradTraining(bool enabled) { g_winograd_training = enabled; }
bool WinogradTrainingEnabled() { return g_winograd_training; }
void SetWinogradInference(bool enabled) { g_winograd_inference = enabled; }
bool WinogradInferenceEnabled() { return g_winograd_inference; }

at::Tensor DnnlWinogradConv3x3(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  if (!DnnlWinogradAvailable())
    throw std::runtime_error("Winograd convolution: this build or CPU has no oneDNN Winograd kernels");
  if (x.dim() != 4 || weight.dim() != 4 || weight.size(1) != x.size(1) || weight.size(2) != 3 || weight.size(3) != 3 ||
      (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0))))
    throw std::invalid_argument("Winograd convolution: needs x [N, C, H, W], weight [K, C, 3, 3] and bias [K], got " +
                                c10::str(x.sizes(), ", ", weight.sizes()));
  if (!x.is_cpu() || x.scalar_type() != torch::kFloat || weight.scalar_type() != torch::kFloat ||
      (bias.defined() && bias.scalar_type() != torch::kFloat))
    throw std::invalid_argument("Winograd convolution: needs float CPU tensors");
#ifdef ANIMERUN_WITH_DNNL
  return Apply(x, weight, bias);
#else
  return {};
#endif
}

bool DnnlWinogradBlocksApply(const at::Tensor& weight) {
  return DnnlWinogradAvailable() && weight.dim() == 4 && weight.is_cpu() && weight.size(0) % 16 == 0 &&
         weight.size(1) % 16 == 0 && weight.size(2) == 3 && weight.size(3) == 3;
}

void CheckChannelBlocks(const at::Tensor& blocks, const char* what) {
  if (blocks.dim() != 4 || blocks.size(3) != 16 || !blocks.is_cpu() || blocks.scalar_type() != torch::kFloat ||
      !blocks.is_contiguous())
    throw std::invalid_argument(std::string(what) +
                                ": needs contiguous float CPU channel blocks [C / 16, H, W, 16], got " +
                                c10::str(blocks.sizes()));
}

int64_t CheckChannelBlockConv(const at::Tensor& blocks, const at::Tensor& weight, const at::Tensor& bias,
                              const char* what) {
  CheckChannelBlocks(blocks, what);
  const int64_t c = blocks.size(0) * 16;
  if (weight.dim() != 4 || weight.size(1) != c || weight.size(0) % 16 != 0 || weight.size(0) == 0 ||
      weight.size(2) != 3 || weight.size(3) != 3 || weight.scalar_type() != torch::kFloat || !weight.is_cpu() ||
      (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0) || bias.scalar_type() != torch::kFloat ||
                          !bias.is_cpu())))
    throw std::invalid_argument(std::string(what) + ": needs float weight [K, " + std::to_string(c) +
                                ", 3, 3] with K a multiple of 16 and bias [K] on the CPU, got " +
                                c10::str(weight.sizes()));
  return weight.size(0);
}

int64_t ChannelBlockBandRows(int64_t h, int64_t w, int64_t band_pixels, const char* what) {
  if (band_pixels <= 0) throw std::invalid_argument(std::string(what) + ": band_pixels must be > 0");
  if (h <= 0 || w <= 0) return 4;
  const int64_t max_rows = std::max<int64_t>(4, band_pixels / w / 4 * 4);
  const int64_t bands = (h + max_rows - 1) / max_rows;
  return ((h + bands - 1) / bands + 3) / 4 * 4;
}

at::Tensor ToChannelBlocks(const at::Tensor& x) {
  if (x.dim() != 4 || x.size(0) != 1 || x.size(1) % 16 != 0 || !x.is_cpu() || x.scalar_type() != torch::kFloat)
    throw std::invalid_argument("ToChannelBlocks: needs a float CPU map [1, C, H, W] with C a multiple of 16, got " +
                                c10::str(x.sizes()));
  const int64_t c = x.size(1), h = x.size(2), w = x.size(3);
#ifdef ANIMERUN_WITH_DNNL
  // oneDNN's reorder: several times faster than a permuted copy through LibTorch.
  const bool nhwc = x.is_contiguous(torch::MemoryFormat::ChannelsLast);
  const auto xs = nhwc ? x : x.contiguous();
  auto blocks = torch::empty({c / 16, h, w, 16}, x.options());
  dnnl::stream stream(DnnlEngine());
  memory user = Wrap(xs, {1, c, h, w}, nhwc ? Tag::nhwc : Tag::nchw);
  memory out(Blocks(c, h, w), DnnlEngine(), blocks.data_ptr());
  dnnl::reorder(user, out).execute(stream, user, out);
  stream.wait();
  return blocks;
#else
  return x.reshape({c / 16, 16, h, w}).permute({0, 2, 3, 1}).contiguous();
#endif
}

at::Tensor FromChannelBlocks(const at::Tensor& blocks) {
  CheckChannelBlocks(blocks, "FromChannelBlocks");
  const int64_t c = blocks.size(0) * 16, h = blocks.size(1), w = blocks.size(2);
  return blocks.permute({0, 3, 1, 2}).reshape({1, c, h, w}).contiguous(torch::MemoryFormat::ChannelsLast);
}

namespace {

// Checks for both entry points below; returns K.
int64_t CheckConvBlocks(const at::Tensor& blocks, const at::Tensor& weight, const at::Tensor& bias, const char* what) {
  if (!DnnlWinogradAvailable())
    throw std::runtime_error("Winograd convolution: this build or CPU has no oneDNN Winograd kernels");
  return CheckChannelBlockConv(blocks, weight, bias, what);
}

}  // namespace

at::Tensor DnnlWinogradConv3x3Blocks(const at::Tensor& blocks, const at::Tensor& weight, const at::Tensor& bias) {
  const int64_t k = CheckConvBlocks(blocks, weight, bias, "DnnlWinogradConv3x3Blocks");
#ifdef ANIMERUN_WITH_DNNL
  torch::NoGradGuard no_grad;
  const int64_t c = blocks.size(0) * 16, h = blocks.size(1), w = blocks.size(2);
  const Inference inf = GetInference({1, c, k, h, w, bias.defined(), true, false, weight.data_ptr()}, weight);
  auto out = torch::empty({k / 16, h, w, 16}, blocks.options());
  RunInference(inf, blocks, out, bias.defined() ? bias.detach().contiguous() : torch::Tensor(), Scratchpad(inf));
  return out;
#else
  (void)k;
  return {};
#endif
}

void DnnlWinogradConv3x3Bands(const at::Tensor& blocks, const at::Tensor& weight, const at::Tensor& bias,
                              int64_t band_pixels, const BandSink& sink) {
  const int64_t k = CheckConvBlocks(blocks, weight, bias, "DnnlWinogradConv3x3Bands");
  const int64_t rows = ChannelBlockBandRows(blocks.size(1), blocks.size(2), band_pixels, "DnnlWinogradConv3x3Bands");
#ifdef ANIMERUN_WITH_DNNL
  torch::NoGradGuard no_grad;
  const int64_t cb = blocks.size(0), c = cb * 16, h = blocks.size(1), w = blocks.size(2);
  if (h == 0 || w == 0) return;
  // The last band's rows past the image read zeros and are not handed on.
  const Inference inf = GetInference({1, c, k, rows + 2, w, bias.defined(), false, false, weight.data_ptr()}, weight);
  const torch::Tensor bs = bias.defined() ? bias.detach().contiguous() : torch::Tensor();
  const torch::Tensor scratchpad = Scratchpad(inf);
  auto in = torch::empty({cb, rows + 2, w, 16}, blocks.options());
  auto out = torch::empty({k / 16, rows, w, 16}, blocks.options());
  const float* src = blocks.data_ptr<float>();
  float* dst = in.data_ptr<float>();
  const int64_t row_floats = w * 16;
  for (int64_t row0 = 0; row0 < h; row0 += rows) {
    // Input rows row0 - 1 .. row0 + rows, zeros outside the image.
    at::parallel_for(0, cb * (rows + 2), 16, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t b = i / (rows + 2), r = row0 - 1 + i % (rows + 2);
        float* to = dst + i * row_floats;
        if (r < 0 || r >= h) {
          std::fill(to, to + row_floats, 0.0f);
        } else {
          std::copy(src + (b * h + r) * row_floats, src + (b * h + r + 1) * row_floats, to);
        }
      }
    });
    RunInference(inf, in, out, bs, scratchpad);
    sink(out, row0, std::min(rows, h - row0));
  }
#else
  (void)k, (void)rows, (void)sink;
#endif
}

namespace {

#ifdef ANIMERUN_WITH_DNNL
// Whether the call can take the Winograd kernels at all: float CPU tensors of the right
// shapes, no CPU autocast, kernels available.
bool Fits(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  return x.dim() == 4 && weight.dim() == 4 && weight.size(2) == 3 && weight.size(3) == 3 &&
         weight.size(1) == x.size(1) && x.is_cpu() && x.numel() > 0 && x.scalar_type() == torch::kFloat &&
         weight.scalar_type() == torch::kFloat && (!bias.defined() || bias.scalar_type() == torch::kFloat) &&
         !at::autocast::is_cpu_enabled() && DnnlWinogradAvailable();
}

bool WantsGrad(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  return torch::GradMode::is_enabled() &&
         (x.requires_grad() || weight.requires_grad() || (bias.defined() && bias.requires_grad()));
}
#endif

// Training: the autograd path (Apply). Inference: the forward_inference primitive (InferPlain).
enum class Route { kLibTorch, kTrain, kInfer };

Route Choose(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
#ifdef ANIMERUN_WITH_DNNL
  if (!Fits(x, weight, bias)) return Route::kLibTorch;
  if (WantsGrad(x, weight, bias)) return WinogradTrainingEnabled() ? Route::kTrain : Route::kLibTorch;
  // Inference takes channel counts of whole 16-channel blocks only. Other counts (PWC-Net's
  // decoders: 115 to 565 channels in) reorder into padded blocks and back on every call, which
  // costs what the Winograd kernel gains and more memory. PWC-Net at 448x1024 was as fast
  // and took 1012 against 659 MB (docs/benchmarks.md).
  const bool blocks = x.size(1) % 16 == 0 && weight.size(0) % 16 == 0;
  return WinogradInferenceEnabled() && blocks ? Route::kInfer : Route::kLibTorch;
#else
  (void)x, (void)weight, (void)bias;
  return Route::kLibTorch;
#endif
}

at::Tensor Run(Route route, const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
#ifdef ANIMERUN_WITH_DNNL
  if (route == Route::kTrain) return Apply(x, weight, bias);
  if (route == Route::kInfer) return InferPlain(x, weight, bias);
#else
  (void)route, (void)x, (void)weight, (void)bias;
#endif
  return {};
}

}  // namespace

at::Tensor Conv3x3Train(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  const Route route = Choose(x, weight, bias);
  if (route != Route::kLibTorch) return Run(route, x, weight, bias);
  return torch::conv2d(x, weight, bias, 1, 1);
}

at::Tensor Conv3x3Train(torch::nn::Conv2dImpl& conv, const at::Tensor& x) {
#ifdef ANIMERUN_WITH_DNNL  // LibTorch 1.13 (CMakeLists.txt): its c10::variant options
  const auto& o = conv.options;
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  const bool same_conv = o.kernel_size()->at(0) == 3 && o.kernel_size()->at(1) == 3 && o.stride()->at(0) == 1 &&
                         o.stride()->at(1) == 1 && o.dilation()->at(0) == 1 && o.dilation()->at(1) == 1 &&
                         o.groups() == 1 && padding && (*padding)->at(0) == 1 && (*padding)->at(1) == 1 &&
                         c10::get_if<torch::enumtype::kZeros>(&o.padding_mode()) != nullptr;
  if (same_conv) {
    const Route route = Choose(x, conv.weight, conv.bias);
    if (route != Route::kLibTorch) return Run(route, x, conv.weight, conv.bias);
  }
#endif
  return conv.Conv2dImpl::forward(x);
}

}  // namespace animerun::models
