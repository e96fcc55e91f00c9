#include "models/common/checkpoint.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <limits>
#include <memory>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "models/common/builtin_weights.h"
#include "models/common/pickle_reader.h"
#include "models/common/pickle_writer.h"
#include "models/common/zip_archive.h"

namespace animerun::models {
namespace {

namespace pk = pickle;

[[noreturn]] void Fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

struct DtypeName {
  const char* storage;  // torch.<storage> in pickles
  c10::ScalarType dtype;
};
constexpr DtypeName kDtypes[] = {
    {"FloatStorage", c10::kFloat},   {"DoubleStorage", c10::kDouble},
    {"HalfStorage", c10::kHalf},     {"BFloat16Storage", c10::kBFloat16},
    {"LongStorage", c10::kLong},     {"IntStorage", c10::kInt},
    {"ShortStorage", c10::kShort},   {"CharStorage", c10::kChar},
    {"ByteStorage", c10::kByte},     {"BoolStorage", c10::kBool},
    {"ComplexFloatStorage", c10::kComplexFloat}, {"ComplexDoubleStorage", c10::kComplexDouble},
    {"UntypedStorage", c10::kByte},
};

bool DtypeFromStorageGlobal(const std::string& global, c10::ScalarType* out) {
  for (const auto& d : kDtypes)
    if (global == std::string("torch.") + d.storage) {
      *out = d.dtype;
      return true;
    }
  return false;
}

const char* StorageNameOf(c10::ScalarType t) {
  for (const auto& d : kDtypes)
    if (d.dtype == t) return d.storage;
  return nullptr;
}

// A storage the pickle refers to. Legacy files can also name a view: a slice of a root.
struct Slot {
  std::string key;
  c10::ScalarType dtype = c10::kFloat;
  int64_t numel = 0;
  int root = -1;             // legacy view: the root slot
  int64_t view_offset = 0;   // legacy view: first element in the root
  int64_t legacy_data = -1;  // legacy root: byte offset of its data in the file buffer
  torch::Tensor flat;        // 1-D, filled on first use
};

// One checkpoint being read: the container, its storages and the unpickled object graph.
class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}
  // A checkpoint in memory; data must outlive the reader; name stands for the path.
  Reader(const uint8_t* data, size_t size, std::string name)
      : path_(std::move(name)), memory_(data), memory_size_(size), in_memory_(true) {}

  pk::Value* Open();
  torch::Tensor Rebuild(const pk::Value& t);
  bool torchscript() const { return torchscript_; }

 private:
  pk::Value* OpenZip();
  pk::Value* OpenLegacy();
  pk::Value* PersistentLoad(pk::Arena& arena, pk::Value* pid, bool legacy);
  int SlotFor(const std::string& key, c10::ScalarType dtype, int64_t numel);
  torch::Tensor Flat(int slot);

  std::string path_;
  const uint8_t* memory_ = nullptr;  // the checkpoint when it is in memory
  size_t memory_size_ = 0;
  bool in_memory_ = false;
  pk::Arena arena_;
  std::unique_ptr<ZipReader> zip_;
  std::string prefix_;  // "archive/" or whatever folder data.pkl sits in
  std::string legacy_file_;  // the whole legacy file, when read from disk
  const uint8_t* legacy_ = nullptr;  // the legacy bytes (legacy_file_ or memory_)
  size_t legacy_size_ = 0;
  bool torchscript_ = false;
  std::vector<Slot> slots_;
  std::unordered_map<std::string, int> slot_by_key_;
};

pk::Value* Reader::Open() {
  char head[4] = {0, 0, 0, 0};
  std::streamsize got = 0;
  if (in_memory_) {
    got = static_cast<std::streamsize>(std::min<size_t>(memory_size_, 4));
    if (got) std::memcpy(head, memory_, static_cast<size_t>(got));
  } else {
    std::error_code ec;
    if (std::filesystem::is_directory(path_, ec)) Fail(path_, "is a folder, not a checkpoint file");
    std::ifstream in(path_, std::ios::binary);
    if (!in) Fail(path_, std::string("cannot open: ") + std::strerror(errno));
    in.read(head, 4);
    got = in.gcount();
  }
  if (got == 4 && std::memcmp(head, "PK\x03\x04", 4) == 0) return OpenZip();
  if (got >= 1 && static_cast<uint8_t>(head[0]) == 0x80) return OpenLegacy();
  if (got == 0) Fail(path_, "empty file, not a PyTorch checkpoint");
  Fail(path_, "not a PyTorch checkpoint (neither the zip format nor a legacy pickle)");
}

