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
#endif

namespace animerun::models {

namespace {

std::atomic<bool> g_winograd_training{true};

#ifdef ANIMERUN_WITH_DNNL

using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;

dnnl::engine& Engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

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
  auto& eng = Engine();
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
  memory converted(want, Engine(), buffer.data_ptr());
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
  return {user, memory(got, Engine(), buffer.data_ptr()), buffer};
}

memory Wrap(const torch::Tensor& t, const memory::dims& dims, Tag tag) {
  return memory(Plain(dims, tag), Engine(), t.data_ptr());
}

torch::Tensor Forward(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), k = weight.size(0);
  const auto& p = GetPrimitives({n, c, k, h, w, bias.defined()});
  dnnl::stream stream(Engine());
  const auto xs = x.contiguous(), ws = weight.contiguous();
  auto src = InLayout(Wrap(xs, {n, c, h, w}, Tag::nchw), p.fwd_pd.src_desc(), stream);
  auto wei = InLayout(Wrap(ws, {k, c, 3, 3}, Tag::oihw), p.fwd_pd.weights_desc(), stream);
  auto out = torch::empty({n, k, h, w}, x.options());
  auto dst = OutLayout(Wrap(out, {n, k, h, w}, Tag::nchw), p.fwd_pd.dst_desc());
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src.mem}, {DNNL_ARG_WEIGHTS, wei.mem}, {DNNL_ARG_DST, dst.mem}};
  torch::Tensor bs;
  if (bias.defined()) {
    bs = bias.contiguous();
    args[DNNL_ARG_BIAS] = Wrap(bs, {k}, Tag::x);
  }
  p.fwd.execute(stream, args);
  dst.Finish(stream);
  stream.wait();
  return out;
}

// Gradients of x, weight and bias from grad_out, each only where asked for.
void Backward(const torch::Tensor& x, const torch::Tensor& weight, bool has_bias, const torch::Tensor& grad_out,
              torch::Tensor* grad_x, torch::Tensor* grad_weight, torch::Tensor* grad_bias) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), k = weight.size(0);
  const auto& p = GetPrimitives({n, c, k, h, w, has_bias});
  dnnl::stream stream(Engine());
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

namespace {

bool Trains(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
#ifdef ANIMERUN_WITH_DNNL
  return WinogradTrainingEnabled() && torch::GradMode::is_enabled() &&
         (x.requires_grad() || weight.requires_grad() || (bias.defined() && bias.requires_grad())) &&
         x.dim() == 4 && weight.dim() == 4 && weight.size(2) == 3 && weight.size(3) == 3 && x.is_cpu() &&
         x.scalar_type() == torch::kFloat && weight.scalar_type() == torch::kFloat &&
         (!bias.defined() || bias.scalar_type() == torch::kFloat) && !at::autocast::is_cpu_enabled() &&
         DnnlWinogradAvailable();
#else
  (void)x, (void)weight, (void)bias;
  return false;
#endif
}

}  // namespace

at::Tensor Conv3x3Train(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
#ifdef ANIMERUN_WITH_DNNL
  if (Trains(x, weight, bias)) return Apply(x, weight, bias);
#endif
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
  if (same_conv && Trains(x, conv.weight, conv.bias)) return Apply(x, conv.weight, conv.bias);
#endif
  return conv.Conv2dImpl::forward(x);
}

}  // namespace animerun::models
