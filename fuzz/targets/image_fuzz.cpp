// The image decode entry (core/io/image_io.h): header probe with its size limits, then
// OpenCV's decoders, then conversion to RGB.
#include "core/io/image_io.h"
#include "fuzz/fuzz_target.h"

ANIMERUN_FUZZ_TARGET(image) {
  using namespace animerun;
  io::ImageHeader h;
  if (!fuzz::Accepts("input.img", [&] { h = io::ProbeImageHeader(data, size, "input.img"); })) return 0;
  fuzz::Require(h.width > 0 && h.height > 0 && h.width * h.height <= io::kMaxImagePixels, "probe keeps the limits");
  cv::Mat rgb;
  if (!fuzz::Accepts("input.img", [&] { rgb = io::DecodeImageRgb(data, size, "input.img"); })) return 0;
  fuzz::Require(rgb.type() == CV_8UC3 && !rgb.empty(), "DecodeImageRgb returns RGB CV_8UC3");
  // EXIF rotation may swap the sides; the pixel count cannot grow past what the header said.
  fuzz::Require(static_cast<int64_t>(rgb.total()) <= io::kMaxImagePixels, "decoded image within the limits");
  return 0;
}
