// PFM (core/io/flow_io.h): decode; an accepted image re-encodes and decodes to the same bits;
// the flow view of a 3-channel file keeps its first two channels.
#include <cstring>

#include "core/io/flow_io.h"
#include "fuzz/fuzz_target.h"

ANIMERUN_FUZZ_TARGET(pfm) {
  using namespace animerun;
  cv::Mat img;
  if (!fuzz::Accepts("input.pfm", [&] { img = io::DecodePfm(data, size, "input.pfm"); })) return 0;
  fuzz::Require(img.type() == CV_32FC1 || img.type() == CV_32FC3, "DecodePfm returns CV_32FC1 or CV_32FC3");
  const std::vector<uint8_t> bytes = io::EncodePfm(img, "again.pfm");
  const cv::Mat again = io::DecodePfm(bytes.data(), bytes.size(), "again.pfm");
  fuzz::Require(again.size() == img.size() && again.type() == img.type() &&
                    std::memcmp(again.data, img.data, img.total() * img.elemSize()) == 0,
                "PFM round trip keeps every bit");
  return 0;
}
