#include "core/io/image_io.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/util/error.h"
#include "core/util/fs.h"

namespace animerun::io {
namespace fs = std::filesystem;
namespace {

// Bounds-checked reads of the header bytes; every reader below goes through them.
class HeaderBytes {
 public:
  HeaderBytes(const uint8_t* data, size_t size, const std::string& origin, const char* format)
      : d_(data), n_(size), origin_(origin), format_(format) {}
  size_t size() const { return n_; }
  bool Has(size_t at, size_t len) const { return at <= n_ && len <= n_ - at; }
  uint8_t U8(size_t at) const { return *Need(at, 1); }
  uint32_t Be(size_t at, size_t len) const {
    const uint8_t* p = Need(at, len);
    uint32_t v = 0;
    for (size_t k = 0; k < len; ++k) v = (v << 8) | p[k];
    return v;
  }
  uint64_t Le(size_t at, size_t len) const {
    const uint8_t* p = Need(at, len);
    uint64_t v = 0;
    for (size_t k = len; k-- > 0;) v = (v << 8) | p[k];
    return v;
  }
  uint64_t Endian(size_t at, size_t len, bool little) const { return little ? Le(at, len) : BeWide(at, len); }
  [[noreturn]] void Fail(const std::string& what) const {
    ThrowFileError(origin_, std::string("corrupt ") + format_ + " header: " + what);
  }

