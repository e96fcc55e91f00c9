#include "models/common/zip_archive.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace animerun::models {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kEnd64Sig = 0x06064b50;
constexpr uint32_t kEnd64LocatorSig = 0x07064b50;
constexpr uint32_t k32Max = 0xFFFFFFFFu;
constexpr uint16_t k16Max = 0xFFFFu;
constexpr uint64_t kAlignment = 64;  // PyTorch aligns record data for mmap
constexpr uint16_t kDosDate1980 = (0 << 9) | (1 << 5) | 1;

// Slicing-by-8 tables: the checksum runs over every byte of every tensor we load.
const std::array<std::array<uint32_t, 256>, 8>& CrcTables() {
  static const auto tables = [] {
    std::array<std::array<uint32_t, 256>, 8> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i)
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
    return t;
  }();
  return tables;
}

uint16_t U16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t U32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t U64(const uint8_t* p) { return U32(p) | (static_cast<uint64_t>(U32(p + 4)) << 32); }

}  // namespace

uint32_t Crc32(const void* data, size_t size, uint32_t crc) {
  const auto& t = CrcTables();
  const auto* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
  while (size >= 8) {
    const uint32_t lo = crc ^ U32(p);
    const uint32_t hi = U32(p + 4);
    crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
          t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
    p += 8;
    size -= 8;
  }
  while (size--) crc = t[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

// ---------------------------------------------------------------------------------------
// ZipReader

ZipReader::ZipReader(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) Fail(std::string("cannot open: ") + std::strerror(errno));
  // A throwing constructor runs no destructor: close the file here on every error.
  try {
    struct stat st {};
    if (fstat(fileno(file_), &st) != 0 || !S_ISREG(st.st_mode)) Fail("not a regular file");
    if (fseeko(file_, 0, SEEK_END) != 0) Fail("cannot seek");
    const off_t end = ftello(file_);
    if (end < 0) Fail("cannot determine the file size");
    file_size_ = static_cast<uint64_t>(end);
    ReadDirectory();
  } catch (...) {
    std::fclose(file_);
    file_ = nullptr;
    throw;
  }
}

ZipReader::ZipReader(const void* data, size_t size, const std::string& name)
    : path_(name), memory_(static_cast<const uint8_t*>(data)), file_size_(size) {
  ReadDirectory();
}

void ZipReader::ReadDirectory() {
  if (file_size_ < 22) Fail("not a zip archive or truncated (only " + std::to_string(file_size_) + " bytes)");

  // The end-of-central-directory record sits in the last 22 + comment bytes. Only a record
  // whose comment length reaches exactly the end of the file counts, so a truncated file
  // is not misread through a stray signature inside tensor data.
  const uint64_t tail_size = std::min<uint64_t>(file_size_, 22 + 0xFFFF);
  std::vector<uint8_t> tail(tail_size);
  ReadAt(file_size_ - tail_size, tail.data(), tail_size);
  int64_t eocd = -1;
  for (int64_t i = static_cast<int64_t>(tail_size) - 22; i >= 0; --i) {
    if (U32(&tail[i]) == kEndSig && static_cast<uint64_t>(i) + 22 + U16(&tail[i + 20]) == tail_size) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) Fail("not a zip archive or truncated (no end-of-central-directory record)");
  const uint8_t* e = &tail[eocd];
  const uint64_t eocd_pos = file_size_ - tail_size + static_cast<uint64_t>(eocd);
  uint64_t count = U16(e + 10);
  uint64_t cd_size = U32(e + 12);
  uint64_t cd_offset = U32(e + 16);
  if (U16(e + 4) != 0 && U16(e + 4) != k16Max) Fail("multi-disk zip archives are not supported");
  uint64_t dir_end = eocd_pos;  // the central directory must end before this

  // Zip64: a locator right before the record points at the zip64 end record.
  if (eocd_pos >= 20) {
    uint8_t loc[20];
    ReadAt(eocd_pos - 20, loc, 20);
    if (U32(loc) == kEnd64LocatorSig) {
      const uint64_t rec = U64(loc + 8);
      if (rec > eocd_pos - 20 || eocd_pos - 20 - rec < 56) Fail("corrupt zip64 locator");
      uint8_t r[56];
      ReadAt(rec, r, 56);
      if (U32(r) != kEnd64Sig) Fail("corrupt zip64 end-of-central-directory record");
      count = U64(r + 32);
      cd_size = U64(r + 40);
      cd_offset = U64(r + 48);
      dir_end = rec;
    }
  }
  if (cd_offset > dir_end || cd_size > dir_end - cd_offset)
    Fail("corrupt or truncated zip (central directory outside the file)");
  if (count > cd_size / 46) Fail("corrupt zip (entry count does not fit the central directory)");
  if (count > kMaxZipEntries) Fail("zip with " + std::to_string(count) + " entries (at most " + std::to_string(kMaxZipEntries) + ")");
  central_dir_offset_ = cd_offset;

  std::vector<uint8_t> cd(cd_size);
  ReadAt(cd_offset, cd.data(), cd_size);
  uint64_t pos = 0;
  entries_.reserve(count);
  for (uint64_t n = 0; n < count; ++n) {
    if (cd_size - pos < 46 || U32(&cd[pos]) != kCentralSig)
      Fail("corrupt zip central directory (entry " + std::to_string(n) + ")");
    const uint8_t* h = &cd[pos];
    Entry en;
    en.flags = U16(h + 8);
    en.method = U16(h + 10);
    en.crc32 = U32(h + 16);
    en.compressed_size = U32(h + 20);
    en.size = U32(h + 24);
    const uint16_t name_len = U16(h + 28), extra_len = U16(h + 30), comment_len = U16(h + 32);
    en.local_header_offset = U32(h + 42);
    if (cd_size - pos - 46 < uint64_t{name_len} + extra_len + comment_len)
      Fail("corrupt zip central directory (entry " + std::to_string(n) + " overruns it)");
    en.name.assign(reinterpret_cast<const char*>(h + 46), name_len);
    // Zip64 extra field: 8-byte values for exactly the fields saturated above, in order.
    const uint8_t* x = h + 46 + name_len;
    for (uint32_t i = 0; i + 4 <= extra_len;) {
      const uint16_t id = U16(x + i), len = U16(x + i + 2);
      if (i + 4 + len > extra_len) Fail("corrupt extra field in zip entry '" + en.name + "'");
      if (id == 0x0001) {
        const uint8_t* v = x + i + 4;
        uint32_t left = len;
        auto take = [&](uint64_t& field) {
          if (field != k32Max) return;
          if (left < 8) Fail("corrupt zip64 field in entry '" + en.name + "'");
          field = U64(v);
          v += 8;
          left -= 8;
        };
        take(en.size);
        take(en.compressed_size);
        take(en.local_header_offset);
      }
      i += 4 + len;
    }
    if (en.local_header_offset >= cd_offset || cd_offset - en.local_header_offset < 30 ||
        en.compressed_size > cd_offset - en.local_header_offset - 30)
      Fail("corrupt zip entry '" + en.name + "' (data outside the archive)");
    pos += 46 + uint64_t{name_len} + extra_len + comment_len;
    index_.emplace(en.name, entries_.size());  // first one wins on duplicates
    entries_.push_back(std::move(en));
  }
}

ZipReader::~ZipReader() {
  if (file_) std::fclose(file_);
}

void ZipReader::Fail(const std::string& what) const { throw std::runtime_error(path_ + ": " + what); }

void ZipReader::ReadAt(uint64_t offset, void* dst, uint64_t size) const {
  if (offset > file_size_ || size > file_size_ - offset) Fail("truncated (read past the end of the file)");
  if (size == 0) return;
  if (memory_) {
    std::memcpy(dst, memory_ + offset, size);
    return;
  }
  if (fseeko(file_, static_cast<off_t>(offset), SEEK_SET) != 0) Fail("cannot seek");
  if (std::fread(dst, 1, size, file_) != size) Fail("read failed (file truncated?)");
}

const ZipReader::Entry* ZipReader::Find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

uint64_t ZipReader::DataOffset(const Entry& en) const {
  uint8_t h[30];
  ReadAt(en.local_header_offset, h, 30);
  if (U32(h) != kLocalSig) Fail("corrupt zip (bad local header for '" + en.name + "')");
  const uint16_t name_len = U16(h + 26), extra_len = U16(h + 28);
  const uint64_t data = en.local_header_offset + 30 + name_len + extra_len;
  if (data > central_dir_offset_ || en.compressed_size > central_dir_offset_ - data)
    Fail("corrupt zip entry '" + en.name + "' (data overruns the central directory)");
  std::string local_name(name_len, '\0');
  ReadAt(en.local_header_offset + 30, local_name.data(), name_len);
  if (local_name != en.name) Fail("corrupt zip (local header name differs for '" + en.name + "')");
  return data;
}

void ZipReader::CheckStored(const Entry& en) const {
  if (en.flags & 1) Fail("zip entry '" + en.name + "' is encrypted");
  if (en.method != 0)
    Fail("zip entry '" + en.name + "' is compressed (method " + std::to_string(en.method) +
         "); PyTorch checkpoints store entries uncompressed");
  if (en.compressed_size != en.size) Fail("corrupt zip entry '" + en.name + "' (stored sizes differ)");
}

void ZipReader::ReadInto(const Entry& en, void* dst) const {
  CheckStored(en);
  ReadAt(DataOffset(en), dst, en.size);
  if (Crc32(dst, en.size) != en.crc32) Fail("zip entry '" + en.name + "' is corrupt (CRC-32 mismatch)");
}

std::string ZipReader::ReadString(const Entry& en) const {
  // Only the stored (compressed) size was checked against the file when the directory was
  // read: check that the size to allocate is that one before allocating it.
  CheckStored(en);
  std::string s(en.size, '\0');
  ReadInto(en, s.data());
  return s;
}

// ---------------------------------------------------------------------------------------
// ZipWriter

ZipWriter::ZipWriter(const std::string& path, bool force_zip64, const std::string& display_path)
    : path_(path), display_path_(display_path.empty() ? path : display_path), force_zip64_(force_zip64) {
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) Fail(std::string("cannot write: ") + std::strerror(errno));
}

