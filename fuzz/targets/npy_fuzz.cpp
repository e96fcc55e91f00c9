// NumPy .npy (core/io/npy.h): decode, the three cv::Mat conversions, and an exact round trip
// of the array through the writer.
#include "core/io/npy.h"
#include "fuzz/fuzz_target.h"

ANIMERUN_FUZZ_TARGET(npy) {
  using namespace animerun;
  io::NpyArray a;
  if (!fuzz::Accepts("input.npy", [&] { a = io::DecodeNpy(data, size, "input.npy"); })) return 0;
  fuzz::Require(a.data.size() == static_cast<size_t>(a.numel()) * io::NpyItemSize(a.type), "data matches shape");
  const std::vector<uint8_t> bytes = io::EncodeNpy(a, "again.npy");
  const io::NpyArray b = io::DecodeNpy(bytes.data(), bytes.size(), "again.npy");
  fuzz::Require(b.type == a.type && b.shape == a.shape && b.data == a.data, ".npy round trip is exact");
  cv::Mat m;
  if (fuzz::Accepts("input.npy", [&] { m = io::NpyToLabels(a, "input.npy"); }, false))
    fuzz::Require(m.type() == CV_32SC1 && static_cast<int64_t>(m.total()) == a.numel(), "labels keep every element");
  if (fuzz::Accepts("input.npy", [&] { m = io::NpyToMask(a, "input.npy"); }, false))
    fuzz::Require(m.type() == CV_8UC1 && static_cast<int64_t>(m.total()) == a.numel(), "mask keeps every element");
  if (fuzz::Accepts("input.npy", [&] { m = io::NpyToFloat(a, "input.npy"); }, false))
    fuzz::Require(m.depth() == CV_32F && static_cast<int64_t>(m.total() * m.channels()) == a.numel(),
                  "float view keeps every element");
  return 0;
}