 private:
  uint64_t BeWide(size_t at, size_t len) const {
    const uint8_t* p = Need(at, len);
    uint64_t v = 0;
    for (size_t k = 0; k < len; ++k) v = (v << 8) | p[k];
    return v;
  }
  const uint8_t* Need(size_t at, size_t len) const {
    if (!Has(at, len)) Fail("truncated");
    return d_ + at;
  }
  const uint8_t* d_;
  size_t n_;
  const std::string& origin_;
  const char* format_;
};

bool StartsWith(const uint8_t* data, size_t size, const char* magic, size_t len) {
  return size >= len && std::memcmp(data, magic, len) == 0;
}

ImageHeader ProbePng(const HeaderBytes& b) {
  // Signature, then the IHDR chunk first: length, "IHDR", width, height (big-endian).
  if (b.Be(12, 4) != 0x49484452u) b.Fail("the first chunk is not IHDR");
  return {"png", b.Be(16, 4), b.Be(20, 4)};
}

ImageHeader ProbeJpeg(const HeaderBytes& b) {
  // Markers after SOI until a start-of-frame (SOF0..SOF15 except DHT, JPG and DAC), which
  // holds precision, height, width.
  size_t pos = 2;
  for (;;) {
    if (b.U8(pos) != 0xFF) b.Fail("expected a marker");
    while (b.U8(pos) == 0xFF) ++pos;  // fill bytes
    const uint8_t marker = b.U8(pos++);
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // no length
    if (marker == 0xD9 || marker == 0xDA) b.Fail("no frame header before the image data");
    const uint32_t len = b.Be(pos, 2);
    if (len < 2) b.Fail("bad segment length");
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC)
      return {"jpeg", b.Be(pos + 5, 2), b.Be(pos + 3, 2)};
    pos += len;
  }
}

ImageHeader ProbeBmp(const HeaderBytes& b) {
  const uint64_t dib = b.Le(14, 4);
  if (dib == 12) return {"bmp", static_cast<int64_t>(b.Le(18, 2)), static_cast<int64_t>(b.Le(20, 2))};
  if (dib < 40) b.Fail("unknown DIB header size " + std::to_string(dib));
  const auto w = static_cast<int32_t>(b.Le(18, 4)), h = static_cast<int32_t>(b.Le(22, 4));
  // A negative height means top-down rows; the size is its magnitude.
  return {"bmp", w, h < 0 ? -static_cast<int64_t>(h) : h};
}

ImageHeader ProbeTiff(const HeaderBytes& b) {
  const bool little = b.U8(0) == 'I';
  const bool big_tiff = b.Endian(2, 2, little) == 43;
  uint64_t ifd = big_tiff ? b.Endian(8, 8, little) : b.Endian(4, 4, little);
  const size_t count_len = big_tiff ? 8 : 2, entry_len = big_tiff ? 20 : 12, value_at = big_tiff ? 12 : 8;
  if (ifd > b.size()) b.Fail("first directory outside the file");
  const uint64_t count = b.Endian(static_cast<size_t>(ifd), count_len, little);
  if (count > (b.size() - ifd) / entry_len) b.Fail("directory runs past the end of the file");
  int64_t w = -1, h = -1;
  for (uint64_t k = 0; k < count; ++k) {
    const size_t e = static_cast<size_t>(ifd + count_len + k * entry_len);
    const uint64_t tag = b.Endian(e, 2, little), type = b.Endian(e + 2, 2, little);
    if (tag != 256 && tag != 257) continue;
    uint64_t v;
    if (type == 3) v = b.Endian(e + value_at, 2, little);        // SHORT
    else if (type == 4) v = b.Endian(e + value_at, 4, little);   // LONG
    else if (type == 16 && big_tiff) v = b.Endian(e + value_at, 8, little);  // LONG8
    else b.Fail("image size of type " + std::to_string(type));
    if (v > static_cast<uint64_t>(kMaxImageSide) * 2) v = static_cast<uint64_t>(kMaxImageSide) * 2;  // refused below
    (tag == 256 ? w : h) = static_cast<int64_t>(v);
  }
  if (w < 0 || h < 0) b.Fail("no image width or height");
  return {"tiff", w, h};
}

ImageHeader ProbeWebp(const HeaderBytes& b) {
  const uint32_t chunk = b.Be(12, 4);
  if (chunk == 0x56503820u) {  // "VP8 ": frame tag, start code 9d 01 2a, 14-bit sizes
    if (b.Be(23, 3) != 0x9d012au) b.Fail("no VP8 start code");
    return {"webp", static_cast<int64_t>(b.Le(26, 2) & 0x3FFF), static_cast<int64_t>(b.Le(28, 2) & 0x3FFF)};
  }
  if (chunk == 0x5650384Cu) {  // "VP8L": signature 0x2f, then (w - 1) and (h - 1) in 14 bits each
    if (b.U8(20) != 0x2f) b.Fail("no VP8L signature");
    const uint64_t bits = b.Le(21, 4);
    return {"webp", static_cast<int64_t>(bits & 0x3FFF) + 1, static_cast<int64_t>((bits >> 14) & 0x3FFF) + 1};
  }
  if (chunk == 0x56503858u)  // "VP8X": canvas (w - 1) and (h - 1) in 24 bits each
    return {"webp", static_cast<int64_t>(b.Le(24, 3)) + 1, static_cast<int64_t>(b.Le(27, 3)) + 1};
  b.Fail("unknown first chunk");
}

ImageHeader ProbePnm(const HeaderBytes& b) {
  // "Pn", then width and height as decimal tokens separated by whitespace and # comments.
  size_t pos = 2;
  auto number = [&](const char* what) -> int64_t {
    for (;;) {
      const uint8_t c = b.U8(pos);
      if (c == '#') {
        while (b.U8(pos) != '\n' && b.U8(pos) != '\r') ++pos;
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
        ++pos;
      } else {
        break;
      }
    }
    int64_t v = 0;
    const size_t start = pos;
    while (pos < b.size() && b.U8(pos) >= '0' && b.U8(pos) <= '9') {
      if (pos - start >= 9) b.Fail(std::string(what) + " too large");
      v = v * 10 + (b.U8(pos++) - '0');
    }
    if (pos == start) b.Fail(std::string("bad ") + what);
    return v;
  };
  const int64_t w = number("width");
  return {"pnm", w, number("height")};
}

}  // namespace

