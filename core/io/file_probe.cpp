#include "core/io/file_probe.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "core/io/image_io.h"
#include "core/io/npy.h"
#include "core/util/error.h"
#include "core/util/fs.h"

namespace animerun::io {

namespace fs = std::filesystem;

namespace {

// Far beyond any frame (16k x 16k); a header claiming more is corrupt or hostile.
constexpr int64_t kMaxSide = 1 << 15;

// The first n bytes (fewer when the file is shorter) and the file's length.
std::string ReadHead(const fs::path& path, size_t n, uintmax_t* length) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) ThrowFileError(path.string(), "no such file");
  *length = fs::file_size(path, ec);
  if (ec) ThrowFileError(path.string(), "cannot read: " + ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) ThrowFileError(path.string(), "cannot open");
  std::string head(n, '\0');
  in.read(head.data(), static_cast<std::streamsize>(n));
  head.resize(static_cast<size_t>(in.gcount()));
  return head;
}

uint32_t BigEndian32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) | (uint32_t(uint8_t(s[at + 2])) << 8) |
         uint32_t(uint8_t(s[at + 3]));
}

cv::Size CheckedSize(const fs::path& path, int64_t w, int64_t h) {
  if (w < 1 || h < 1 || w > kMaxSide || h > kMaxSide)
    ThrowFileError(path.string(), "implausible size " + std::to_string(w) + "x" + std::to_string(h));
  return {static_cast<int>(w), static_cast<int>(h)};
}

struct PngHeader {
  cv::Size size;
  int bit_depth = 0, color_type = 0;
};

PngHeader ProbePng(const fs::path& path) {
  uintmax_t length = 0;
  const std::string head = ReadHead(path, 33, &length);
  static const char kSig[] = "\x89PNG\r\n\x1a\n";
  if (head.size() < 33 || head.compare(0, 8, kSig, 8) != 0 || head.compare(12, 4, "IHDR") != 0)
    ThrowFileError(path.string(), "not a PNG file (or truncated header)");
  PngHeader h;
  h.size = CheckedSize(path, BigEndian32(head, 16), BigEndian32(head, 20));
  h.bit_depth = uint8_t(head[24]);
  h.color_type = uint8_t(head[25]);
  if (length < 33 + 12) ThrowFileError(path.string(), "truncated PNG (no image data)");
  return h;
}

cv::Size ProbeFlo(const fs::path& path) {
  uintmax_t length = 0;
  const std::string head = ReadHead(path, 12, &length);
  if (head.size() < 12) ThrowFileError(path.string(), "truncated .flo header");
  float tag;
  int32_t w, h;
  std::memcpy(&tag, head.data(), 4);
  std::memcpy(&w, head.data() + 4, 4);
  std::memcpy(&h, head.data() + 8, 4);
  if (tag != 202021.25f) ThrowFileError(path.string(), "not a .flo file (bad tag)");
  const cv::Size size = CheckedSize(path, w, h);
  const uintmax_t expected = 12 + uintmax_t(8) * uintmax_t(w) * uintmax_t(h);
  if (length != expected)
    ThrowFileError(path.string(), "file length " + std::to_string(length) + " does not match its " +
                                      std::to_string(w) + "x" + std::to_string(h) + " header (expected " +
                                      std::to_string(expected) + "; truncated?)");
  return size;
}

cv::Size ProbePfm(const fs::path& path) {
  uintmax_t length = 0;
  const std::string head = ReadHead(path, 256, &length);
  // Three whitespace-separated tokens after the type line: width, height, scale; then one
  // whitespace byte and the data.
  std::istringstream in(head);
  std::string type, scale;
  int64_t w = 0, h = 0;
  in >> type >> w >> h >> scale;
  if (!in || (type != "PF" && type != "Pf")) ThrowFileError(path.string(), "not a PFM file (bad header)");
  const cv::Size size = CheckedSize(path, w, h);
  const std::streamoff header_end = in.tellg();
  const uintmax_t channels = type == "PF" ? 3 : 1;
  const uintmax_t expected = uintmax_t(header_end) + 1 + 4 * channels * uintmax_t(w) * uintmax_t(h);
  if (length < expected)
    ThrowFileError(path.string(), "file length " + std::to_string(length) + " is short of its " + std::to_string(w) +
                                      "x" + std::to_string(h) + "x" + std::to_string(channels) +
                                      " header (truncated?)");
  if (channels != 3) ThrowFileError(path.string(), "a 1-channel PFM holds no flow (expected \"PF\")");
  return size;
}

}  // namespace

cv::Size ProbeImageSize(const fs::path& path) {
  if (LowerExtension(path) == ".png") return ProbePng(path).size;
  return ReadImageRgb(path).size();
}

cv::Size ProbeFlowSize(const fs::path& path) {
  const std::string ext = LowerExtension(path);
  if (ext == ".flo") return ProbeFlo(path);
  if (ext == ".pfm") return ProbePfm(path);
  if (ext == ".png") {
    const PngHeader h = ProbePng(path);
    if (h.bit_depth != 16 || h.color_type != 2)
      ThrowFileError(path.string(), "not a KITTI flow PNG (needs 16-bit RGB)");
    return h.size;
  }
  if (ext == ".npy") {
    const NpyArray a = ReadNpy(path);
    if (a.shape.size() != 3 || a.shape[2] != 2)
      ThrowFileError(path.string(), "a flow .npy must have shape [H, W, 2]");
    return CheckedSize(path, a.shape[1], a.shape[0]);
  }
  ThrowFileError(path.string(), "unsupported flow file extension '" + ext + "' (expected .flo, .pfm, .png or .npy)");
}

}  // namespace animerun::io
