#include "core/io/npy.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

#include "core/util/byte_order.h"
#include "core/util/error.h"
#include "core/util/fs.h"

namespace animerun::io {
namespace fs = std::filesystem;
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
// numpy aligns the start of the data to 64 bytes (ARRAY_ALIGN) so it can be memory-mapped.
constexpr size_t kAlign = 64;

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) s += shape.size() == 1 ? "," : ", ";
  }
  return s + ")";
}

// Element count of a shape, or nullopt when a dimension is negative or the product
// overflows (a corrupt header must not wrap around to a small size).
std::optional<int64_t> CheckedNumel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) return std::nullopt;
    n *= d;
  }
  return n;
}

// ---- The header: a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// Parsed by hand so that key order, spacing and trailing commas do not matter.

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  Header Parse() {
    Header h;
    bool have_descr = false, have_order = false, have_shape = false;
    SkipSpace();
    Expect('{');
    while (true) {
      SkipSpace();
      if (Peek() == '}') break;
      const std::string key = ParseString();
      SkipSpace();
      Expect(':');
      SkipSpace();
      if (key == "descr") {
        if (Peek() == '[') Fail("structured dtypes are not supported");
        h.descr = ParseString();
        have_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = ParseBool();
        have_order = true;
      } else if (key == "shape") {
        h.shape = ParseTuple();
        have_shape = true;
      } else {
        Fail("unexpected key '" + key.substr(0, 32) + "' in header");
      }
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() != '}') Fail("expected ',' or '}' in header");
    }
    ++pos_;
    SkipSpace();
    if (pos_ != s_.size()) Fail("trailing characters after the header dict");
    if (!have_descr || !have_order || !have_shape)
      Fail("header lacks one of 'descr', 'fortran_order', 'shape'");
    return h;
  }

 private:
  [[noreturn]] void Fail(const std::string& what) { ThrowFileError(path_, "bad .npy header: " + what); }
  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void SkipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  void Expect(char c) {
    if (Peek() != c) Fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string ParseString() {
    const char q = Peek();
    if (q != '\'' && q != '"') Fail("expected a quoted string");
    const size_t end = s_.find(q, pos_ + 1);
    if (end == std::string::npos) Fail("unterminated string");
    std::string out = s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return out;
  }
  bool ParseBool() {
    if (s_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (s_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    Fail("fortran_order must be True or False");
  }
  int64_t ParseInt() {
    const size_t start = pos_;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    if (pos_ == start) Fail("expected a non-negative integer in shape");
    if (pos_ - start > 18) Fail("dimension too large in shape");
    const int64_t v = std::stoll(s_.substr(start, pos_ - start));
    if (Peek() == 'L') ++pos_;  // Python 2 long suffix
    return v;
  }
  std::vector<int64_t> ParseTuple() {
    std::vector<int64_t> dims;
    Expect('(');
    while (true) {
      SkipSpace();
      if (Peek() == ')') break;
      dims.push_back(ParseInt());
      if (dims.size() > 32) Fail("too many dimensions");
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() != ')') Fail("expected ',' or ')' in shape");
    }
    ++pos_;
    return dims;
  }

  const std::string& s_;
  const std::string& path_;
  size_t pos_ = 0;
};

// Maps a numpy descr to a type and whether the data is big-endian.
NpyType ParseDescr(const std::string& descr, const std::string& path, bool* big_endian) {
  const std::string shown = descr.substr(0, 32);
  if (descr.size() < 3) ThrowFileError(path, "unsupported dtype '" + shown + "'");
  const char order = descr[0];
  if (order != '<' && order != '>' && order != '|' && order != '=')
    ThrowFileError(path, "unsupported dtype '" + shown + "'");
  const std::string kind = descr.substr(1);
  NpyType t;
  if (kind == "b1") t = NpyType::kBool;
  else if (kind == "u1") t = NpyType::kUint8;
  else if (kind == "i4") t = NpyType::kInt32;
  else if (kind == "i8") t = NpyType::kInt64;
  else if (kind == "f4") t = NpyType::kFloat32;
  else if (kind == "f8") t = NpyType::kFloat64;
  else
    ThrowFileError(path, "unsupported dtype '" + shown + "' (supported: bool, uint8, int32, int64, float32, float64)");
  *big_endian = order == '>' || (order == '=' && !kHostLittleEndian);
  return t;
}

std::string DescrOf(NpyType t) {
  switch (t) {
    case NpyType::kBool: return "|b1";
    case NpyType::kUint8: return "|u1";
    case NpyType::kInt32: return "<i4";
    case NpyType::kInt64: return "<i8";
    case NpyType::kFloat32: return "<f4";
    case NpyType::kFloat64: return "<f8";
  }
  return "|u1";
}

void SwapItems(std::vector<uint8_t>& data, size_t item) {
  if (item == 1) return;
  for (size_t i = 0; i + item <= data.size(); i += item) std::reverse(data.begin() + i, data.begin() + i + item);
}

// Fortran (column-major) -> C (row-major) order for any number of dimensions.
std::vector<uint8_t> FortranToC(const std::vector<uint8_t>& src, const std::vector<int64_t>& shape, size_t item) {
  const size_t nd = shape.size();
  std::vector<uint8_t> dst(src.size());
  if (src.empty()) return dst;
  std::vector<int64_t> fstride(nd, 1);  // element strides in the Fortran layout
  for (size_t d = 1; d < nd; ++d) fstride[d] = fstride[d - 1] * shape[d - 1];
  std::vector<int64_t> idx(nd, 0);
  int64_t src_off = 0;
  const size_t n = src.size() / item;
  for (size_t i = 0; i < n; ++i) {
    std::memcpy(dst.data() + i * item, src.data() + static_cast<size_t>(src_off) * item, item);
    // Advance the C-order multi-index (last axis fastest), keeping the Fortran offset in step.
    for (size_t d = nd; d-- > 0;) {
      if (++idx[d] < shape[d]) {
        src_off += fstride[d];
        break;
      }
      src_off -= fstride[d] * (shape[d] - 1);
      idx[d] = 0;
    }
  }
  return dst;
}

// Checks that an array is 2-D (or HxWxC when allow_channels), holds the data its shape
// needs, and fits a cv::Mat.
void CheckMatArray(const NpyArray& a, const std::string& path, bool allow_channels, int* channels) {
  const size_t nd = a.shape.size();
  const auto numel = CheckedNumel(a.shape);
  const size_t item = NpyItemSize(a.type);
  if (!numel || a.data.size() % item != 0 || static_cast<uint64_t>(*numel) != a.data.size() / item)
    ThrowFileError(path, "array data does not match its shape " + ShapeString(a.shape));
  if (nd != 2 && !(allow_channels && nd == 3))
    ThrowFileError(path, std::string("expected a 2-D ") + (allow_channels ? "or HxWxC " : "") +
                                      "array, got shape " + ShapeString(a.shape));
  const int64_t limit = std::numeric_limits<int>::max();
  if (a.shape[0] > limit || a.shape[1] > limit)
    ThrowFileError(path, "array too large for an image: shape " + ShapeString(a.shape));
  if (nd == 3 && (a.shape[2] < 1 || a.shape[2] > CV_CN_MAX))
    ThrowFileError(path, "unsupported channel count in shape " + ShapeString(a.shape));
  *channels = nd == 3 ? static_cast<int>(a.shape[2]) : 1;
}

template <typename T>
int64_t IntAt(const NpyArray& a, int64_t i) {
  return static_cast<int64_t>(a.as<T>()[i]);
}

// Value i of an integer/bool array (callers check IsIntegerType first).
int64_t IntegerAt(const NpyArray& a, int64_t i) {
  switch (a.type) {
    case NpyType::kBool:
    case NpyType::kUint8: return IntAt<uint8_t>(a, i);
    case NpyType::kInt32: return IntAt<int32_t>(a, i);
    case NpyType::kInt64: return IntAt<int64_t>(a, i);
    default: return 0;
  }
}

bool IsIntegerType(NpyType t) { return t != NpyType::kFloat32 && t != NpyType::kFloat64; }

}  // namespace

