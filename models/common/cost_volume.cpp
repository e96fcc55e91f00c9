#include "models/common/cost_volume.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "models/common/cpu_clones.h"

namespace animerun::models {

namespace {

// One copy per instruction set, picked when the program loads (cpu_clones.h): the row loops
// below are plain multiply-adds over contiguous floats that the compiler vectorises for each.

// The valid x range of displacement dx in a row of w: x and x + dx both inside.
inline int64_t XBegin(int64_t dx) { return std::max<int64_t>(0, -dx); }
inline int64_t XEnd(int64_t dx, int64_t w) { return std::min<int64_t>(w, w - dx); }

// acc[dx][x] += a[x] * t[x + dx] for the 2r+1 dx of one dy (acc: 2r+1 rows of w).
ANIMERUN_CPU_CLONES void ForwardRow(const float* a, const float* t, int64_t w, int64_t r, float* acc) {
  for (int64_t dx = -r; dx <= r; ++dx) {
    float* o = acc + (dx + r) * w;
    const float* ts = t + dx;
    for (int64_t x = XBegin(dx), end = XEnd(dx, w); x < end; ++x) o[x] += a[x] * ts[x];
  }
}

// d one: ga[x] += g[dx][x] * t[x + dx] over the 2r+1 dx of one dy (g: 2r+1 rows, stride gs).
ANIMERUN_CPU_CLONES void GradOneRow(const float* g, int64_t gs, const float* t, int64_t w, int64_t r, float* ga) {
  for (int64_t dx = -r; dx <= r; ++dx) {
    const float* gd = g + (dx + r) * gs;
    const float* ts = t + dx;
    for (int64_t x = XBegin(dx), end = XEnd(dx, w); x < end; ++x) ga[x] += gd[x] * ts[x];
  }
}

// d two at row y + dy: gt[x + dx] += g[dx][x] * a[x] over the 2r+1 dx of one dy.
ANIMERUN_CPU_CLONES void GradTwoRow(const float* g, int64_t gs, const float* a, int64_t w, int64_t r, float* gt) {
  for (int64_t dx = -r; dx <= r; ++dx) {
    const float* gd = g + (dx + r) * gs;
    float* o = gt + dx;
    for (int64_t x = XBegin(dx), end = XEnd(dx, w); x < end; ++x) o[x] += gd[x] * a[x];
  }
}

void CheckArguments(const at::Tensor& one, const at::Tensor& two, int64_t radius) {
  if (one.dim() != 4 || !one.sizes().equals(two.sizes()))
    throw std::invalid_argument("local cost volume: needs two [B, C, H, W] maps of one shape, got " +
                                c10::str(one.sizes()) + " and " + c10::str(two.sizes()));
  if (radius < 0) throw std::invalid_argument("local cost volume: radius must be >= 0, got " + std::to_string(radius));
}

// out[b, d, y, :] for every displacement d, one image row (b, y) per task. Rows of acc hold
// the 2r+1 dx of one dy, so what is summed over c stays in the first-level cache.
at::Tensor ForwardCpu(const at::Tensor& one, const at::Tensor& two, int64_t r, float divisor) {
  const int64_t batch = one.size(0), c = one.size(1), h = one.size(2), w = one.size(3), hw = h * w;
  const int64_t span = 2 * r + 1, disps = span * span;
  auto out = torch::empty({batch, disps, h, w}, one.options());
  const float* ap = one.data_ptr<float>();
  const float* tp = two.data_ptr<float>();
  float* op = out.data_ptr<float>();
  at::parallel_for(0, batch * h, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> acc(span * w);
    for (int64_t n = begin; n < end; ++n) {
      const int64_t b = n / h, y = n % h;
      for (int64_t dy = -r; dy <= r; ++dy) {
        const int64_t yy = y + dy;
        std::fill(acc.begin(), acc.end(), 0.f);
        if (yy >= 0 && yy < h)  // else two is zero there, and so are the 2r+1 channels
          for (int64_t k = 0; k < c; ++k)
            ForwardRow(ap + (b * c + k) * hw + y * w, tp + (b * c + k) * hw + yy * w, w, r, acc.data());
        // Divided, not multiplied by the reciprocal, as the official code does.
        for (int64_t dx = 0; dx < span; ++dx) {
          float* o = op + (b * disps + (dy + r) * span + dx) * hw + y * w;
          const float* s = acc.data() + dx * w;
          for (int64_t x = 0; x < w; ++x) o[x] = s[x] / divisor;
        }
      }
    }
  });
  return out;
}

// Gradients of both maps from g = d loss / d out ([B, (2r+1)^2, H, W]).
void BackwardCpu(const at::Tensor& one, const at::Tensor& two, const at::Tensor& g, int64_t r, float divisor,
                 at::Tensor* grad_one, at::Tensor* grad_two) {
  const int64_t batch = one.size(0), c = one.size(1), h = one.size(2), w = one.size(3), hw = h * w;
  const int64_t span = 2 * r + 1;
  const float* ap = one.data_ptr<float>();
  const float* tp = two.data_ptr<float>();
  const float* gp = g.data_ptr<float>();
  const float inv = 1.0f / divisor;
  const auto gd_row = [&](int64_t b, int64_t dy, int64_t y) {  // g[b, (dy+r)*span + 0, y, :]
    return gp + (b * span * span + (dy + r) * span) * hw + y * w;
  };
  if (grad_one) {
    *grad_one = torch::empty_like(one);
    float* out = grad_one->data_ptr<float>();
    at::parallel_for(0, batch * h, 1, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        const int64_t b = n / h, y = n % h;
        for (int64_t k = 0; k < c; ++k) {
          float* ga = out + (b * c + k) * hw + y * w;
          std::fill(ga, ga + w, 0.f);
          for (int64_t dy = -r; dy <= r; ++dy) {
            const int64_t yy = y + dy;
            if (yy >= 0 && yy < h) GradOneRow(gd_row(b, dy, y), hw, tp + (b * c + k) * hw + yy * w, w, r, ga);
          }
          for (int64_t x = 0; x < w; ++x) ga[x] *= inv;
        }
      }
    });
  }
  if (grad_two) {
    *grad_two = torch::empty_like(two);
    float* out = grad_two->data_ptr<float>();
    // Row yt of two receives from the rows y = yt - dy of one and of g.
    at::parallel_for(0, batch * h, 1, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        const int64_t b = n / h, yt = n % h;
        for (int64_t k = 0; k < c; ++k) {
          float* gt = out + (b * c + k) * hw + yt * w;
          std::fill(gt, gt + w, 0.f);
          for (int64_t dy = -r; dy <= r; ++dy) {
            const int64_t y = yt - dy;
            if (y >= 0 && y < h) GradTwoRow(gd_row(b, dy, y), hw, ap + (b * c + k) * hw + y * w, w, r, gt);
          }
          for (int64_t x = 0; x < w; ++x) gt[x] *= inv;
        }
      }
    });
  }
}

