#include "core/io/flow_io.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "core/io/image_io.h"
#include "core/util/byte_order.h"
#include "core/util/error.h"
#include "core/util/fs.h"

namespace animerun::io {
namespace fs = std::filesystem;
namespace {

constexpr float kFloMagic = 202021.25f;
// The largest files a field within the limits can need (header + data).
constexpr uint64_t kMaxFloBytes = 12 + static_cast<uint64_t>(kMaxFlowPixels) * 8;
constexpr uint64_t kMaxPfmBytes = 256 + static_cast<uint64_t>(kMaxFlowPixels) * 12;

// Copies n 4-byte words from src to dst, swapping the byte order when the file's byte
// order differs from the host's.
void CopyWords32(const uint8_t* src, void* dst, size_t n, bool file_little_endian) {
  std::memcpy(dst, src, n * 4);
  if (file_little_endian == kHostLittleEndian) return;
  auto* b = static_cast<uint8_t*>(dst);
  for (size_t i = 0; i < n; ++i, b += 4) {
    std::swap(b[0], b[3]);
    std::swap(b[1], b[2]);
  }
}

int32_t ReadI32Le(const uint8_t* p) {
  int32_t v;
  CopyWords32(p, &v, 1, true);
  return v;
}

void AppendWordsLe(std::vector<uint8_t>& out, const void* src, size_t n) {
  const size_t at = out.size();
  out.resize(at + n * 4);
  // Host -> little endian is the same swap as little endian -> host.
  CopyWords32(static_cast<const uint8_t*>(src), out.data() + at, n, true);
}

// Refuses a header's size before anything is allocated for it.
void CheckFlowSize(const std::string& origin, const char* format, int64_t w, int64_t h) {
  if (w <= 0 || h <= 0 || w > kMaxFlowSide || h > kMaxFlowSide || w * h > kMaxFlowPixels)
    ThrowFileError(origin, std::string("bad ") + format + " dimensions " + std::to_string(w) + "x" + std::to_string(h) +
                               " (at most " + std::to_string(kMaxFlowSide) + " a side and " +
                               std::to_string(kMaxFlowPixels) + " pixels)");
}

const char* DepthName(int depth) {
  switch (depth) {
    case CV_8U: return "8-bit";
    case CV_8S: return "8-bit signed";
    case CV_16U: return "16-bit";
    case CV_16S: return "16-bit signed";
    case CV_32S: return "32-bit integer";
    case CV_32F: return "32-bit float";
    case CV_64F: return "64-bit float";
    default: return "unknown-depth";
  }
}

void RequireFlowMat(const std::string& path, const cv::Mat& flow) {
  if (flow.empty()) ThrowFileError(path, "cannot write an empty flow field");
  if (flow.type() != CV_32FC2) ThrowFileError(path, "flow must be CV_32FC2 (u, v), got type " + std::to_string(flow.type()));
  if (flow.dims != 2) ThrowFileError(path, "flow must be a 2-D matrix");
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Middlebury .flo

cv::Mat ReadFlo(const fs::path& path) {
  const std::vector<uint8_t> bytes = ReadFileBytes(path, kMaxFloBytes);
  return DecodeFlo(bytes.data(), bytes.size(), path.string());
}

cv::Mat DecodeFlo(const uint8_t* data, size_t size, const std::string& p) {
  if (size < 12) ThrowFileError(p, "truncated .flo header (" + std::to_string(size) + " of 12 bytes)");
  float magic;
  CopyWords32(data, &magic, 1, true);
  if (magic != kFloMagic) ThrowFileError(p, "not a .flo file (bad PIEH magic)");
  const int64_t w = ReadI32Le(data + 4);
  const int64_t h = ReadI32Le(data + 8);
  CheckFlowSize(p, ".flo", w, h);
  const uint64_t expected = 12 + static_cast<uint64_t>(w) * static_cast<uint64_t>(h) * 8;
  if (size < expected)
    ThrowFileError(p, "truncated .flo: " + std::to_string(size) + " bytes, expected " + std::to_string(expected) +
                          " for " + std::to_string(w) + "x" + std::to_string(h));
  if (size > expected)
    ThrowFileError(p, ".flo has " + std::to_string(size - expected) + " extra bytes after " + std::to_string(w) + "x" +
                          std::to_string(h) + " flow data");
  cv::Mat flow(static_cast<int>(h), static_cast<int>(w), CV_32FC2);
  // A freshly allocated Mat is continuous, so the data can be copied in one go.
  CopyWords32(data + 12, flow.ptr<float>(), static_cast<size_t>(w * h * 2), true);
  return flow;
}

void WriteFlo(const fs::path& path, const cv::Mat& flow) { WriteFileAtomic(path, EncodeFlo(flow, path.string())); }

std::vector<uint8_t> EncodeFlo(const cv::Mat& flow, const std::string& p) {
  RequireFlowMat(p, flow);
  if (flow.cols > kMaxFlowSide || flow.rows > kMaxFlowSide)
    ThrowFileError(p, "flow too large for .flo (" + std::to_string(flow.cols) + "x" + std::to_string(flow.rows) + ")");
  std::vector<uint8_t> out;
  out.reserve(12 + flow.total() * 8);
  const float magic = kFloMagic;
  const int32_t dims[2] = {flow.cols, flow.rows};
  AppendWordsLe(out, &magic, 1);
  AppendWordsLe(out, dims, 2);
  for (int y = 0; y < flow.rows; ++y) AppendWordsLe(out, flow.ptr<float>(y), static_cast<size_t>(flow.cols) * 2);
  return out;
}

// ---------------------------------------------------------------------------------------
// KITTI 16-bit PNG

KittiFlow ReadKittiFlow(const fs::path& path) {
  const std::vector<uint8_t> bytes = ReadFileBytes(path, kMaxImageFileBytes);
  return DecodeKittiFlow(bytes.data(), bytes.size(), path.string());
}

KittiFlow DecodeKittiFlow(const uint8_t* data, size_t size, const std::string& p) {
  const cv::Mat img = DecodeImageBytes(data, size, cv::IMREAD_UNCHANGED, p);
  if (img.depth() != CV_16U)
    ThrowFileError(p, std::string("KITTI flow PNG must be 16-bit, got ") + DepthName(img.depth()));
  if (img.channels() != 3)
    ThrowFileError(p, "KITTI flow PNG must have 3 channels, got " + std::to_string(img.channels()));
  KittiFlow out;
  out.flow.create(img.rows, img.cols, CV_32FC2);
  out.valid.create(img.rows, img.cols, CV_8UC1);
  for (int y = 0; y < img.rows; ++y) {
    const uint16_t* s = img.ptr<uint16_t>(y);  // B, G, R = valid, v, u
    float* f = out.flow.ptr<float>(y);
    uint8_t* m = out.valid.ptr<uint8_t>(y);
    for (int x = 0; x < img.cols; ++x, s += 3) {
      f[2 * x] = (static_cast<float>(s[2]) - 32768.0f) / 64.0f;
      f[2 * x + 1] = (static_cast<float>(s[1]) - 32768.0f) / 64.0f;
      m[x] = s[0] != 0 ? 1 : 0;
    }
  }
  return out;
}

void WriteKittiFlow(const fs::path& path, const cv::Mat& flow, const cv::Mat& valid) {
  RequireFlowMat(path.string(), flow);
  if (!valid.empty() && (valid.type() != CV_8UC1 || valid.size() != flow.size()))
    ThrowFileError(path.string(), "valid mask must be CV_8UC1 of the flow's size");
  cv::Mat img(flow.rows, flow.cols, CV_16UC3);
  auto encode = [](float f) {
    // Round to the nearest 1/64 px and clamp to what 16 bits hold.
    const double q = std::round(static_cast<double>(f) * 64.0 + 32768.0);
    return static_cast<uint16_t>(std::clamp(q, 0.0, 65535.0));
  };
  for (int y = 0; y < flow.rows; ++y) {
    const float* f = flow.ptr<float>(y);
    const uint8_t* m = valid.empty() ? nullptr : valid.ptr<uint8_t>(y);
    uint16_t* d = img.ptr<uint16_t>(y);
    for (int x = 0; x < flow.cols; ++x, d += 3) {
      const float u = f[2 * x], v = f[2 * x + 1];
      // Invalid (and non-finite, which 16 bits cannot hold) pixels are 0,0,0 as KITTI writes them.
      if ((m && m[x] == 0) || !std::isfinite(u) || !std::isfinite(v)) {
        d[0] = d[1] = d[2] = 0;
        continue;
      }
      d[0] = 1;
      d[1] = encode(v);
      d[2] = encode(u);
    }
  }
  std::vector<uint8_t> buf;
  try {
    if (!cv::imencode(".png", img, buf)) ThrowFileError(path.string(), "PNG encoding failed");
  } catch (const cv::Exception& e) {
    ThrowFileError(path.string(), std::string("PNG encoding failed: ") + e.what());
  }
  WriteFileAtomic(path, buf);
}

// ---------------------------------------------------------------------------------------
// PFM

cv::Mat ReadPfm(const fs::path& path) {
  const std::vector<uint8_t> bytes = ReadFileBytes(path, kMaxPfmBytes);
  return DecodePfm(bytes.data(), bytes.size(), path.string());
}

cv::Mat DecodePfm(const uint8_t* bytes, size_t size, const std::string& p) {
  size_t pos = 0;
  auto is_space = [](uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  // Header tokens are short; a missing separator within 32 bytes means a corrupt header.
  auto token = [&](const char* what) {
    while (pos < size && is_space(bytes[pos])) ++pos;
    const size_t start = pos;
    while (pos < size && !is_space(bytes[pos]) && pos - start < 32) ++pos;
    if (pos == start || pos >= size || !is_space(bytes[pos]))
      ThrowFileError(p, std::string("truncated or corrupt PFM header (reading ") + what + ")");
    return std::string(reinterpret_cast<const char*>(bytes) + start, pos - start);
  };
  auto parse_side = [&](const std::string& s, const char* what) -> int64_t {
    if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); }))
      ThrowFileError(p, std::string("bad PFM ") + what + " '" + s + "'");
    return std::stoll(s);
  };
  const std::string tag = token("type");
  int channels;
  if (tag == "PF") {
    channels = 3;
  } else if (tag == "Pf") {
    channels = 1;
  } else {
    ThrowFileError(p, "not a PFM file (type '" + tag.substr(0, 8) + "', expected PF or Pf)");
  }
  const int64_t w = parse_side(token("width"), "width");
  const int64_t h = parse_side(token("height"), "height");
  CheckFlowSize(p, "PFM", w, h);
  const std::string scale_s = token("scale");
  // from_chars, not stod: a GUI process runs in the user's locale, where "-1.0" may not
  // parse as a number.
  double scale = 0;
  const auto parsed = std::from_chars(scale_s.data(), scale_s.data() + scale_s.size(), scale);
  if (parsed.ec != std::errc() || parsed.ptr != scale_s.data() + scale_s.size() || !std::isfinite(scale) || scale == 0)
    ThrowFileError(p, "bad PFM scale '" + scale_s + "'");
  // Exactly one whitespace character ends the header (tolerate a Windows "\r\n").
  if (bytes[pos] == '\r' && pos + 1 < size && bytes[pos + 1] == '\n') ++pos;
  ++pos;
  const uint64_t expected = static_cast<uint64_t>(w) * static_cast<uint64_t>(h) * channels * 4;
  const uint64_t have = size - pos;
  if (have < expected)
    ThrowFileError(p, "truncated PFM: " + std::to_string(have) + " data bytes, expected " + std::to_string(expected));
  if (have > expected)
    ThrowFileError(p, "PFM has " + std::to_string(have - expected) + " extra bytes after the data");
  cv::Mat out(static_cast<int>(h), static_cast<int>(w), CV_32FC(channels));
  const size_t row_words = static_cast<size_t>(w) * channels;
  for (int64_t y = 0; y < h; ++y) {
    // Rows are stored bottom-up.
    const uint8_t* src = bytes + pos + static_cast<size_t>(y) * row_words * 4;
    CopyWords32(src, out.ptr<float>(static_cast<int>(h - 1 - y)), row_words, scale < 0);
  }
  return out;
}