int64_t NpyArray::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

size_t NpyItemSize(NpyType t) {
  switch (t) {
    case NpyType::kBool:
    case NpyType::kUint8: return 1;
    case NpyType::kInt32:
    case NpyType::kFloat32: return 4;
    case NpyType::kInt64:
    case NpyType::kFloat64: return 8;
  }
  return 1;
}

const char* NpyTypeName(NpyType t) {
  switch (t) {
    case NpyType::kBool: return "bool";
    case NpyType::kUint8: return "uint8";
    case NpyType::kInt32: return "int32";
    case NpyType::kInt64: return "int64";
    case NpyType::kFloat32: return "float32";
    case NpyType::kFloat64: return "float64";
  }
  return "?";
}

NpyArray ReadNpy(const fs::path& path) {
  const std::vector<uint8_t> bytes = ReadFileBytes(path, kMaxNpyFileBytes);
  return DecodeNpy(bytes.data(), bytes.size(), path.string());
}

NpyArray DecodeNpy(const uint8_t* bytes, size_t size, const std::string& p) {
  if (size < 10) ThrowFileError(p, "truncated .npy header (" + std::to_string(size) + " bytes)");
  if (std::memcmp(bytes, kMagic, kMagicLen) != 0) ThrowFileError(p, "not a .npy file (bad magic)");
  const int major = bytes[6], minor = bytes[7];
  size_t header_len, header_at;
  if (major == 1) {
    header_len = bytes[8] | (size_t{bytes[9]} << 8);
    header_at = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) ThrowFileError(p, "truncated .npy header");
    header_len = bytes[8] | (size_t{bytes[9]} << 8) | (size_t{bytes[10]} << 16) | (size_t{bytes[11]} << 24);
    header_at = 12;
  } else {
    ThrowFileError(p, "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor));
  }
  if (header_len > kMaxNpyHeaderBytes)
    ThrowFileError(p, ".npy header of " + std::to_string(header_len) + " bytes (at most " +
                          std::to_string(kMaxNpyHeaderBytes) + ")");
  if (header_len > size - header_at)
    ThrowFileError(p, "truncated .npy header (needs " + std::to_string(header_len) + " bytes, file has " +
                          std::to_string(size - header_at) + ")");
  const std::string text(reinterpret_cast<const char*>(bytes) + header_at, header_len);
  const Header h = HeaderParser(text, p).Parse();
  bool big_endian = false;
  NpyArray a;
  a.type = ParseDescr(h.descr, p, &big_endian);
  a.shape = h.shape;
  const auto numel = CheckedNumel(a.shape);
  const size_t item = NpyItemSize(a.type);
  const size_t data_at = header_at + header_len;
  const uint64_t have = size - data_at;
  if (!numel) ThrowFileError(p, "bad .npy shape " + ShapeString(a.shape));
  if (*numel > kMaxNpyElements)
    ThrowFileError(p, ".npy array of shape " + ShapeString(a.shape) + " is too large (at most " +
                          std::to_string(kMaxNpyElements) + " elements)");
  const uint64_t expected = static_cast<uint64_t>(*numel) * item;
  if (have < expected)
    ThrowFileError(p, "truncated .npy data: " + std::to_string(have) + " bytes, expected " + std::to_string(expected) +
                          " for " + NpyTypeName(a.type) + " shape " + ShapeString(a.shape));
  if (have > expected)
    ThrowFileError(p, ".npy has " + std::to_string(have - expected) + " extra bytes after the data of shape " +
                          ShapeString(a.shape));
  a.data.assign(bytes + data_at, bytes + size);
  if (big_endian != !kHostLittleEndian) SwapItems(a.data, item);
  if (h.fortran_order && a.shape.size() > 1) a.data = FortranToC(a.data, a.shape, item);
  return a;
}

