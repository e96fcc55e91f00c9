// The AnimeRun v2 folder layout, read as the official loaders read it.
//
//   <root>/<split>/Frame_Anime/<scene>/<pass>/*.png     passes: original, color_1, ...
//   <root>/<split>/contour/<scene>/*.png
//   <root>/<split>/Flow/<scene>/{forward,backward}/*.flo
//   <root>/<split>/Segment/<scene>/*.npy
//   <root>/<split>/SegMatching/<scene>/{forward,backward}/*.json
//   <root>/<split>/UnmatchedForward/<scene>/*.npy
//   <root>/<split>/LineArea/<scene>/*.npy
//
// Frames are paired by sorted order (frame i with i+1), and the per-pair files (forward
// flow, masks, matching) by sorted order too, as the official code globs and sorts them.
// Mask polarity follows the official evaluation (flow/evaluate.py), despite the names:
// occluded = UnmatchedForward == 0, non-occluded = UnmatchedForward == 1;
// line = LineArea == 0, flat = LineArea > 0.
//
// What the official code (lisiyao21/AnimeRun) shows, in detail:
//  - flow/core/datasets.py AnimeRun: scenes = os.listdir(<split>/Frame_Anime); per scene
//    sorted(glob(Frame_Anime/<scene>/original/*.png)) gives pairs (i, i+1);
//    sorted(glob(Flow/<scene>/forward/*.flo)) and sorted(glob(UnmatchedForward/<scene>/*.npy))
//    are zipped with the pairs by position (k-th file = pair k); the LineArea file of a pair
//    is the UnmatchedForward path with the folder renamed (same file name), so LineArea
//    holds one file per pair: the line mask of frame t. Both masks are np.load-ed and
//    compared (== 1, == 0, > 0); the golden metrics fixture stores both as uint8.
//  - segmat/datasets/anime_seg_mat_dataset.py AnimeRunSegMat: Segment/<scene>/*.npy is
//    one label map per frame, paired (k, k+1); SegMatching/<scene>/forward/*.json is one
//    file per pair, k-th = pair k. With dstype='contour' the images are
//    contour/<scene>/*.png (no pass sub-folder). The loader iterates ids
//    range(number of distinct labels), so ids are contiguous 0..N-1 and every pixel is
//    labelled (integer dtype; the loader casts to int64).
//  - read_match_json: {"<i>": [j]} with one key per segment of frame t (the array is sized
//    by the number of keys), j = -1 when unmatched.
//  - segmat/vis_seg_back.py: a backward file SegMatching/<scene>/backward/NNNN.json maps
//    the segments of frame NNNN (Segment/<scene>/NNNN.npy) to frame NNNN-1, i.e. backward
//    files carry the name of frame t+1 and map t+1 -> t; sorted, the k-th backward file
//    still belongs to pair k. Flow/<scene>/backward is read the same way (t+1 -> t).
//  - Frame names end in a 4-digit number (vis_seg_back parses name[-8:-4]):
//    "Image0186.png" or "0186.png".
// This reader pairs by sorted position like the official code. When a folder's count
// disagrees it reports the folder and matches its files to frames by name instead (file
// stem = frame t's stem; backward: frame t+1's), falling back to position; a pair that
// lacks a file that its scene's folder should have is dropped.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/jobs/job.h"

namespace animerun::data {

namespace fs = std::filesystem;

// One frame pair (t, t+1) of a scene. Paths that the dataset lacks are empty.
struct FramePair {
  std::string scene;
  int index = 0;          // t, 0-based within the scene
  std::string name1;      // file stem of frame t ("0186" or "Image0186")
  std::string name2;      // file stem of frame t+1
  fs::path image1, image2;               // Frame_Anime/<scene>/<pass>/...
  fs::path contour1, contour2;           // contour/<scene>/...
  fs::path flow_forward;                 // Flow/<scene>/forward/<k-th>.flo  (t -> t+1)
  fs::path flow_backward;                // Flow/<scene>/backward/<k-th>.flo (t+1 -> t)
  fs::path segment1, segment2;           // Segment/<scene>/...npy
  fs::path match_forward;                // SegMatching/<scene>/forward/<k-th>.json
  fs::path match_backward;               // SegMatching/<scene>/backward/<k-th>.json
  fs::path unmatched_forward;            // UnmatchedForward/<scene>/<k-th>.npy (0 = occluded)
  fs::path line_area;                    // LineArea/<scene>/<k-th>.npy (0 = line)
};

struct Scene {
  std::string name;
  std::vector<std::string> passes;       // sub-folders of Frame_Anime/<scene>, "original" first
  std::vector<fs::path> frames;          // Frame_Anime/<scene>/<pass>/*.png, sorted
  int width = 0, height = 0;             // of the first frame (0 when unreadable)
  std::vector<FramePair> pairs;
  // Problems found while indexing (folders whose counts disagree, sizes that don't match,
  // unreadable files), each naming the file or folder. A scene with problems keeps the
  // pairs that are complete; pairs()/problems() let the GUI show both.
  std::vector<std::string> problems;
};

struct DatasetOptions {
  std::string split = "test";            // "train" or "test"; "" when root is the split folder
  std::string pass = "original";         // which Frame_Anime pass supplies the images
  bool check_sizes = true;               // read image headers to compare frame sizes
  void Check() const;
};

class AnimeRunDataset {
 public:
  // Indexes the dataset. root is the folder holding train/ and test/ (or the split folder
  // itself). Throws Error when the folder or its Frame_Anime is missing; per-scene
  // problems are recorded, not thrown.
  static AnimeRunDataset Open(const fs::path& root, const DatasetOptions& options = {},
                              const JobContext* job = nullptr);

  const fs::path& root() const { return root_; }       // the split folder
  const std::vector<Scene>& scenes() const { return scenes_; }
  const Scene* FindScene(const std::string& name) const;
  std::vector<FramePair> AllPairs() const;
  std::vector<std::string> AllProblems() const;      // "<scene>: <problem>"

 private:
  fs::path root_;
  DatasetOptions options_;
  std::vector<Scene> scenes_;
};

// Everything about one pair, loaded. Members whose file is absent stay empty.
struct PairData {
  cv::Mat image1, image2;                // RGB CV_8UC3
  cv::Mat contour1, contour2;            // CV_8UC1
  cv::Mat flow_forward, flow_backward;   // CV_32FC2
  cv::Mat segment1, segment2;            // CV_32SC1 labels
  std::vector<int> match_forward;        // segment1 id -> segment2 id or -1
  std::vector<int> match_backward;       // segment2 id -> segment1 id or -1
  cv::Mat unmatched_forward;             // CV_8UC1, 0 = occluded, 1 = visible
  cv::Mat line_area;                     // CV_8UC1, 0 = line, > 0 = flat
};

// Loads a pair; checks that every loaded map has the image's size and throws Error naming
// the file that disagrees.
PairData LoadPair(const FramePair& pair);

// The pair's scene, index and frame names without any path: callers set the paths they want
// LoadPair to read (it reads whatever paths are set).
FramePair PairIdentity(const FramePair& pair);

// Prediction folders (eval-flow --pred, eval-match --pred) mirror the ground truth's
// relative paths. Throws Error naming the first missing file, how many of the pairs lack
// one and the expected layout (<pred>/<scene>/forward/<ground-truth file name>).
void RequireAllPredictions(const std::vector<FramePair>& pairs,
                           const std::function<fs::path(const FramePair&)>& prediction_path);

}  // namespace animerun::data
