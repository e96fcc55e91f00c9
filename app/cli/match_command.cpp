// `animerun match`: segment matching between two frames with AnT (official checkpoint), the
// flow-guided matcher (a given flow) or the geometric matcher, all through the matcher
// factory. Writes the AnimeRun matching JSON and, optionally, the raw score matrix.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "app/cli/arg_parser.h"
#include "core/flow/flow_models.h"
#include "app/cli/command_registry.h"
#include "core/io/flow_io.h"
#include "core/io/image_io.h"
#include "core/io/match_json.h"
#include "core/io/npy.h"
#include "core/segments/matcher_factory.h"

namespace animerun::cli {
namespace {

struct MatchCliOptions {
  std::string model = "ant";  // matcher: ant, flow or geometric
  std::string weights;        // ant: checkpoint
  std::string device = "cpu"; // ant: cpu, cuda, cuda:N
  std::string precision = "fp32";  // ant: fp32 or bf16
  std::string flow;           // flow: the flow frame t -> t+1 (.flo, KITTI .png, .pfm)
  std::string img0, img1, seg0, seg1;
  std::string out;            // matching JSON (AnimeRun format)
  std::string scores;         // raw (N0+1)x(N1+1) float32 .npy; "" = don't write
  void Check() const {
    const auto names = segments::MatcherNames();
    Require(std::find(names.begin(), names.end(), model) != names.end(),
            "--model must be ant, flow or geometric, got '" + model + "'");
    Require(model == "ant" || weights.empty(), "--weights is for --model ant only");
    Require(model == "ant" || precision == "fp32", "--precision is for --model ant only");
    Require(model == "flow" || flow.empty(), "--flow is for --model flow only");
    Require(model != "flow" || !flow.empty(), "--model flow needs --flow FILE (the flow from IMG0 to IMG1)");
  }
};

int RunMatch(int argc, char** argv) {
  MatchCliOptions o;
  ArgParser p(argv[0], "Matches the segments of IMG0 (label map SEG0) to those of IMG1 (SEG1): for each segment id "
                       "of frame t its id in frame t+1 or -1, written as AnimeRun matching JSON.");
  p.Add("--model", &o.model, "matcher: ant (network, needs --weights), flow (needs --flow) or geometric");
  p.Add("--weights", &o.weights, "ant: AnT checkpoint (segmat .pt: {'model', 'config', 'epoch'} or a state dict)" +
                                       flow::BuiltinWeightsHelp("ant"));
  p.Add("--device", &o.device, "ant: cpu, cuda or cuda:N");
  p.Add("--precision", &o.precision,
        "ant: fp32, or bf16: the encoder's convolutions in bf16 (faster on CPUs with AVX-512 BF16 or AMX; "
        "where oneDNN's fp32 Winograd runs the other two, the first, and the last's products by a bf16 "
        "Winograd on AVX-512 BF16; docs/benchmarks.md)");
  p.Add("--flow", &o.flow, "flow: optical flow IMG0 -> IMG1 (.flo, KITTI .png, .pfm)");
  p.AddPositional("IMG0", &o.img0, "frame t (RGB image)");
  p.AddPositional("IMG1", &o.img1, "frame t+1");
  p.AddPositional("SEG0", &o.seg0, "label map of frame t (.npy, integer ids 0..N0-1)");
  p.AddPositional("SEG1", &o.seg1, "label map of frame t+1 (.npy)");
  p.Add("--out", &o.out, "matching JSON {\"i\": [j or -1]}", "-o", true);
  p.Add("--scores", &o.scores, "also write the raw score matrix (N0+1)x(N1+1) incl. the dustbin, float32 .npy");
  p.SetEpilog("AnT scores are the network's raw scores before the row softmax (ant only; other matchers write "
              "their own score matrix when they have one).\n"
              "example: animerun match --model ant --weights ant.pt a.png b.png a.npy b.npy -o a.json --scores a.npy");
  if (!p.Parse(argc, argv)) return 0;
  segments::MatcherOptions mo;
  mo.weights = o.weights;
  mo.device = o.device;
  mo.precision = o.precision;
  try {
    o.Check();
    mo.Check(o.model);
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    throw UsageError(e.what());
  }

  segments::MatchInput in;
  in.image0 = io::ReadImageRgb(o.img0);
  in.image1 = io::ReadImageRgb(o.img1);
  in.labels0 = io::ReadNpyLabels(o.seg0);
  in.labels1 = io::ReadNpyLabels(o.seg1);
  if (in.labels0.size() != in.image0.size()) throw Error(o.seg0 + ": label map size differs from " + o.img0);
  if (in.labels1.size() != in.image1.size()) throw Error(o.seg1 + ": label map size differs from " + o.img1);
  if (!o.flow.empty()) in.flow = io::ReadFlowAuto(o.flow);

  auto matcher = segments::CreateMatcher(o.model, mo);
  const auto t0 = std::chrono::steady_clock::now();
  const segments::MatchResult r = matcher->Match(in);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  io::WriteMatchJson(o.out, r.matches);
  int matched = 0;
  for (int m : r.matches) matched += m >= 0;
  std::printf("%s: %d of %zu segments matched (%.3f s); matches written to %s\n", o.model.c_str(), matched,
              r.matches.size(), secs, o.out.c_str());
  if (!o.scores.empty()) {
    if (r.scores.empty()) {
      std::fprintf(stderr, "warning: no score matrix to write to %s (%s)\n", o.scores.c_str(),
                   o.model == "ant" ? "fewer than 2 segments in a frame: the network does not run"
                                    : "this matcher gives none");
    } else {
      io::WriteNpyMat(o.scores, r.scores);
      std::printf("scores (%dx%d) written to %s\n", r.scores.rows, r.scores.cols, o.scores.c_str());
    }
  }
  return 0;
}

}  // namespace

ANIMERUN_REGISTER_COMMAND(match, "match", "Segment matching between two frames (AnT, flow-guided or geometric)",
                          RunMatch);

}  // namespace animerun::cli
