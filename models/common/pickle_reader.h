// A restricted Python unpickler (protocols 0-5) that builds plain values and never runs
// code. Only the globals a PyTorch state dict needs are understood (OrderedDict, the
// torch._utils tensor rebuild functions, torch.*Storage type markers, torch.Size, set,
// _codecs.encode for protocol-2 bytes). Any other global becomes an inert Refused value
// that remembers its name; calling, building or filling it yields Refused again. Whether
// a Refused value matters is decided by the caller (checkpoint.cpp), which fails only when
// one sits inside the entry it was asked for.
//
// Values live in an Arena and point at each other with raw pointers: pickles can make
// cycles and arbitrarily deep nesting, and flat ownership keeps destruction free of
// recursion. Free of torch on purpose: the tensor values are plain descriptions.
//
// Limits (a hostile pickle must not turn a few bytes into gigabytes or hours): at most
// kMaxPickleValues values per Arena (a state dict of N tensors needs about 15 N), at most
// kMaxPickleCopiedItems container items copied by set() / torch.Size() / OrderedDict(...)
// calls (which a memo lets a pickle repeat on one big list), and dict keys are indexed, so
// filling a dict is linear in its size.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace animerun::models::pickle {

constexpr size_t kMaxPickleValues = size_t{1} << 20;
constexpr size_t kMaxPickleCopiedItems = size_t{1} << 24;

enum class Kind {
  kNone, kBool, kInt, kBigInt, kFloat, kStr, kBytes,
  kTuple, kList, kDict, kSet,
  kGlobal,   // an accepted class or function (name = "module.qualname")
  kRefused,  // any other global, or what came of using one (name = the global)
  kStorage,  // what the persistent-load hook returned (handle is the caller's)
  kTensor,   // a _rebuild_tensor(_v2) / _rebuild_parameter call, described
};
const char* KindName(Kind kind);

struct Value {
  Kind kind = Kind::kNone;
  bool b = false;
  int64_t i = 0;              // kInt; kStorage: caller's handle
  double f = 0;
  std::string s;              // kStr/kBytes data; kBigInt little-endian bytes; kGlobal/kRefused name
  std::vector<Value*> items;  // kTuple, kList, kSet
  std::vector<std::pair<Value*, Value*>> dict;  // kDict, in insertion order
  std::unordered_map<std::string, size_t> key_index;  // kDict: position of each key (KeyToken)
  bool ordered = false;       // kDict made by collections.OrderedDict
  // kTensor
  Value* storage = nullptr;
  int64_t storage_offset = 0;
  std::vector<int64_t> sizes, strides;
  bool requires_grad = false;
  Value* extra = nullptr;     // kTensor hooks/metadata/state, kDict BUILD state: only scanned

  // kDict helpers.
  Value* Get(const std::string& key) const;
  void Set(Value* key, Value* value);
};

class Arena {
 public:
  Value* New(Kind kind);
  size_t size() const { return values_.size(); }

 private:
  std::vector<std::unique_ptr<Value>> values_;
};

// Returns the first Refused value reachable from v (cycle-safe, no recursion), else null.
const Value* FindRefused(const Value* v);
// The same, skipping values already in seen and adding those it visits: scanning many
// roots that share parts (entries of one state dict) with one set costs their total size
// once, not once per root.
const Value* FindRefused(const Value* v, std::unordered_set<const Value*>* seen);

// Reads one or more pickles laid end to end in a buffer (the legacy torch format has
// four). The buffer must outlive the Unpickler. Errors throw std::runtime_error
// "<origin>: pickle: <problem> at byte N".
class Unpickler {
 public:
  // Gets the persistent id (a tuple for torch; a string for text PERSID) and returns the
  // value standing for it, normally a kStorage or a kRefused.
  using PersistentLoad = std::function<Value*(Arena&, Value* pid)>;

  Unpickler(const uint8_t* data, size_t size, std::string origin, Arena* arena,
            PersistentLoad persistent_load = nullptr);

  // Reads the next pickle up to its STOP and returns its value.
  Value* Load();
  size_t position() const { return pos_; }
  const std::string& origin() const { return origin_; }

 private:
  [[noreturn]] void Fail(const std::string& what) const;
  const uint8_t* Take(size_t n);
  uint8_t U8();
  uint64_t ULE(size_t n);
  std::string Line();
  Value* Pop();
  Value* Top();
  void Push(Value* v);
  std::vector<Value*> PopMark();
  Value* MemoGet(uint64_t index);
  void MemoPut(uint64_t index);

  Value* NewInt(int64_t v);
  Value* NewStr(std::string s, Kind kind = Kind::kStr);
  Value* Global(const std::string& module, const std::string& name);
  Value* Call(Value* callable, Value* args);
  Value* Instantiate(Value* cls, const std::vector<Value*>& args);
  void Build(Value* target, Value* state);
  void SetItems(Value* target, const std::vector<Value*>& kv, size_t begin);
  void Append(Value* target, Value* item);
  Value* RebuildTensor(const std::vector<Value*>& args, bool v2);
  // Counts n container items about to be copied against kMaxPickleCopiedItems.
  void ChargeCopies(size_t n);

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;
  size_t copied_items_ = 0;
  std::string origin_;
  Arena* arena_;
  PersistentLoad persistent_load_;
  std::vector<Value*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Value*> memo_;
};

}  // namespace animerun::models::pickle
