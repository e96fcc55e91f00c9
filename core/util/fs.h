// Small filesystem helpers shared by the loaders and writers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace animerun {

// Reads a whole file; throws Error naming the file when it cannot be opened or read, or
// when it is larger than max_bytes (checked before anything is allocated, so that a reader
// handed a huge file by mistake fails at once instead of exhausting memory).
constexpr uint64_t kNoSizeLimit = ~uint64_t{0};
std::vector<uint8_t> ReadFileBytes(const std::filesystem::path& path, uint64_t max_bytes = kNoSizeLimit);
std::string ReadFileText(const std::filesystem::path& path, uint64_t max_bytes = kNoSizeLimit);

// Atomic save: writes to "<path>.tmp-<pid>" in the same folder, flushes, then renames over
// path. A crash mid-write leaves the old file intact. Creates parent folders.
void WriteFileAtomic(const std::filesystem::path& path, const void* data, size_t size);
inline void WriteFileAtomic(const std::filesystem::path& path, const std::string& text) {
  WriteFileAtomic(path, text.data(), text.size());
}
inline void WriteFileAtomic(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  WriteFileAtomic(path, bytes.data(), bytes.size());
}

// Removes "<path>.tmp-<pid>" files (what WriteFileAtomic writes before its rename) left by
// processes that no longer run: the leftovers of a crash during a save. Returns how many.
int RemoveStaleTempFiles(const std::filesystem::path& path);

// Files of a folder whose extension (lower case, with dot) is in exts, sorted by name.
// A missing folder gives an empty list.
std::vector<std::filesystem::path> ListFiles(const std::filesystem::path& dir,
                                             const std::vector<std::string>& exts);

// Sub-folders of a folder, sorted by name. A missing folder gives an empty list.
std::vector<std::string> ListSubdirs(const std::filesystem::path& dir);

// The extension in lower case, with its dot (".flo"), or "" when there is none.
std::string LowerExtension(const std::filesystem::path& path);

}  // namespace animerun