void WritePfm(const fs::path& path, const cv::Mat& image) { WriteFileAtomic(path, EncodePfm(image, path.string())); }

std::vector<uint8_t> EncodePfm(const cv::Mat& image, const std::string& p) {
  if (image.empty()) ThrowFileError(p, "cannot write an empty PFM");
  if (image.type() != CV_32FC1 && image.type() != CV_32FC3)
    ThrowFileError(p, "PFM needs CV_32FC1 or CV_32FC3, got type " + std::to_string(image.type()));
  const int c = image.channels();
  const std::string header = std::string(c == 3 ? "PF" : "Pf") + "\n" + std::to_string(image.cols) + " " +
                             std::to_string(image.rows) + "\n-1\n";
  std::vector<uint8_t> out(header.begin(), header.end());
  out.reserve(header.size() + image.total() * c * 4);
  for (int y = image.rows - 1; y >= 0; --y) AppendWordsLe(out, image.ptr<float>(y), static_cast<size_t>(image.cols) * c);
  return out;
}

cv::Mat ReadPfmFlow(const fs::path& path) {
  const cv::Mat pfm = ReadPfm(path);
  if (pfm.channels() != 3)
    ThrowFileError(path.string(), "PFM flow needs a 3-channel (PF) file, this one is greyscale (Pf)");
  cv::Mat flow(pfm.rows, pfm.cols, CV_32FC2);
  const int from_to[] = {0, 0, 1, 1};
  cv::mixChannels(&pfm, 1, &flow, 1, from_to, 2);
  return flow;
}

cv::Mat ReadFlowAuto(const fs::path& path) {
  const std::string ext = LowerExtension(path);
  if (ext == ".flo") return ReadFlo(path);
  if (ext == ".png") return ReadKittiFlow(path).flow;
  if (ext == ".pfm") return ReadPfmFlow(path);
  ThrowFileError(path.string(), "unsupported flow file extension '" + ext + "' (expected .flo, .png or .pfm)");
}

}  // namespace animerun::io
