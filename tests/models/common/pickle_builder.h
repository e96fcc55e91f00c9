// Test helper: hand-built pickles and torch.save-style archives (malicious ones included),
// written opcode by opcode so the tests do not depend on our own writer.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/common/zip_archive.h"

namespace animerun::test {

struct PickleBuilder {
  std::string b;
  explicit PickleBuilder(int proto = 2) {
    b += '\x80';
    b += static_cast<char>(proto);
  }
  PickleBuilder& Op(char c) {
    b += c;
    return *this;
  }
  PickleBuilder& Raw(const std::string& s) {
    b += s;
    return *this;
  }
  PickleBuilder& Le(uint64_t v, int n) {
    for (int k = 0; k < n; ++k) b += static_cast<char>((v >> (8 * k)) & 0xFF);
    return *this;
  }
  PickleBuilder& Str(const std::string& s) {  // BINUNICODE
    b += 'X';
    return Le(s.size(), 4).Raw(s);
  }
  PickleBuilder& ShortStr(const std::string& s) {  // SHORT_BINUNICODE (protocol 4)
    b += '\x8c';
    return Le(s.size(), 1).Raw(s);
  }
  PickleBuilder& Int(int32_t v) {
    b += 'J';
    return Le(static_cast<uint32_t>(v), 4);
  }
  PickleBuilder& Global(const std::string& module, const std::string& name) {
    return Raw("c" + module + "\n" + name + "\n");
  }
  PickleBuilder& StackGlobal(const std::string& module, const std::string& name) {
    return ShortStr(module).ShortStr(name).Op('\x93');
  }
  PickleBuilder& OrderedDictBegin() { return Global("collections", "OrderedDict").Op(')').Op('R').Op('('); }
  PickleBuilder& IntTuple(const std::vector<int64_t>& v) {
    Op('(');
    for (int64_t x : v) Int(static_cast<int32_t>(x));
    return Op('t');
  }
  // torch._utils._rebuild_tensor_v2(('storage', torch.<type>, key, 'cpu', numel), ...)
  PickleBuilder& Tensor(const std::string& key, int64_t numel, const std::vector<int64_t>& sizes,
                        const std::vector<int64_t>& strides, int64_t offset = 0,
                        const std::string& storage = "FloatStorage") {
    Global("torch._utils", "_rebuild_tensor_v2").Op('(');
    Op('(').Str("storage").Global("torch", storage).Str(key).Str("cpu").Int(static_cast<int32_t>(numel));
    Op('t').Op('Q');
    Int(static_cast<int32_t>(offset)).IntTuple(sizes).IntTuple(strides).Op('\x89');
    Global("collections", "OrderedDict").Op(')').Op('R');
    return Op('t').Op('R');
  }
  std::string Done() { return b + "."; }
};

inline std::string FloatBytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

// A zip like torch.save's: <prefix>/data.pkl, <prefix>/data/<key>..., <prefix>/version.
inline void WriteArchive(const std::string& path, const std::string& pickle,
                         const std::vector<std::pair<std::string, std::string>>& records,
                         const std::string& prefix = "archive", bool zip64 = false) {
  models::ZipWriter zip(path, zip64);
  zip.Add(prefix + "/data.pkl", pickle.data(), pickle.size());
  for (const auto& [key, bytes] : records) zip.Add(prefix + "/data/" + key, bytes.data(), bytes.size());
  zip.Add(prefix + "/version", "3\n", 2);
  zip.Finish();
}

}  // namespace animerun::test