ImageHeader ProbeImageHeader(const uint8_t* data, size_t size, const std::string& origin) {
  if (size == 0) ThrowFileError(origin, "empty file, not an image");
  ImageHeader h;
  if (StartsWith(data, size, "\x89PNG\r\n\x1a\n", 8)) {
    h = ProbePng(HeaderBytes(data, size, origin, "PNG"));
  } else if (StartsWith(data, size, "\xff\xd8\xff", 3)) {
    h = ProbeJpeg(HeaderBytes(data, size, origin, "JPEG"));
  } else if (StartsWith(data, size, "BM", 2)) {
    h = ProbeBmp(HeaderBytes(data, size, origin, "BMP"));
  } else if (StartsWith(data, size, "II*\0", 4) || StartsWith(data, size, "MM\0*", 4) ||
             StartsWith(data, size, "II+\0", 4) || StartsWith(data, size, "MM\0+", 4)) {
    h = ProbeTiff(HeaderBytes(data, size, origin, "TIFF"));
  } else if (StartsWith(data, size, "RIFF", 4) && size >= 12 && std::memcmp(data + 8, "WEBP", 4) == 0) {
    h = ProbeWebp(HeaderBytes(data, size, origin, "WebP"));
  } else if (size >= 2 && data[0] == 'P' && data[1] >= '1' && data[1] <= '6') {
    h = ProbePnm(HeaderBytes(data, size, origin, "PNM"));
  } else {
    ThrowFileError(origin, "not a decodable image (unknown format; PNG, JPEG, BMP, TIFF, WebP and PNM are read)");
  }
  if (h.width <= 0 || h.height <= 0)
    ThrowFileError(origin, "bad " + h.format + " image size " + std::to_string(h.width) + "x" + std::to_string(h.height));
  if (h.width > kMaxImageSide || h.height > kMaxImageSide || h.width * h.height > kMaxImagePixels)
    ThrowFileError(origin, h.format + " image too large (" + std::to_string(h.width) + "x" + std::to_string(h.height) +
                               "; at most " + std::to_string(kMaxImageSide) + " px a side and " +
                               std::to_string(kMaxImagePixels) + " px in all)");
  return h;
}

cv::Mat DecodeImageBytes(const uint8_t* data, size_t size, int imread_flags, const std::string& origin) {
  if (size > kMaxImageFileBytes)
    ThrowFileError(origin, "image data too large (" + std::to_string(size) + " bytes, at most " +
                               std::to_string(kMaxImageFileBytes) + ")");
  ProbeImageHeader(data, size, origin);
  cv::Mat img;
  try {
    // imdecode wants a Mat header over the bytes; it does not modify them.
    const cv::Mat buf(1, static_cast<int>(std::min<size_t>(size, static_cast<size_t>(INT_MAX))), CV_8UC1,
                      const_cast<uint8_t*>(data));
    img = cv::imdecode(buf, imread_flags);
  } catch (const cv::Exception& e) {
    ThrowFileError(origin, std::string("cannot decode image: ") + e.what());
  }
  if (img.empty()) ThrowFileError(origin, "not a decodable image (corrupt or truncated)");
  if (img.dims != 2) ThrowFileError(origin, "not a 2-D image");
  return img;
}

namespace {

// Keeps the stored depth (16-bit is scaled here rather than truncated by OpenCV) and 1 or 3
// channels (alpha dropped); unlike IMREAD_UNCHANGED this applies EXIF rotation.
cv::Mat Decode8(const uint8_t* data, size_t size, const std::string& origin) {
  cv::Mat img = DecodeImageBytes(data, size, cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR, origin);
  switch (img.depth()) {
    case CV_8U: break;
    case CV_16U: img.convertTo(img, CV_8U, 1.0 / 257.0); break;  // 65535 -> 255
    default: ThrowFileError(origin, "unsupported image depth (only 8- and 16-bit images are read)");
  }
  if (img.channels() != 1 && img.channels() != 3 && img.channels() != 4)
    ThrowFileError(origin, "unsupported channel count " + std::to_string(img.channels()));
  return img;
}

cv::Mat Decode8(const fs::path& path) {
  const std::vector<uint8_t> bytes = ReadFileBytes(path, kMaxImageFileBytes);  // names the file when missing
  return Decode8(bytes.data(), bytes.size(), path.string());
}

cv::Mat ToRgb(const cv::Mat& img) {
  cv::Mat rgb;
  switch (img.channels()) {
    case 1: cv::cvtColor(img, rgb, cv::COLOR_GRAY2RGB); break;
    case 3: cv::cvtColor(img, rgb, cv::COLOR_BGR2RGB); break;
    default: cv::cvtColor(img, rgb, cv::COLOR_BGRA2RGB); break;
  }
  return rgb;
}

}  // namespace

cv::Mat ReadImageRgb(const fs::path& path) { return ToRgb(Decode8(path)); }

cv::Mat DecodeImageRgb(const uint8_t* data, size_t size, const std::string& origin) {
  return ToRgb(Decode8(data, size, origin));
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
  const std::string ext = LowerExtension(path);
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
