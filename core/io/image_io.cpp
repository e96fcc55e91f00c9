#include "core/io/image_io.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/util/error.h"
#include "core/util/fs.h"

namespace animerun::io {
namespace fs = std::filesystem;
namespace {

std::string LowerExt(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

// Decodes keeping the stored depth (16-bit is scaled here rather than truncated by OpenCV)
// and 1 or 3 channels (alpha dropped); unlike IMREAD_UNCHANGED this applies EXIF rotation.
cv::Mat Decode8(const fs::path& path) {
  const std::string p = path.string();
  const std::vector<uint8_t> bytes = ReadFileBytes(path);  // names the file when missing
  if (bytes.empty()) ThrowFileError(p, "empty file, not an image");
  cv::Mat img;
  try {
    img = cv::imdecode(bytes, cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR);
  } catch (const cv::Exception& e) {
    ThrowFileError(p, std::string("cannot decode image: ") + e.what());
  }
  if (img.empty()) ThrowFileError(p, "not a decodable image (unsupported format, corrupt or truncated)");
  if (img.dims != 2) ThrowFileError(p, "not a 2-D image");
  switch (img.depth()) {
    case CV_8U: break;
    case CV_16U: img.convertTo(img, CV_8U, 1.0 / 257.0); break;  // 65535 -> 255
    default: ThrowFileError(p, "unsupported image depth (only 8- and 16-bit images are read)");
  }
  if (img.channels() != 1 && img.channels() != 3 && img.channels() != 4)
    ThrowFileError(p, "unsupported channel count " + std::to_string(img.channels()));
  return img;
}

}  // namespace

cv::Mat ReadImageRgb(const fs::path& path) {
  const cv::Mat img = Decode8(path);
  cv::Mat rgb;
  switch (img.channels()) {
    case 1: cv::cvtColor(img, rgb, cv::COLOR_GRAY2RGB); break;
    case 3: cv::cvtColor(img, rgb, cv::COLOR_BGR2RGB); break;
    default: cv::cvtColor(img, rgb, cv::COLOR_BGRA2RGB); break;
  }
  return rgb;
}

cv::Mat ReadImageGray(const fs::path& path) {
  const cv::Mat img = Decode8(path);
  cv::Mat gray;
  switch (img.channels()) {
    case 1: gray = img; break;
    case 3: cv::cvtColor(img, gray, cv::COLOR_BGR2GRAY); break;
    default: cv::cvtColor(img, gray, cv::COLOR_BGRA2GRAY); break;
  }
  return gray;
}

void WriteImage(const fs::path& path, const cv::Mat& image) {
  const std::string p = path.string();
  const std::string ext = LowerExt(path);
  static const char* const kExts[] = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"};
  if (std::find(std::begin(kExts), std::end(kExts), ext) == std::end(kExts) || !cv::haveImageWriter(p))
    ThrowFileError(p, "unsupported image extension '" + ext + "' (use .png, .jpg, .bmp, .tif or .webp)");
  if (image.empty()) ThrowFileError(p, "cannot write an empty image");
  cv::Mat bgr;
  switch (image.type()) {
    case CV_8UC1: bgr = image; break;
    case CV_8UC3: cv::cvtColor(image, bgr, cv::COLOR_RGB2BGR); break;
    case CV_8UC4: cv::cvtColor(image, bgr, cv::COLOR_RGBA2BGRA); break;
    default: ThrowFileError(p, "image must be CV_8UC1, CV_8UC3 (RGB) or CV_8UC4 (RGBA), got type " +
                                   std::to_string(image.type()));
  }
  if (image.type() == CV_8UC4 && (ext == ".jpg" || ext == ".jpeg" || ext == ".ppm" || ext == ".pgm"))
    ThrowFileError(p, "format '" + ext + "' cannot store an alpha channel");
  if (image.type() != CV_8UC1 && ext == ".pgm") ThrowFileError(p, ".pgm holds grey images only");
  std::vector<uint8_t> buf;
  try {
    if (!cv::imencode(ext, bgr, buf)) ThrowFileError(p, "image encoding failed");
  } catch (const cv::Exception& e) {
    ThrowFileError(p, std::string("image encoding failed: ") + e.what());
  }
  WriteFileAtomic(path, buf);
}

}  // namespace animerun::io
