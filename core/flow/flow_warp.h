// Frame t+1 warped back onto frame t by a forward flow, and the photometric error between
// the two: the check behind a blink comparison. Where a flow is right, the warped frame
// lies on frame t and the error is small; a wrong flow shows as ghosting and as error.
#pragma once

#include <opencv2/core.hpp>

namespace animerun::flow {

struct WarpResult {
  cv::Mat warped;           // RGB CV_8UC3: warped(x) = frame_t1(x + flow(x)), bilinear; black where invalid
  cv::Mat valid;            // CV_8UC1, 255 where the flow is finite and lands inside frame t+1
  cv::Mat error;            // CV_32FC1: mean over the channels of |frame_t - warped| (0..255); NaN where invalid
  double mean_error = 0.0;  // over the valid pixels (0 when none)
  double valid_fraction = 0.0;
  // Over the valid pixels that are not occluded (UnmatchedForward == 1) when the mask is
  // given: occluded pixels cannot match, whatever the flow.
  double mean_error_visible = 0.0;
  bool has_visible = false;
};

// frame_t, frame_t1: RGB CV_8UC3 of one size; flow: CV_32FC2 t -> t+1 of that size;
// unmatched_forward: optional CV_8UC1 (0 = occluded). Throws Error on a type or size
// mismatch.
WarpResult WarpBack(const cv::Mat& frame_t, const cv::Mat& frame_t1, const cv::Mat& flow,
                    const cv::Mat& unmatched_forward = cv::Mat());

}  // namespace animerun::flow
