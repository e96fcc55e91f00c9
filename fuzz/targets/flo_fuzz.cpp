// Middlebury .flo (core/io/flow_io.h): decode; an accepted file re-encodes to the same bytes.
#include <cstring>

#include "core/io/flow_io.h"
#include "fuzz/fuzz_target.h"

ANIMERUN_FUZZ_TARGET(flo) {
  using namespace animerun;
  cv::Mat flow;
  if (!fuzz::Accepts("input.flo", [&] { flow = io::DecodeFlo(data, size, "input.flo"); })) return 0;
  fuzz::Require(flow.type() == CV_32FC2 && flow.isContinuous(), "DecodeFlo returns continuous CV_32FC2");
  const std::vector<uint8_t> again = io::EncodeFlo(flow, "again.flo");
  fuzz::Require(again.size() == size && std::memcmp(again.data(), data, size) == 0, ".flo round trip is exact");
  return 0;
}
