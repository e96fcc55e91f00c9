#include "models/golden_util.h"

#include <cstdlib>

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace animerun::test {
namespace {

std::vector<uint8_t> Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string Field(const std::string& header, const std::string& key) {
  const auto k = header.find("'" + key + "'");
  if (k == std::string::npos) return "";
  auto p = header.find(':', k) + 1;
  while (header[p] == ' ') ++p;
  if (header[p] == '\'') return header.substr(p + 1, header.find('\'', p + 1) - p - 1);
  if (header[p] == '(') return header.substr(p + 1, header.find(')', p) - p - 1);
  return header.substr(p, header.find_first_of(",}", p) - p);
}

uint32_t Be32(const uint8_t* p) { return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]; }

int Paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
}

}  // namespace

torch::Tensor ReadNpyTensor(const std::string& path) {
  const auto bytes = Slurp(path);
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) throw std::runtime_error(path + ": not an npy file");
  const int major = bytes[6];
  size_t hlen, off;
  if (major == 1) {
    hlen = bytes[8] | (bytes[9] << 8);
    off = 10;
  } else {
    hlen = bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (size_t(bytes[11]) << 24);
    off = 12;
  }
  const std::string header(bytes.begin() + off, bytes.begin() + off + hlen);
  const std::string descr = Field(header, "descr");
  if (Field(header, "fortran_order").find("True") != std::string::npos) throw std::runtime_error(path + ": fortran order");
  std::vector<int64_t> shape;
  std::stringstream ss(Field(header, "shape"));
  std::string item;
  while (std::getline(ss, item, ','))
    if (item.find_first_not_of(' ') != std::string::npos) shape.push_back(std::stoll(item));
  torch::Dtype dt;
  if (descr == "|b1") dt = torch::kBool;
  else if (descr == "|u1") dt = torch::kUInt8;
  else if (descr == "<i4") dt = torch::kInt32;
  else if (descr == "<i8") dt = torch::kInt64;
  else if (descr == "<f4") dt = torch::kFloat32;
  else if (descr == "<f8") dt = torch::kFloat64;
  else throw std::runtime_error(path + ": unsupported dtype " + descr);
  auto t = torch::empty(shape, torch::TensorOptions().dtype(dt));
  const size_t need = t.numel() * t.element_size();
  if (bytes.size() - off - hlen != need) throw std::runtime_error(path + ": data size does not match the shape");
  std::memcpy(t.data_ptr(), bytes.data() + off + hlen, need);
  return t;
}

torch::Tensor ReadPngTensor(const std::string& path) {
  const auto b = Slurp(path);
  if (b.size() < 8 || std::memcmp(b.data(), "\x89PNG\r\n\x1a\n", 8) != 0) throw std::runtime_error(path + ": not a PNG");
  size_t p = 8;
  uint32_t w = 0, h = 0;
  int depth = 0, ctype = 0, interlace = 0;
  std::vector<uint8_t> idat;
  while (p + 12 <= b.size()) {
    const uint32_t len = Be32(&b[p]);
    const std::string type(reinterpret_cast<const char*>(&b[p + 4]), 4);
    if (p + 12 + len > b.size()) throw std::runtime_error(path + ": truncated chunk");
    const uint8_t* d = &b[p + 8];
    if (type == "IHDR") {
      w = Be32(d); h = Be32(d + 4); depth = d[8]; ctype = d[9]; interlace = d[12];
    } else if (type == "IDAT") {
      idat.insert(idat.end(), d, d + len);
    } else if (type == "IEND") {
      break;
    }
    p += 12 + len;
  }
  if (depth != 8 || interlace != 0) throw std::runtime_error(path + ": only 8-bit non-interlaced PNG supported");
  int ch;
  switch (ctype) {
    case 0: ch = 1; break;
    case 2: ch = 3; break;
    case 4: ch = 2; break;
    case 6: ch = 4; break;
    default: throw std::runtime_error(path + ": unsupported PNG colour type");
  }
  const size_t stride = size_t(w) * ch;
  std::vector<uint8_t> raw((stride + 1) * h);
  uLongf raw_len = raw.size();
  if (uncompress(raw.data(), &raw_len, idat.data(), idat.size()) != Z_OK || raw_len != raw.size())
    throw std::runtime_error(path + ": bad PNG data");
  auto out = torch::empty({int64_t(h), int64_t(w), ch}, torch::kUInt8);
  uint8_t* o = out.data_ptr<uint8_t>();
  for (uint32_t y = 0; y < h; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* src = &raw[y * (stride + 1) + 1];
    uint8_t* row = o + y * stride;
    const uint8_t* up = y ? row - stride : nullptr;
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= size_t(ch) ? row[x - ch] : 0, bb = up ? up[x] : 0, c = (up && x >= size_t(ch)) ? up[x - ch] : 0;
      int v = src[x];
      switch (filter) {
        case 0: break;
        case 1: v += a; break;
        case 2: v += bb; break;
        case 3: v += (a + bb) / 2; break;
        case 4: v += Paeth(a, bb, c); break;
        default: throw std::runtime_error(path + ": bad PNG filter");
      }
      row[x] = static_cast<uint8_t>(v);
    }
  }
  return out;
}

torch::Tensor ReadPngAsBatch(const std::string& path) {
  auto img = ReadPngTensor(path);
  if (img.size(2) == 1) img = img.expand({-1, -1, 3});
  img = img.slice(2, 0, 3);
  return img.permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat32).contiguous();
}

torch::Device ParityDevice() {
  const char* env = std::getenv("ANIMERUN_TEST_DEVICE");
  const std::string name = env && *env ? env : "cpu";
  const torch::Device device(name);
  if (device.is_cuda()) {
    if (!torch::cuda::is_available())
      throw std::runtime_error("ANIMERUN_TEST_DEVICE=" + name + " but no CUDA device is available");
    at::globalContext().setAllowTF32CuDNN(false);
    at::globalContext().setAllowTF32CuBLAS(false);
  }
  return device;
}

double MaxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.sizes() != b.sizes()) {
    std::ostringstream s;
    s << "shape mismatch " << a.sizes() << " vs " << b.sizes();
    throw std::runtime_error(s.str());
  }
  return (a.to(torch::kCPU, torch::kFloat64) - b.to(torch::kCPU, torch::kFloat64)).abs().max().item<double>();
}

}  // namespace animerun::test