void WriteNpy(const fs::path& path, const NpyArray& array) { WriteFileAtomic(path, EncodeNpy(array, path.string())); }

std::vector<uint8_t> EncodeNpy(const NpyArray& array, const std::string& p) {
  const auto numel = CheckedNumel(array.shape);
  if (!numel) ThrowFileError(p, "bad array shape " + ShapeString(array.shape));
  const size_t item = NpyItemSize(array.type);
  if (array.data.size() != static_cast<uint64_t>(*numel) * item)
    ThrowFileError(p, "array data has " + std::to_string(array.data.size()) + " bytes, shape " +
                          ShapeString(array.shape) + " of " + NpyTypeName(array.type) + " needs " +
                          std::to_string(static_cast<uint64_t>(*numel) * item));
  std::string header =
      "{'descr': '" + DescrOf(array.type) + "', 'fortran_order': False, 'shape': " + ShapeString(array.shape) + ", }";
  // Pad with spaces and end in '\n' so that magic + version + length + header is a multiple of 64.
  const size_t unpadded = kMagicLen + 2 + 2 + header.size() + 1;
  header.append((kAlign - unpadded % kAlign) % kAlign, ' ');
  header += '\n';
  if (header.size() > 0xFFFF) ThrowFileError(p, "array header too long for .npy version 1.0");
  std::vector<uint8_t> out;
  out.reserve(10 + header.size() + array.data.size());
  out.insert(out.end(), kMagic, kMagic + kMagicLen);
  out.push_back(1);
  out.push_back(0);
  out.push_back(static_cast<uint8_t>(header.size() & 0xFF));
  out.push_back(static_cast<uint8_t>(header.size() >> 8));
  out.insert(out.end(), header.begin(), header.end());
  const size_t data_at = out.size();
  out.insert(out.end(), array.data.begin(), array.data.end());
  if (!kHostLittleEndian) {
    std::vector<uint8_t> tail(out.begin() + static_cast<std::ptrdiff_t>(data_at), out.end());
    SwapItems(tail, item);
    std::copy(tail.begin(), tail.end(), out.begin() + static_cast<std::ptrdiff_t>(data_at));
  }
  return out;
}