ZipWriter::~ZipWriter() {
  if (file_) std::fclose(file_);
}

void ZipWriter::Fail(const std::string& what) { throw std::runtime_error(display_path_ + ": " + what); }

void ZipWriter::Write(const void* data, size_t size) {
  if (!file_) Fail("write after close");
  if (size && std::fwrite(data, 1, size, file_) != size) Fail("write failed (disk full?)");
  offset_ += size;
}
void ZipWriter::WriteU16(uint16_t v) {
  const uint8_t b[2] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8)};
  Write(b, 2);
}
void ZipWriter::WriteU32(uint32_t v) {
  WriteU16(static_cast<uint16_t>(v));
  WriteU16(static_cast<uint16_t>(v >> 16));
}
void ZipWriter::WriteU64(uint64_t v) {
  WriteU32(static_cast<uint32_t>(v));
  WriteU32(static_cast<uint32_t>(v >> 32));
}

void ZipWriter::Add(const std::string& name, const void* data, uint64_t size) {
  if (name.size() > 0xFFFF) Fail("zip entry name too long");
  const uint32_t crc = Crc32(data, size);
  const bool zip64 = force_zip64_ || size >= k32Max;
  const uint64_t start = offset_;
  const uint64_t zip64_len = zip64 ? 20 : 0;
  // The "FB" extra field pads the header so that the data starts on a 64-byte boundary.
  const uint64_t header_end = start + 30 + name.size() + zip64_len + 4;
  const uint64_t pad = (kAlignment - header_end % kAlignment) % kAlignment;

  WriteU32(kLocalSig);
  WriteU16(zip64 ? 45 : 20);
  WriteU16(0);  // flags
  WriteU16(0);  // stored
  WriteU16(0);  // time
  WriteU16(kDosDate1980);
  WriteU32(crc);
  WriteU32(zip64 ? k32Max : static_cast<uint32_t>(size));
  WriteU32(zip64 ? k32Max : static_cast<uint32_t>(size));
  WriteU16(static_cast<uint16_t>(name.size()));
  WriteU16(static_cast<uint16_t>(zip64_len + 4 + pad));
  Write(name.data(), name.size());
  if (zip64) {
    WriteU16(0x0001);
    WriteU16(16);
    WriteU64(size);
    WriteU64(size);
  }
  WriteU16(0x4246);  // "FB"
  WriteU16(static_cast<uint16_t>(pad));
  const std::string padding(pad, 'Z');
  Write(padding.data(), padding.size());
  Write(data, size);
  records_.push_back({name, size, start, crc});
}

