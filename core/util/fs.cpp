#include "core/util/fs.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/util/error.h"

namespace animerun {
namespace fs = std::filesystem;

std::vector<uint8_t> ReadFileBytes(const fs::path& path, uint64_t max_bytes) {
  // An ifstream opens a folder and reports its size as 2^63 - 1: refuse it by name.
  std::error_code ec;
  if (fs::is_directory(path, ec)) ThrowFileError(path.string(), "is a folder, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) ThrowFileError(path.string(), std::string("cannot open: ") + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) ThrowFileError(path.string(), "cannot determine the file size");
  if (static_cast<uint64_t>(size) > max_bytes)
    ThrowFileError(path.string(), "file too large for this format (" + std::to_string(size) + " bytes, at most " +
                                      std::to_string(max_bytes) + ")");
  in.seekg(0, std::ios::beg);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
    ThrowFileError(path.string(), "read failed");
  return bytes;
}

std::string ReadFileText(const fs::path& path, uint64_t max_bytes) {
  auto bytes = ReadFileBytes(path, max_bytes);
  return std::string(bytes.begin(), bytes.end());
}

void WriteFileAtomic(const fs::path& path, const void* data, size_t size) {
  if (path.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) ThrowFileError(path.parent_path().string(), "cannot create folder: " + ec.message());
  }
  const fs::path tmp = path.string() + ".tmp-" + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) ThrowFileError(path.string(), std::string("cannot write: ") + std::strerror(errno));
  const bool ok = (size == 0 || std::fwrite(data, 1, size, f) == size) && std::fflush(f) == 0 &&
                  ::fsync(fileno(f)) == 0;
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) {
    std::remove(tmp.c_str());
    ThrowFileError(path.string(), "write failed (disk full?)");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    ThrowFileError(path.string(), "cannot replace file: " + ec.message());
  }
}

int RemoveStaleTempFiles(const fs::path& path) {
  const std::string prefix = path.filename().string() + ".tmp-";
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  int removed = 0;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); }))
      continue;
    const pid_t pid = static_cast<pid_t>(std::stol(digits));
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
    std::error_code rm;
    if (fs::remove(e.path(), rm)) ++removed;
  }
  return removed;
}

std::vector<fs::path> ListFiles(const fs::path& dir, const std::vector<std::string>& exts) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file()) continue;
    const std::string ext = LowerExtension(e.path());
    if (std::find(exts.begin(), exts.end(), ext) != exts.end()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> ListSubdirs(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory()) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string LowerExtension(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

}  // namespace animerun
