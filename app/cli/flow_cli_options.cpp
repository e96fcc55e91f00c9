#include "app/cli/flow_cli_options.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/flow/flow_models.h"
#include "core/io/flow_io.h"

namespace animerun::cli {
namespace {

std::string FormatPixels(double px) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", px);
  return buf;
}

}  // namespace

void AddFlowRunOptions(ArgParser& p, flow::FlowRunOptions* o) {
  p.Add("--model", &o->model, "raft, raft-small, gma, gmflow, gmflow-refine or pwcnet");
  p.Add("--weights", &o->weights, "official checkpoint (raft-things.pth, gma-sintel.pth, gmflow_sintel-0c07dcb3.pth, "
                                  "network-default.pytorch, ...) or one saved by this program" +
                                      flow::BuiltinWeightsHelp("flow"));
  p.AddCustom(
      "--iters", "N|auto", std::to_string(o->iters),
      [o](const std::string& v) {
        if (v == "auto") {
          o->iters = 32;
          o->early_stop_px = flow::kAutoEarlyStopPx;
          return;
        }
        size_t pos = 0;
        try {
          o->iters = std::stoi(v, &pos);
        } catch (...) {
          pos = std::string::npos;
        }
        if (pos != v.size()) throw UsageError("--iters expects a number or 'auto', got '" + v + "'");
      },
      "RAFT/GMA refinement iterations; auto: up to 32, ending once the mean update is below " +
          FormatPixels(flow::kAutoEarlyStopPx) + " px (faster; not the paper's protocol, docs/benchmarks.md)");
  p.Add("--early-stop", &o->early_stop_px,
        "RAFT/GMA: end the iterations (--iters is then the most) once the mean update is below this many pixels; "
        "0 = off");
  p.Add("--padding", &o->padding, "RAFT/GMA padding mode: sintel (centred) or kitti (bottom)");
  p.Add("--device", &o->device, "cpu, cuda or cuda:N");
  p.Add("--precision", &o->precision,
        "fp32, or bf16: convolutions and matmuls in bf16, correlation and flow in fp32; faster on CPUs with "
        "AVX-512 BF16 at a small EPE change (docs/benchmarks.md); fp16: the same in fp16, on CUDA only");
  p.Add("--threads", &o->threads, "LibTorch CPU threads (0 = all cores)");
  p.Add("--corr", &o->corr,
        "RAFT/GMA correlation: all-pairs (the volume), on-demand (RAFT's memory-efficient variant: the same flow "
        "to float rounding, for large frames), or auto (on demand when the volume would exceed 2 GiB)");
}

void CheckAsUsage(const flow::FlowRunOptions& o) {
  try {
    o.Check();
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  // Valid, but probably not what the user wants on this machine: say so.
  const std::string note = flow::Bf16Note(o.precision, o.device);
  if (!note.empty()) std::fprintf(stderr, "animerun: note: %s\n", note.c_str());
}

void WriteFlowByExtension(const std::filesystem::path& path, const cv::Mat& flow) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".flo") io::WriteFlo(path, flow);
  else if (ext == ".png") io::WriteKittiFlow(path, flow);
  else if (ext == ".pfm") {
    // FlyingThings stores flow as a 3-channel PFM with a zero third channel.
    cv::Mat uv[2], three;
    cv::split(flow, uv);
    cv::merge(std::vector<cv::Mat>{uv[0], uv[1], cv::Mat::zeros(flow.size(), CV_32FC1)}, three);
    io::WritePfm(path, three);
  }
  else throw Error(path.string() + ": unknown flow format (use .flo, .png or .pfm)");
}

}  // namespace animerun::cli