class FusedCostVolume : public torch::autograd::Function<FusedCostVolume> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& one,
                               const torch::Tensor& two, int64_t radius, double divisor) {
    const auto a = one.contiguous(), t = two.contiguous();
    ctx->save_for_backward({a, t});
    ctx->saved_data["radius"] = radius;
    ctx->saved_data["divisor"] = divisor;
    return ForwardCpu(a, t, radius, static_cast<float>(divisor));
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto g = grads[0].to(torch::kFloat).contiguous();
    torch::Tensor grad_one, grad_two;
    BackwardCpu(saved[0], saved[1], g, ctx->saved_data["radius"].toInt(),
                static_cast<float>(ctx->saved_data["divisor"].toDouble()), ctx->needs_input_grad(0) ? &grad_one : nullptr,
                ctx->needs_input_grad(1) ? &grad_two : nullptr);
    return {grad_one, grad_two, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

at::Tensor LocalCostVolumeReference(const at::Tensor& one, const at::Tensor& two, int64_t radius, double divisor) {
  CheckArguments(one, two, radius);
  const int64_t h = one.size(2), w = one.size(3), r = radius;
  // (2r+1)^2 shifted products of the zero-padded second map, each reduced over channels.
  const auto padded = torch::constant_pad_nd(two, {r, r, r, r});
  std::vector<torch::Tensor> out;
  out.reserve((2 * r + 1) * (2 * r + 1));
  for (int64_t dy = -r; dy <= r; ++dy) {
    const auto rows = padded.slice(2, r + dy, r + dy + h);
    for (int64_t dx = -r; dx <= r; ++dx) out.push_back((one * rows.slice(3, r + dx, r + dx + w)).sum(1));
  }
  return torch::stack(out, 1) / divisor;
}

at::Tensor LocalCostVolume(const at::Tensor& one, const at::Tensor& two, int64_t radius, double divisor) {
  CheckArguments(one, two, radius);
  if (!one.is_cpu() || !two.is_cpu() || one.scalar_type() != torch::kFloat || two.scalar_type() != torch::kFloat)
    return LocalCostVolumeReference(one, two, radius, divisor);
  const int64_t span = 2 * radius + 1;
  if (one.numel() == 0) return torch::zeros({one.size(0), span * span, one.size(2), one.size(3)}, one.options());
  const bool needs_grad = torch::GradMode::is_enabled() && (one.requires_grad() || two.requires_grad());
  if (!needs_grad) return ForwardCpu(one.contiguous(), two.contiguous(), radius, static_cast<float>(divisor));
  return FusedCostVolume::apply(one, two, radius, divisor);
}

}  // namespace animerun::models