cv::Mat ReadNpyLabels(const fs::path& path) { return NpyToLabels(ReadNpy(path), path.string()); }
cv::Mat ReadNpyMask(const fs::path& path) { return NpyToMask(ReadNpy(path), path.string()); }
cv::Mat ReadNpyFloat(const fs::path& path) { return NpyToFloat(ReadNpy(path), path.string()); }

cv::Mat NpyToLabels(const NpyArray& a, const std::string& path) {
  int channels = 1;
  CheckMatArray(a, path, false, &channels);
  if (!IsIntegerType(a.type))
    ThrowFileError(path, std::string("label map must be an integer array, got ") + NpyTypeName(a.type));
  cv::Mat out(static_cast<int>(a.shape[0]), static_cast<int>(a.shape[1]), CV_32SC1);
  int32_t* dst = out.ptr<int32_t>();
  const int64_t n = a.numel();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = IntegerAt(a, i);
    if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
      ThrowFileError(path, "label " + std::to_string(v) + " does not fit in int32");
    dst[i] = static_cast<int32_t>(v);
  }
  return out;
}

cv::Mat NpyToMask(const NpyArray& a, const std::string& path) {
  int channels = 1;
  CheckMatArray(a, path, false, &channels);
  if (!IsIntegerType(a.type))
    ThrowFileError(path, std::string("mask must be a bool or integer array, got ") + NpyTypeName(a.type));
  cv::Mat out(static_cast<int>(a.shape[0]), static_cast<int>(a.shape[1]), CV_8UC1);
  uint8_t* dst = out.ptr<uint8_t>();
  const int64_t n = a.numel();
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<uint8_t>(std::clamp<int64_t>(IntegerAt(a, i), 0, 255));
  return out;
}

cv::Mat NpyToFloat(const NpyArray& a, const std::string& path) {
  int channels = 1;
  CheckMatArray(a, path, true, &channels);
  cv::Mat out(static_cast<int>(a.shape[0]), static_cast<int>(a.shape[1]), CV_32FC(channels));
  float* dst = out.ptr<float>();
  const int64_t n = a.numel();
  for (int64_t i = 0; i < n; ++i) {
    switch (a.type) {
      case NpyType::kFloat32: dst[i] = a.as<float>()[i]; break;
      case NpyType::kFloat64: dst[i] = static_cast<float>(a.as<double>()[i]); break;
      default: dst[i] = static_cast<float>(IntegerAt(a, i)); break;
    }
  }
  return out;
}

void WriteNpyMat(const fs::path& path, const cv::Mat& mat, bool int32_as_int64) {
  const std::string p = path.string();
  if (mat.empty()) ThrowFileError(p, "cannot write an empty matrix as .npy");
  if (mat.dims != 2) ThrowFileError(p, "only 2-D matrices can be written as .npy");
  NpyArray a;
  switch (mat.depth()) {
    case CV_8U: a.type = NpyType::kUint8; break;
    case CV_32S: a.type = int32_as_int64 ? NpyType::kInt64 : NpyType::kInt32; break;
    case CV_32F: a.type = NpyType::kFloat32; break;
    case CV_64F: a.type = NpyType::kFloat64; break;
    default: ThrowFileError(p, "unsupported matrix depth for .npy (type " + std::to_string(mat.type()) + ")");
  }
  const int c = mat.channels();
  a.shape = {mat.rows, mat.cols};
  if (c > 1) a.shape.push_back(c);
  const size_t row_elems = static_cast<size_t>(mat.cols) * c;
  a.data.resize(static_cast<size_t>(mat.rows) * row_elems * NpyItemSize(a.type));
  for (int y = 0; y < mat.rows; ++y) {
    if (a.type == NpyType::kInt64) {
      const int32_t* s = mat.ptr<int32_t>(y);
      int64_t* d = reinterpret_cast<int64_t*>(a.data.data()) + y * row_elems;
      for (size_t i = 0; i < row_elems; ++i) d[i] = s[i];
    } else {
      const size_t row_bytes = row_elems * mat.elemSize1();
      std::memcpy(a.data.data() + y * row_bytes, mat.ptr(y), row_bytes);
    }
  }
  WriteNpy(path, a);
}

}  // namespace animerun::io
