// Training sets for the flow networks, indexed as the official loaders index them
// (princeton-vl/RAFT core/datasets.py; lisiyao21/AnimeRun flow/core/datasets.py):
//
//   anime     <root>/<split>/Frame_Anime/<scene>/<pass>/*.png + Flow/<scene>/forward/*.flo
//             (the AnimeRun v2 reader, animerun_dataset.h: frames paired by sorted order)
//   things    FlyingThings3D "Scene Flow" release, left camera, TRAIN (or TEST):
//             frames_cleanpass/TRAIN/{A,B,C}/NNNN/left/*.png with
//             optical_flow/TRAIN/{A,B,C}/NNNN/{into_future,into_past}/left/*.pfm; per
//             sequence, into_future gives (img[i], img[i+1]) with flow[i] and into_past gives
//             (img[i+1], img[i]) with flow[i+1], for i < #flows - 1; all into_future pairs
//             first, as RAFT's loop order. things-final reads frames_finalpass.
//   sintel    MPI-Sintel training/{clean,final}/<scene>/frame_NNNN.png with
//             training/flow/<scene>/frame_NNNN.flo (N frames, N-1 flows); sintel-final.
//   creative  Creative Flow+ decompressed by its pipeline_decompress.sh, as AnimeRun reads
//             it: <split>/<scene>/cam0/renders/composite/<style>/*.png with
//             <split>/<scene>/cam0/metadata/flow/*.flo; one style per scene (the first in
//             sorted order: the official os.listdir()[0] is arbitrary); a scene is kept only
//             when #frames - 1 == #flows, as the official reader does.
//   pairs     a list file of your own pairs: text lines "img1 img2 flow [valid]" (blank
//             lines and '#' comments skipped; whitespace separated, or tab separated when
//             paths hold spaces) or a JSON array of {"image1","image2","flow"[,"valid"]};
//             relative paths are relative to the list file; flow in any supported format
//             (.flo, .pfm, KITTI .png, .npy [H,W,2]); valid: an optional mask (.png or
//             .npy, non-zero = valid).
//
// Differences from the official code, all for determinism: scene and sequence folders are
// sorted (os.listdir order is arbitrary), and folders that do not line up (an image folder
// without its flow folder, counts that disagree) are reported by name instead of being
// zipped blindly.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/jobs/job.h"

namespace animerun::data {

namespace fs = std::filesystem;

// One training pair as files. valid is optional (empty = derived from the flow).
struct FlowPairFiles {
  fs::path image1, image2, flow, valid;
};

// A decoded pair, as the official FlowDataset.__getitem__ returns it before augmentation.
struct FlowSample {
  cv::Mat image1, image2;  // RGB CV_8UC3 (grey tiled, alpha dropped)
  cv::Mat flow;            // CV_32FC2, image1 -> image2
  cv::Mat valid;           // CV_8UC1, 1 = supervised: |u| < 1000 and |v| < 1000 (the official
                           // dense-flow rule), and the file's own mask where there is one
                           // (KITTI's third channel, a pairs-list mask). Non-finite flow
                           // pixels are invalid and their flow set to 0.
};

// Decodes a pair; throws Error naming the file that is missing, corrupt or of another size.
FlowSample LoadFlowSample(const FlowPairFiles& files);

// Reads a flow file of any supported format as (flow, valid): .flo, .pfm, KITTI .png (its
// mask), .npy [H, W, 2]. valid is CV_8UC1 0/1 (all 1 where the format has no mask).
void ReadTrainingFlow(const fs::path& path, cv::Mat* flow, cv::Mat* valid);

// The dataset kinds a mixture names.
const std::vector<std::string>& FlowSetKinds();  // anime, things, things-final, sintel, sintel-final, creative, pairs

struct FlowSetOptions {
  std::string kind;        // one of FlowSetKinds()
  fs::path root;           // dataset folder (pairs: the list file)
  std::string split;       // "" = the kind's training split: anime train, things TRAIN, sintel
                           // training, creative test (the AnimeRun creative stage trains on it)
  std::string pass = "original";  // anime: the Frame_Anime pass
  void Check() const;
};

struct FlowSet {
  std::string kind;
  fs::path root;
  std::vector<FlowPairFiles> pairs;
  std::vector<std::string> problems;  // folders skipped, with the reason (reported, not fatal)
};

// Indexes a set (names and folder structure only; no file is decoded). Throws Error naming
// the folder when the root or a required sub-folder is missing or when no pair is found.
FlowSet IndexFlowSet(const FlowSetOptions& options, const JobContext* job = nullptr);

// The kind a path looks like, for the GUI's mixture table: "anime", "things", "sintel",
// "creative", "pairs" (a .txt/.json file), or "" when it is none of them.
std::string DetectFlowSetKind(const fs::path& path);

// What CheckFlowSet found.
struct FlowSetReport {
  std::string kind;
  fs::path root;
  int64_t pairs = 0;
  std::map<std::string, int64_t> resolutions;  // "960x540" -> pairs of that size
  std::string Summary() const;                 // "anime (/data/AnimeRun): 2,131 pairs, 960x540"
};

// Checks every pair of the set from file headers (file_probe.h): every file exists, is of
// its format, is not truncated where the format tells, and image1, image2 and the flow
// have one size. Throws Error naming the first bad file, with how many pairs are bad.
// Runs on threads; reports progress and honours cancellation.
FlowSetReport CheckFlowSet(const FlowSet& set, const JobContext* job = nullptr);

}  // namespace animerun::data