pk::Value* Reader::OpenZip() {
  zip_ = in_memory_ ? std::make_unique<ZipReader>(memory_, memory_size_, path_) : std::make_unique<ZipReader>(path_);
  const ZipReader::Entry* pkl = nullptr;
  for (const auto& e : zip_->entries()) {
    const size_t slash = e.name.find('/');
    if (slash != std::string::npos && e.name.compare(slash + 1, std::string::npos, "data.pkl") == 0) {
      pkl = &e;
      prefix_ = e.name.substr(0, slash + 1);
      break;
    }
  }
  if (!pkl) Fail(path_, "zip archive without <folder>/data.pkl: not a torch.save checkpoint");
  // TorchScript archives also hold data.pkl, but pickle __torch__ classes: say what it is.
  torchscript_ = zip_->Find(prefix_ + "constants.pkl") != nullptr;
  if (const auto* bo = zip_->Find(prefix_ + "byteorder")) {
    const std::string order = zip_->ReadString(*bo);
    if (order != "little") Fail(path_, "byte order '" + order.substr(0, 16) + "' is not supported (only little-endian)");
  }
  const std::string pickle = zip_->ReadString(*pkl);
  // Errors start with the file's name, as every other error of the reader does.
  pk::Unpickler up(reinterpret_cast<const uint8_t*>(pickle.data()), pickle.size(), path_ + ": " + pkl->name,
                   &arena_, [this](pk::Arena& a, pk::Value* pid) { return PersistentLoad(a, pid, false); });
  return up.Load();
}

pk::Value* Reader::OpenLegacy() {
  if (in_memory_) {
    legacy_ = memory_;
    legacy_size_ = memory_size_;
  } else {
    std::ifstream in(path_, std::ios::binary | std::ios::ate);
    const std::streamoff size = in.tellg();
    if (!in || size < 0) Fail(path_, "cannot read");
    legacy_file_.resize(static_cast<size_t>(size));
    in.seekg(0);
    if (!in.read(legacy_file_.data(), size)) Fail(path_, "read failed");
    legacy_ = reinterpret_cast<const uint8_t*>(legacy_file_.data());
    legacy_size_ = legacy_file_.size();
  }
  const uint8_t* data = legacy_;
  pk::Unpickler up(data, legacy_size_, path_, &arena_,
                   [this](pk::Arena& a, pk::Value* pid) { return PersistentLoad(a, pid, true); });
  // Magic number 0x1950a86a20f9469cfc6c as the LONG1 bytes Python writes.
  static const std::string kMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
  pk::Value* magic = nullptr;
  try {
    magic = up.Load();
  } catch (const std::runtime_error&) {
    Fail(path_, "not a PyTorch checkpoint (no legacy magic number)");
  }
  if (magic->kind != pk::Kind::kBigInt || magic->s != kMagic)
    Fail(path_, "not a PyTorch checkpoint (bad legacy magic number)");
  pk::Value* proto = up.Load();
  if (proto->kind != pk::Kind::kInt || proto->i != 1001)
    Fail(path_, "unsupported legacy protocol version (expected 1001)");
  pk::Value* info = up.Load();
  if (info->kind == pk::Kind::kDict) {
    const pk::Value* le = info->Get("little_endian");
    if (le && le->kind == pk::Kind::kBool && !le->b) Fail(path_, "big-endian checkpoints are not supported");
  }
  pk::Value* root = up.Load();
  pk::Value* keys = up.Load();
  if (keys->kind != pk::Kind::kList) Fail(path_, "corrupt legacy checkpoint (no storage key list)");
  // The raw storages follow, in key-list order: int64 element count, then the bytes.
  uint64_t pos = up.position();
  for (const pk::Value* k : keys->items) {
    if (k->kind != pk::Kind::kStr) Fail(path_, "corrupt legacy checkpoint (storage key is not a string)");
    auto it = slot_by_key_.find(k->s);
    if (it == slot_by_key_.end() || slots_[it->second].root >= 0)
      Fail(path_, "corrupt legacy checkpoint (unknown storage key '" + k->s + "')");
    Slot& s = slots_[it->second];
    if (legacy_size_ - pos < 8) Fail(path_, "truncated (storage '" + k->s + "' missing)");
    int64_t count = 0;
    std::memcpy(&count, data + pos, 8);  // little-endian host
    if (count != s.numel)
      Fail(path_, "corrupt legacy checkpoint (storage '" + k->s + "' has " + std::to_string(count) +
                      " elements, expected " + std::to_string(s.numel) + ")");
    const uint64_t nbytes = static_cast<uint64_t>(s.numel) * c10::elementSize(s.dtype);
    if (legacy_size_ - pos - 8 < nbytes) Fail(path_, "truncated (storage '" + k->s + "' is cut short)");
    s.legacy_data = static_cast<int64_t>(pos + 8);
    pos += 8 + nbytes;
  }
  return root;
}

