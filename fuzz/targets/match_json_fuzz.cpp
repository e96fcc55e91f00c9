// SegMatching JSON (core/io/match_json.h): parse with and without a segment count; an
// accepted file's matches survive the writer.
#include <string>

#include "core/io/match_json.h"
#include "fuzz/fuzz_target.h"

ANIMERUN_FUZZ_TARGET(match_json) {
  using namespace animerun;
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<int> m;
  if (!fuzz::Accepts("input.json", [&] { m = io::ParseMatchJson(text, "input.json"); })) return 0;
  for (int v : m) fuzz::Require(v >= -1, "matches are >= -1");
  // The round trip of a large frame's list: a few bytes may name segment 720780, and
  // re-encoding and re-parsing 720k entries takes over 10 s under ASan (the first CI fuzz
  // run's timeout, fuzz/regressions/match_json/timeout-1b67...). The reader itself took
  // milliseconds on it; the writer of long lists is covered by the unit tests.
  if (m.size() <= (size_t{1} << 16)) {
    const std::vector<int> again = io::ParseMatchJson(io::EncodeMatchJson(m, "again.json"), "again.json");
    fuzz::Require(again == m, "SegMatching round trip");
  }
  // With the frame's segment count: exactly that size, or refused.
  const int n = static_cast<int>(m.size());
  std::vector<int> sized;
  if (fuzz::Accepts("input.json", [&] { sized = io::ParseMatchJson(text, "input.json", n + 3); }, false))
    fuzz::Require(static_cast<int>(sized.size()) == n + 3, "sized to num_segments");
  if (n > 0) fuzz::Accepts("input.json", [&] { io::ParseMatchJson(text, "input.json", n - 1); }, false);
  return 0;
}
