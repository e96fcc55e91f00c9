// The windowed bilinear lookup shared by the CPU correlation kernels (corr_block.cpp, all
// pairs; corr_on_demand.cpp, on demand): all (2r+1)^2 samples of a window share one pair of
// bilinear weights (the offsets are integers), so each output is four reads of a (2r+2)^2
// patch. Same formula as grid_sample (nw, ne, sw, se weights, zero outside), on the pixel
// coordinate itself rather than its [-1, 1] round trip. Internal to models/common.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace animerun::models::corr_window {

// Where the window of one query pixel lies in a level of lh x lw.
struct Window {
  int64_t x0, y0;  // top-left patch pixel (may be outside)
  float fx, fy;    // bilinear fractions
};

// False when the window lies wholly outside (or the coordinate is not finite): grid_sample
// gives 0 there and passes no gradient. (cx, cy) are level-0 coordinates, scale 1 / 2^level.
inline bool PlaceWindow(float cx, float cy, float scale, int64_t lh, int64_t lw, int64_t radius, Window* win) {
  const int64_t k = 2 * radius + 1;
  const float px = cx * scale, py = cy * scale;
  if (!std::isfinite(px) || !std::isfinite(py) || px < -k - 1 || py < -k - 1 || px > lw + k || py > lh + k)
    return false;
  const float fx0 = std::floor(px), fy0 = std::floor(py);
  win->fx = px - fx0;
  win->fy = py - fy0;
  win->x0 = static_cast<int64_t>(fx0) - radius;
  win->y0 = static_cast<int64_t>(fy0) - radius;
  return true;
}

// patch[a * (k+1) + c] is the value at (x0 + a, y0 + c); o[a * k + c] the k*k samples.
inline void CombineWindow(const float* patch, const Window& win, int64_t k, float* o) {
  const float fx = win.fx, fy = win.fy;
  const float nw = (1 - fx) * (1 - fy), ne = fx * (1 - fy), sw = (1 - fx) * fy, se = fx * fy;
  for (int64_t a = 0; a < k; ++a) {
    const float* r0 = patch + a * (k + 1);
    const float* r1 = r0 + (k + 1);
    for (int64_t c = 0; c < k; ++c) o[a * k + c] = nw * r0[c] + ne * r1[c] + sw * r0[c + 1] + se * r1[c + 1];
  }
}

}  // namespace animerun::models::corr_window