int Reader::SlotFor(const std::string& key, c10::ScalarType dtype, int64_t numel) {
  auto it = slot_by_key_.find(key);
  if (it != slot_by_key_.end()) {
    const Slot& s = slots_[it->second];
    if (s.dtype != dtype || s.numel != numel)
      Fail(path_, "storage '" + key + "' is used with two different dtypes or sizes (not supported)");
    return it->second;
  }
  Slot s;
  s.key = key;
  s.dtype = dtype;
  s.numel = numel;
  slots_.push_back(std::move(s));
  slot_by_key_.emplace(key, static_cast<int>(slots_.size() - 1));
  return static_cast<int>(slots_.size() - 1);
}

pk::Value* Reader::PersistentLoad(pk::Arena& arena, pk::Value* pid, bool legacy) {
  auto refused = [&](const std::string& name) {
    pk::Value* r = arena.New(pk::Kind::kRefused);
    r->s = name;
    return r;
  };
  if (pid->kind == pk::Kind::kRefused) return refused(pid->s);
  if (pid->kind != pk::Kind::kTuple || pid->items.empty()) Fail(path_, "corrupt persistent id in the pickle");
  const auto& a = pid->items;
  for (const pk::Value* x : a)
    if (x->kind == pk::Kind::kRefused) return refused(x->s);
  const pk::Value* type = a[0];
  if ((type->kind != pk::Kind::kStr && type->kind != pk::Kind::kBytes)) Fail(path_, "corrupt persistent id type");
  if (type->s == "module") return refused("a pickled nn.Module class (whole-model save)");
  if (type->s != "storage") Fail(path_, "unknown persistent id type '" + type->s.substr(0, 40) + "'");
  if (a.size() != (legacy ? 6u : 5u)) Fail(path_, "corrupt storage persistent id (wrong length)");
  c10::ScalarType dtype;
  if (a[1]->kind != pk::Kind::kGlobal || !DtypeFromStorageGlobal(a[1]->s, &dtype))
    Fail(path_, "corrupt storage persistent id (no storage type)");
  if (a[2]->kind != pk::Kind::kStr && a[2]->kind != pk::Kind::kInt) Fail(path_, "corrupt storage key");
  const std::string key = a[2]->kind == pk::Kind::kStr ? a[2]->s : std::to_string(a[2]->i);
  if (a[4]->kind != pk::Kind::kInt || a[4]->i < 0 ||
      static_cast<uint64_t>(a[4]->i) > (uint64_t{1} << 62) / c10::elementSize(dtype))
    Fail(path_, "corrupt storage size for key '" + key + "'");
  int slot = SlotFor(key, dtype, a[4]->i);
  if (legacy && a[5]->kind != pk::Kind::kNone) {
    // (view_key, offset, view_size): a slice of the root storage under its own key.
    const pk::Value* vm = a[5];
    if (vm->kind != pk::Kind::kTuple || vm->items.size() != 3 || vm->items[0]->kind != pk::Kind::kStr ||
        vm->items[1]->kind != pk::Kind::kInt || vm->items[2]->kind != pk::Kind::kInt)
      Fail(path_, "corrupt storage view metadata");
    const int64_t off = vm->items[1]->i, n = vm->items[2]->i;
    if (off < 0 || n < 0 || off > a[4]->i || n > a[4]->i - off)
      Fail(path_, "corrupt storage view (outside its storage '" + key + "')");
    const int root = slot;
    // Views name their root storage; a view of a view is not something torch writes (and
    // chains of them would make Flat() recurse without bound).
    if (slots_[root].root >= 0) Fail(path_, "corrupt storage view (a view of the view '" + key + "')");
    auto it = slot_by_key_.find(vm->items[0]->s);
    if (it != slot_by_key_.end()) {
      slot = it->second;
    } else {
      slot = SlotFor(vm->items[0]->s, dtype, n);
      slots_[slot].root = root;
      slots_[slot].view_offset = off;
    }
  }
  pk::Value* v = arena.New(pk::Kind::kStorage);
  v->i = slot;
  return v;
}