void ZipWriter::Finish() {
  const uint64_t cd_offset = offset_;
  for (const Record& r : records_) {
    const bool big_size = force_zip64_ || r.size >= k32Max;
    const bool big_offset = force_zip64_ || r.offset >= k32Max;
    const uint16_t extra = (big_size || big_offset) ? 4 + (big_size ? 16 : 0) + (big_offset ? 8 : 0) : 0;
    WriteU32(kCentralSig);
    WriteU16(extra ? 45 : 20);  // made by
    WriteU16(extra ? 45 : 20);  // needed
    WriteU16(0);
    WriteU16(0);
    WriteU16(0);
    WriteU16(kDosDate1980);
    WriteU32(r.crc32);
    WriteU32(big_size ? k32Max : static_cast<uint32_t>(r.size));
    WriteU32(big_size ? k32Max : static_cast<uint32_t>(r.size));
    WriteU16(static_cast<uint16_t>(r.name.size()));
    WriteU16(extra);
    WriteU16(0);  // comment
    WriteU16(0);  // disk
    WriteU16(0);  // internal attributes
    WriteU32(0);  // external attributes
    WriteU32(big_offset ? k32Max : static_cast<uint32_t>(r.offset));
    Write(r.name.data(), r.name.size());
    if (extra) {
      WriteU16(0x0001);
      WriteU16(static_cast<uint16_t>(extra - 4));
      if (big_size) {
        WriteU64(r.size);
        WriteU64(r.size);
      }
      if (big_offset) WriteU64(r.offset);
    }
  }
  const uint64_t cd_size = offset_ - cd_offset;
  const uint64_t count = records_.size();
  const bool zip64 = force_zip64_ || count >= k16Max || cd_offset >= k32Max || cd_size >= k32Max;
  if (zip64) {
    const uint64_t rec = offset_;
    WriteU32(kEnd64Sig);
    WriteU64(44);
    WriteU16(45);
    WriteU16(45);
    WriteU32(0);
    WriteU32(0);
    WriteU64(count);
    WriteU64(count);
    WriteU64(cd_size);
    WriteU64(cd_offset);
    WriteU32(kEnd64LocatorSig);
    WriteU32(0);
    WriteU64(rec);
    WriteU32(1);
  }
  WriteU32(kEndSig);
  WriteU16(0);
  WriteU16(0);
  WriteU16(zip64 ? k16Max : static_cast<uint16_t>(count));
  WriteU16(zip64 ? k16Max : static_cast<uint16_t>(count));
  WriteU32(zip64 ? k32Max : static_cast<uint32_t>(cd_size));
  WriteU32(zip64 ? k32Max : static_cast<uint32_t>(cd_offset));
  WriteU16(0);
  const bool ok = std::fflush(file_) == 0 && ::fsync(fileno(file_)) == 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!ok || !closed) Fail("write failed (disk full?)");
}

}  // namespace animerun::models
