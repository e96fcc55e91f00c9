// A minimal zip reader and writer for PyTorch's container: stored (uncompressed) entries,
// zip64, CRC-32 checked. torch.save never compresses, so deflate is refused with a clear
// error. Every offset and size read from the file is bounds-checked before use, so a
// truncated or corrupt archive throws std::runtime_error("<path>: ...") instead of crashing.
//
// Limits: nothing is allocated beyond the archive's own size (every entry must lie inside
// it), the central directory holds at most kMaxZipEntries entries, and entry names are
// at most 65535 bytes (the format's own bound).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace animerun::models {

// CRC-32 (zip / zlib polynomial). Pass the previous value to continue a running checksum.
uint32_t Crc32(const void* data, size_t size, uint32_t crc = 0);

constexpr uint64_t kMaxZipEntries = 1 << 20;  // a state dict of a million tensors

class ZipReader {
 public:
  struct Entry {
    std::string name;
    uint64_t size = 0;             // uncompressed
    uint64_t compressed_size = 0;
    uint64_t local_header_offset = 0;
    uint32_t crc32 = 0;
    uint16_t method = 0;           // 0 = stored
    uint16_t flags = 0;
  };

  // Opens the file and reads its central directory. Throws when the file is not a zip,
  // is truncated (no end-of-central-directory record) or the directory is inconsistent.
  explicit ZipReader(const std::string& path);
  // An archive already in memory (the fuzz targets); data must outlive the reader and
  // name stands for the path in error messages.
  ZipReader(const void* data, size_t size, const std::string& name);
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<Entry>& entries() const { return entries_; }
  const Entry* Find(const std::string& name) const;

  // Throws unless the entry can be read: stored (not compressed, not encrypted), with its
  // size equal to the stored size, which the directory checked against the archive. Call it
  // before allocating entry.size bytes: the uncompressed size field is not otherwise bounded.
  void CheckStored(const Entry& entry) const;
  // Reads a whole entry into dst (entry.size bytes) and checks its CRC-32.
  void ReadInto(const Entry& entry, void* dst) const;
  std::string ReadString(const Entry& entry) const;

 private:
  void ReadDirectory();
  uint64_t DataOffset(const Entry& entry) const;
  void ReadAt(uint64_t offset, void* dst, uint64_t size) const;
  [[noreturn]] void Fail(const std::string& what) const;

  std::string path_;
  std::FILE* file_ = nullptr;
  const uint8_t* memory_ = nullptr;  // the archive when it is in memory (file_ is null)
  uint64_t file_size_ = 0;
  uint64_t central_dir_offset_ = 0;  // entry data must end before this
  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t> index_;
};

// Writes a zip of stored entries the way PyTorch does: data aligned to 64 bytes (padding
// in an extra field), zip64 records where sizes or offsets need them. The caller makes
// the write atomic (it writes a temp path and renames it).
class ZipWriter {
 public:
  // force_zip64 writes zip64 records even for small archives (tests the reader's zip64 path).
  // Errors name display_path (the final file) when given, else path.
  explicit ZipWriter(const std::string& path, bool force_zip64 = false,
                     const std::string& display_path = "");
  ~ZipWriter();  // closes without finishing when Finish() was not reached
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  void Add(const std::string& name, const void* data, uint64_t size);
  // Writes the central directory, flushes and fsyncs, closes. Throws on I/O errors.
  void Finish();

 private:
  struct Record {
    std::string name;
    uint64_t size;
    uint64_t offset;
    uint32_t crc32;
  };
  void Write(const void* data, size_t size);
  void WriteU16(uint16_t v);
  void WriteU32(uint32_t v);
  void WriteU64(uint64_t v);

  [[noreturn]] void Fail(const std::string& what);

  std::string path_;
  std::string display_path_;
  std::FILE* file_ = nullptr;
  bool force_zip64_ = false;
  uint64_t offset_ = 0;
  std::vector<Record> records_;
};

}  // namespace animerun::models