torch::Tensor Reader::Flat(int index) {
  Slot& s = slots_[index];
  if (s.flat.defined()) return s.flat;
  if (s.root >= 0) {
    s.flat = Flat(s.root).narrow(0, s.view_offset, s.numel);
    return s.flat;
  }
  const uint64_t nbytes = static_cast<uint64_t>(s.numel) * c10::elementSize(s.dtype);
  torch::Tensor t;
  if (zip_) {
    const std::string name = prefix_ + "data/" + s.key;
    const ZipReader::Entry* e = zip_->Find(name);
    if (!e) Fail(path_, "record '" + name + "' is missing");
    zip_->CheckStored(*e);  // its size is then bounded by the archive's: safe to allocate
    if (e->size < nbytes)
      Fail(path_, "record '" + name + "' holds " + std::to_string(e->size) + " bytes, expected " +
                      std::to_string(nbytes));
    t = torch::empty({s.numel}, torch::TensorOptions().dtype(s.dtype));
    if (e->size == nbytes) {
      zip_->ReadInto(*e, t.data_ptr());
    } else {
      std::string bytes = zip_->ReadString(*e);
      std::memcpy(t.data_ptr(), bytes.data(), nbytes);
    }
  } else {
    if (s.legacy_data < 0) Fail(path_, "storage '" + s.key + "' has no data in the file");
    t = torch::empty({s.numel}, torch::TensorOptions().dtype(s.dtype));
    if (nbytes) std::memcpy(t.data_ptr(), legacy_ + s.legacy_data, nbytes);
  }
  if (s.dtype == c10::kBool) {  // a bool byte other than 0/1 is undefined behaviour in torch
    auto* p = static_cast<uint8_t*>(t.data_ptr());
    for (int64_t k = 0; k < s.numel; ++k) p[k] = p[k] ? 1 : 0;
  }
  s.flat = t;
  return s.flat;
}

torch::Tensor Reader::Rebuild(const pk::Value& t) {
  const Slot& s = slots_[t.storage->i];
  const torch::Tensor flat = Flat(static_cast<int>(t.storage->i));
  int64_t numel = 1, last = t.storage_offset;
  for (size_t d = 0; d < t.sizes.size(); ++d) {
    int64_t step = 0;
    if (__builtin_mul_overflow(numel, t.sizes[d], &numel) ||
        (t.sizes[d] > 0 && (__builtin_mul_overflow(t.sizes[d] - 1, t.strides[d], &step) ||
                            __builtin_add_overflow(last, step, &last))))
      Fail(path_, "corrupt tensor geometry (overflow)");
  }
  if (numel == 0) return torch::empty(t.sizes, torch::TensorOptions().dtype(s.dtype));
  if (last >= flat.numel())
    Fail(path_, "corrupt tensor: view reaches element " + std::to_string(last) + " of a storage of " +
                    std::to_string(flat.numel()));
  return flat.as_strided(t.sizes, t.strides, flat.storage_offset() + t.storage_offset);
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

[[noreturn]] void FailRefused(const std::string& path, const std::string& global, const std::string& where,
                              bool torchscript) {
  std::string msg = "refused to load " + Quote(global) + where +
                    ": only state-dict types (OrderedDict, tensors, storages) are allowed";
  if (torchscript) msg += "; this is a TorchScript archive (torch.jit.save), not a torch.save state dict";
  Fail(path, msg);
}

}  // namespace

