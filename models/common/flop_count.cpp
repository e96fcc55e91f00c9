#include "models/common/flop_count.h"

#include <cstdio>
#include <stdexcept>
#include <tuple>
#include <variant>

namespace animerun::models {
namespace {

// Output size of one spatial dimension, as Conv2d computes it.
int64_t ConvOut(int64_t in, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation) {
  return (in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;
}

// The padding of a Conv2d: explicit values, "valid" (none) or "same" (output size = input
// size at stride 1). The variant is c10::variant in LibTorch 1.13 and std::variant in 2.x:
// the unqualified get_if finds the right one by argument-dependent lookup.
std::pair<int64_t, int64_t> ConvPadding(const torch::nn::detail::ConvNdOptions<2>& o) {
  using std::get_if;
  if (const auto* p = get_if<torch::ExpandingArray<2>>(&o.padding())) return {(*p)->at(0), (*p)->at(1)};
  if (get_if<torch::enumtype::kValid>(&o.padding())) return {0, 0};
  // kSame: total padding dilation * (kernel - 1), split over both sides.
  return {o.dilation()->at(0) * (o.kernel_size()->at(0) - 1) / 2, o.dilation()->at(1) * (o.kernel_size()->at(1) - 1) / 2};
}

}  // namespace

void FlopCount::AddTo(const std::string& part, double flop) {
  for (auto& p : parts_)
    if (p.first == part) {
      p.second += flop;
      return;
    }
  parts_.emplace_back(part, flop);
}

std::pair<int64_t, int64_t> FlopCount::Conv(const std::string& part, const torch::nn::Conv2dImpl& conv, int64_t batch,
                                            int64_t h, int64_t w, int64_t times) {
  const auto& o = conv.options;
  const auto [ph, pw] = ConvPadding(o);
  const int64_t kh = o.kernel_size()->at(0), kw = o.kernel_size()->at(1);
  const int64_t oh = ConvOut(h, kh, o.stride()->at(0), ph, o.dilation()->at(0));
  const int64_t ow = ConvOut(w, kw, o.stride()->at(1), pw, o.dilation()->at(1));
  if (oh <= 0 || ow <= 0) throw std::invalid_argument("FlopCount: input too small for a convolution");
  const double macs = double(batch) * oh * ow * o.out_channels() * (o.in_channels() / o.groups()) * kh * kw;
  AddTo(part, 2.0 * macs * times);
  return {oh, ow};
}

std::pair<int64_t, int64_t> FlopCount::ConvTranspose(const std::string& part, const torch::nn::ConvTranspose2dImpl& conv,
                                                     int64_t batch, int64_t h, int64_t w, int64_t times) {
  const auto& o = conv.options;
  const auto [ph, pw] = ConvPadding(o);
  const int64_t kh = o.kernel_size()->at(0), kw = o.kernel_size()->at(1);
  const int64_t oh =
      (h - 1) * o.stride()->at(0) - 2 * ph + o.dilation()->at(0) * (kh - 1) + o.output_padding()->at(0) + 1;
  const int64_t ow =
      (w - 1) * o.stride()->at(1) - 2 * pw + o.dilation()->at(1) * (kw - 1) + o.output_padding()->at(1) + 1;
  const double macs = double(batch) * h * w * o.in_channels() * (o.out_channels() / o.groups()) * kh * kw;
  AddTo(part, 2.0 * macs * times);
  return {oh, ow};
}

void FlopCount::ConvShape(const std::string& part, int64_t batch, int64_t in_channels, int64_t out_channels,
                          int64_t kernel_h, int64_t kernel_w, int64_t out_h, int64_t out_w, int64_t times) {
  AddTo(part, 2.0 * double(batch) * out_h * out_w * out_channels * in_channels * kernel_h * kernel_w * times);
}

std::pair<int64_t, int64_t> FlopCount::Sequential(const std::string& part, const torch::nn::SequentialImpl& seq,
                                                  int64_t batch, int64_t h, int64_t w, int64_t times) {
  for (const auto& m : seq.children()) {
    if (const auto* conv = m->as<torch::nn::Conv2dImpl>())
      std::tie(h, w) = Conv(part, *conv, batch, h, w, times);
    else if (const auto* linear = m->as<torch::nn::LinearImpl>())
      Linear(part, *linear, batch * h * w, times);
  }
  return {h, w};
}

void FlopCount::Conv1d(const std::string& part, const torch::nn::Conv1dImpl& conv, int64_t batch, int64_t length,
                       int64_t times) {
  const auto& o = conv.options;
  using std::get_if;
  const auto* pad = get_if<torch::ExpandingArray<1>>(&o.padding());
  const int64_t p = pad ? (*pad)->at(0) : 0, k = o.kernel_size()->at(0);
  const int64_t out = ConvOut(length, k, o.stride()->at(0), p, o.dilation()->at(0));
  AddTo(part, 2.0 * double(batch) * out * o.out_channels() * (o.in_channels() / o.groups()) * k * times);
}

void FlopCount::Linear(const std::string& part, const torch::nn::LinearImpl& linear, int64_t rows, int64_t times) {
  AddTo(part, 2.0 * double(rows) * linear.options.in_features() * linear.options.out_features() * times);
}

void FlopCount::Matmul(const std::string& part, int64_t batch, int64_t m, int64_t n, int64_t k, int64_t times) {
  AddTo(part, 2.0 * double(batch) * m * n * k * times);
}

void FlopCount::Add(const FlopCount& other, double scale) {
  for (const auto& [part, flop] : other.parts_) AddTo(part, flop * scale);
}

double FlopCount::total() const {
  double t = 0;
  for (const auto& p : parts_) t += p.second;
  return t;
}

std::string FlopCount::Describe() const {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f G", total() / 1e9);
  std::string s = buf;
  for (size_t i = 0; i < parts_.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s%s %.1f", i ? ", " : " (", parts_[i].first.c_str(), parts_[i].second / 1e9);
    s += buf;
  }
  return parts_.empty() ? s : s + ")";
}

}  // namespace animerun::models