const torch::Tensor* StateDict::Find(const std::string& key) const {
  for (const auto& e : entries)
    if (e.first == key) return &e.second;
  return nullptr;
}

namespace {

StateDict ReadStateDict(Reader& reader, const std::string& path, const CheckpointLoadOptions& options) {
  pk::Value* top = nullptr;
  try {
    top = reader.Open();
  } catch (const c10::Error& e) {
    Fail(path, std::string("cannot read: ") + e.what_without_backtrace());
  }
  if (top->kind == pk::Kind::kRefused)
    FailRefused(path, top->s,
                reader.torchscript() ? " (the whole file)"
                                     : " (the whole file; a pickled model object? save model.state_dict() instead)",
                reader.torchscript());
  if (top->kind != pk::Kind::kDict)
    Fail(path, std::string("holds a ") + pk::KindName(top->kind) + ", not a state dict");

  const pk::Value* dict = top;
  std::string where;
  for (const std::string& w : options.wrapper_keys) {
    const pk::Value* v = top->Get(w);
    if (!v) continue;
    if (v->kind == pk::Kind::kRefused) FailRefused(path, v->s, " (entry " + Quote(w) + ")", reader.torchscript());
    if (v->kind == pk::Kind::kDict) {
      dict = v;
      where = "[" + Quote(w) + "]";
      break;
    }
  }

  if (const pk::Value* r = pk::FindRefused(dict->extra))
    FailRefused(path, r->s, " (attributes of the state dict" + where + ")", reader.torchscript());

  StateDict out;
  std::unordered_set<std::string> seen;
  // One scan set for all entries: entries sharing parts cost them once.
  std::unordered_set<const pk::Value*> scanned;
  for (const auto& [k, v] : dict->dict) {
    if (k->kind == pk::Kind::kRefused) FailRefused(path, k->s, " (a state dict key)", reader.torchscript());
    if (k->kind != pk::Kind::kStr)
      Fail(path, "state dict" + where + " has a key of type " + pk::KindName(k->kind) + "; expected str");
    if (const pk::Value* r = pk::FindRefused(v, &scanned))
      FailRefused(path, r->s, " (entry " + where + Quote(k->s) + ")", reader.torchscript());
    if (v->kind != pk::Kind::kTensor) {
      std::string msg = "entry " + where + Quote(k->s) + " is a " + pk::KindName(v->kind) + ", not a tensor";
      if (dict == top) {
        msg += " (top-level keys:";
        for (size_t n = 0; n < top->dict.size() && n < 8; ++n)
          msg += " " + (top->dict[n].first->kind == pk::Kind::kStr ? Quote(top->dict[n].first->s) : "?");
        msg += "; a wrapped state dict is looked up under the wrapper keys)";
      }
      Fail(path, msg);
    }
    std::string key = k->s;
    if (options.strip_module_prefix && key.rfind("module.", 0) == 0) key.erase(0, 7);
    if (!seen.insert(key).second) Fail(path, "duplicate key " + Quote(key) + " in the state dict");
    torch::Tensor t;
    try {
      t = reader.Rebuild(*v);
    } catch (const c10::Error& e) {
      Fail(path, "entry " + Quote(k->s) + ": " + e.what_without_backtrace());
    }
    out.entries.emplace_back(std::move(key), std::move(t));
  }
  if (out.entries.empty()) Fail(path, "the state dict" + where + " holds no tensors");
  return out;
}

}  // namespace

StateDict LoadStateDict(const std::string& path, const CheckpointLoadOptions& options) {
  if (IsBuiltinWeightsRef(path)) {
    const BuiltinWeights* w = FindBuiltinWeights(path);
    if (!w) Fail(path, "no such built-in weights (this build has " + DescribeBuiltinWeights() + ")");
    return LoadStateDictFromMemory(w->data, w->size, path, options);
  }
  Reader reader(path);
  return ReadStateDict(reader, path, options);
}

StateDict LoadStateDictFromMemory(const void* data, size_t size, const std::string& origin,
                                  const CheckpointLoadOptions& options) {
  Reader reader(static_cast<const uint8_t*>(data), size, origin);
  return ReadStateDict(reader, origin, options);
}

void SaveStateDict(const std::string& path, const StateDict& state, const std::string& prefix,
                   const std::string& wrapper_key) {
  const std::string folder = prefix.empty() ? "archive" : prefix;
  if (folder.find('/') != std::string::npos || folder.find('\\') != std::string::npos)
    Fail(path, "archive prefix " + Quote(folder) + " must not contain a slash");

  // Storages in the order of first use. Tensors sharing one storage (RAFT's aliases) keep
  // sharing it; any other tensor is written as a compact contiguous copy.
  struct Out {
    torch::Tensor data;  // what goes into data/<n>, 1-D contiguous bytes of it
    int64_t numel;
  };
  std::vector<Out> storages;
  std::unordered_map<const void*, int> use_count;
  std::unordered_set<std::string> keys;
  std::vector<torch::Tensor> cpu(state.entries.size());
  for (size_t n = 0; n < state.entries.size(); ++n) {
    const auto& [key, t] = state.entries[n];
    if (!keys.insert(key).second) Fail(path, "duplicate key " + Quote(key));
    if (!t.defined()) Fail(path, "entry " + Quote(key) + " is an undefined tensor");
    if (t.layout() != c10::kStrided || t.is_quantized() || !StorageNameOf(t.scalar_type()))
      Fail(path, "entry " + Quote(key) + ": unsupported tensor type " + t.toString());
    cpu[n] = t.detach().cpu();
    ++use_count[cpu[n].storage().unsafeGetStorageImpl()];
  }
  std::unordered_map<const void*, std::pair<int, c10::ScalarType>> shared_slot;

  pk::PickleWriter w;
  if (!wrapper_key.empty()) {  // {wrapper_key: OrderedDict(...)}
    w.EmptyDict();
    w.Mark();
    w.Str(wrapper_key);
  }
  w.Global("collections", "OrderedDict");
  w.EmptyTuple();
  w.Reduce();
  w.Mark();
  for (size_t n = 0; n < state.entries.size(); ++n) {
    torch::Tensor t = cpu[n];
    const void* impl = t.storage().unsafeGetStorageImpl();
    const int64_t elem = static_cast<int64_t>(t.element_size());
    int slot = -1;
    if (use_count[impl] > 1) {
      auto it = shared_slot.find(impl);
      if (it != shared_slot.end() && it->second.second == t.scalar_type()) {
        slot = it->second.first;
      } else if (it == shared_slot.end()) {
        const int64_t numel = static_cast<int64_t>(t.storage().nbytes()) / elem;
        torch::Tensor whole = torch::empty({0}, t.options()).set_(t.storage(), 0, {numel}, {1});
        storages.push_back({whole, numel});
        slot = static_cast<int>(storages.size() - 1);
        shared_slot[impl] = {slot, t.scalar_type()};
      }
    }
    if (slot < 0) {
      t = t.contiguous();
      if (t.storage_offset() != 0 || static_cast<int64_t>(t.storage().nbytes()) != t.numel() * elem) t = t.clone();
      storages.push_back({t.reshape({-1}), t.numel()});
      slot = static_cast<int>(storages.size() - 1);
    }
    w.Str(state.entries[n].first);
    w.Global("torch._utils", "_rebuild_tensor_v2");
    w.Mark();
    {
      w.Mark();
      w.Str("storage");
      w.Global("torch", StorageNameOf(t.scalar_type()));
      w.Str(std::to_string(slot));
      w.Str("cpu");
      w.Int(storages[slot].numel);
      w.Tuple();
      w.BinPersId();
    }
    w.Int(t.storage_offset());
    w.Mark();
    for (int64_t s : t.sizes()) w.Int(s);
    w.Tuple();
    w.Mark();
    for (int64_t s : t.strides()) w.Int(s);
    w.Tuple();
    w.Bool(false);
    w.Global("collections", "OrderedDict");
    w.EmptyTuple();
    w.Reduce();
    w.Tuple();
    w.Reduce();
  }
  w.SetItems();
  if (!wrapper_key.empty()) w.SetItems();
  w.Stop();

  std::error_code ec;
  const std::filesystem::path target(path);
  if (target.has_parent_path()) {
    std::filesystem::create_directories(target.parent_path(), ec);
    if (ec) Fail(path, "cannot create folder: " + ec.message());
  }
  static std::atomic<int> counter{0};
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  try {
    ZipWriter zip(tmp, false, path);
    zip.Add(folder + "/data.pkl", w.bytes().data(), w.bytes().size());
    zip.Add(folder + "/byteorder", "little", 6);
    for (size_t n = 0; n < storages.size(); ++n) {
      const torch::Tensor& d = storages[n].data;
      zip.Add(folder + "/data/" + std::to_string(n), d.data_ptr(), storages[n].numel * d.element_size());
    }
    zip.Add(folder + "/version", "3\n", 2);
    zip.Finish();
    std::filesystem::rename(tmp, target, ec);
    if (ec) Fail(path, "cannot replace file: " + ec.message());
  } catch (...) {
    std::filesystem::remove(tmp, ec);
    throw;
  }
}

// ---------------------------------------------------------------------------------------

namespace {
std::string ShapeString(c10::IntArrayRef s) {
  std::string out = "[";
  for (size_t d = 0; d < s.size(); ++d) out += (d ? ", " : "") + std::to_string(s[d]);
  return out + "]";
}
}  // namespace

std::string LoadReport::Summary() const {
  if (ok()) return "all entries matched";
  std::string out;
  for (const auto& m : missing) out += "missing from the file: " + m + "\n";
  for (const auto& u : unexpected) out += "unexpected in the file: " + u + "\n";
  for (const auto& m : mismatched) out += "shape mismatch: " + m + "\n";
  out.pop_back();
  return out;
}

LoadReport LoadIntoModule(torch::nn::Module& module, const StateDict& state,
                          const std::function<std::string(const std::string&)>& rename, bool strict) {
  std::vector<std::pair<std::string, torch::Tensor>> targets;
  for (const auto& p : module.named_parameters(true)) targets.emplace_back(p.key(), p.value());
  for (const auto& b : module.named_buffers(true)) targets.emplace_back(b.key(), b.value());
  std::unordered_map<std::string, size_t> index;
  for (size_t n = 0; n < targets.size(); ++n) index.emplace(targets[n].first, n);

  // Check everything first: a strict failure leaves the module untouched.
  LoadReport report;
  std::vector<std::pair<size_t, const torch::Tensor*>> copies;
  std::vector<bool> found(targets.size(), false);
  for (const auto& [key, t] : state.entries) {
    const std::string name = rename ? rename(key) : key;
    if (name.empty()) continue;
    auto it = index.find(name);
    if (it == index.end()) {
      report.unexpected.push_back(name == key ? key : key + " (as " + name + ")");
      continue;
    }
    const torch::Tensor& dst = targets[it->second].second;
    if (dst.sizes() != t.sizes()) {
      report.mismatched.push_back(name + ": file " + ShapeString(t.sizes()) + " vs model " + ShapeString(dst.sizes()));
      found[it->second] = true;
      continue;
    }
    found[it->second] = true;
    copies.emplace_back(it->second, &t);
  }
  for (size_t n = 0; n < targets.size(); ++n)
    if (!found[n]) report.missing.push_back(targets[n].first);
  if (strict && !report.ok()) throw std::runtime_error("state dict does not match the module:\n" + report.Summary());

  torch::NoGradGuard no_grad;
  for (const auto& [n, src] : copies) targets[n].second.copy_(*src);
  return report;
}

StateDict ModuleStateDict(const torch::nn::Module& module,
                          const std::function<std::string(const std::string&)>& rename) {
  // Python's order: each module's parameters then buffers, modules in pre-order. Children
  // are walked without include_self, which would need the module to be in a shared_ptr.
  StateDict out;
  auto add = [&](const std::string& prefix, const torch::nn::Module& m) {
    for (const auto& p : m.named_parameters(false)) {
      const std::string name = rename ? rename(prefix + p.key()) : prefix + p.key();
      if (!name.empty()) out.entries.emplace_back(name, p.value().detach());
    }
    for (const auto& b : m.named_buffers(false)) {
      const std::string name = rename ? rename(prefix + b.key()) : prefix + b.key();
      if (!name.empty()) out.entries.emplace_back(name, b.value().detach());
    }
  };
  add("", module);
  for (const auto& child : module.named_modules("", false)) add(child.key() + ".", *child.value());
  return out;
}

}  // namespace animerun::models
