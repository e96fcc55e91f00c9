// The globals the restricted unpickler accepts, and what calling them builds. Everything
// here makes plain values; no Python object is ever constructed.
#include <stdexcept>
#include <unordered_set>

#include "models/common/pickle_reader.h"

namespace animerun::models::pickle {
namespace {

// Storage classes torch pickles as type markers in persistent ids ("torch.FloatStorage").
const char* const kStorageTypes[] = {
    "FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage",
    "IntStorage",   "ShortStorage",  "CharStorage", "ByteStorage",     "BoolStorage",
    "ComplexFloatStorage", "ComplexDoubleStorage", "UntypedStorage"};

bool IsStorageTypeName(const std::string& name) {
  for (const char* s : kStorageTypes)
    if (name == s) return true;
  return false;
}

// Canonical "module.name" of an accepted global, or "" when refused.
std::string AcceptedGlobal(const std::string& module, const std::string& name) {
  static const std::unordered_set<std::string> kAccepted = {
      "collections.OrderedDict",
      "builtins.set",
      "builtins.frozenset",
      "builtins.bytes",
      "_codecs.encode",
      "torch._utils._rebuild_tensor",
      "torch._utils._rebuild_tensor_v2",
      "torch._utils._rebuild_parameter",
      "torch._utils._rebuild_parameter_with_state",
      "torch.Size",
  };
  const std::string mod = module == "__builtin__" ? "builtins" : module;
  const std::string full = mod + "." + name;
  if (kAccepted.count(full)) return full;
  // Legacy files saved from GPU name torch.cuda.FloatStorage; both mean the same dtype.
  if ((mod == "torch" || mod == "torch.cuda" || mod == "torch.storage") && IsStorageTypeName(name))
    return "torch." + name;
  return "";
}

}  // namespace

Value* Unpickler::Global(const std::string& module, const std::string& name) {
  const std::string accepted = AcceptedGlobal(module, name);
  if (!accepted.empty()) return NewStr(accepted, Kind::kGlobal);
  return NewStr(module + "." + name, Kind::kRefused);
}

namespace {
// Integers of a tuple or list, for sizes and strides.
bool IntList(const Value* v, std::vector<int64_t>* out) {
  if (v->kind != Kind::kTuple && v->kind != Kind::kList) return false;
  out->clear();
  for (const Value* x : v->items) {
    if (x->kind != Kind::kInt) return false;
    out->push_back(x->i);
  }
  return true;
}
}  // namespace

Value* Unpickler::RebuildTensor(const std::vector<Value*>& a, bool v2) {
  const char* fn = v2 ? "_rebuild_tensor_v2" : "_rebuild_tensor";
  if (a.size() < 4 || (v2 && (a.size() < 6 || a.size() > 7)) || (!v2 && a.size() != 4))
    Fail(std::string("wrong number of arguments to ") + fn);
  Value* t = arena_->New(Kind::kTensor);
  if (a[0]->kind != Kind::kStorage) Fail(std::string(fn) + ": first argument is not a storage");
  t->storage = a[0];
  if (a[1]->kind != Kind::kInt || a[1]->i < 0) Fail(std::string(fn) + ": bad storage offset");
  t->storage_offset = a[1]->i;
  if (!IntList(a[2], &t->sizes) || !IntList(a[3], &t->strides) || t->sizes.size() != t->strides.size())
    Fail(std::string(fn) + ": bad size or stride");
  if (t->sizes.size() > 64) Fail(std::string(fn) + ": too many dimensions");
  for (size_t d = 0; d < t->sizes.size(); ++d)
    if (t->sizes[d] < 0 || t->strides[d] < 0) Fail(std::string(fn) + ": negative size or stride");
  if (v2) {
    if (a[4]->kind != Kind::kBool && a[4]->kind != Kind::kInt) Fail("_rebuild_tensor_v2: bad requires_grad");
    t->requires_grad = a[4]->kind == Kind::kBool ? a[4]->b : a[4]->i != 0;
    Value* extra = arena_->New(Kind::kTuple);
    extra->items.assign(a.begin() + 5, a.end());  // backward hooks [, metadata]
    t->extra = extra;
  }
  return t;
}

Value* Unpickler::Call(Value* callable, Value* args) {
  if (callable->kind == Kind::kRefused) return NewStr(callable->s, Kind::kRefused);
  if (args->kind == Kind::kRefused) return NewStr(args->s, Kind::kRefused);
  if (callable->kind != Kind::kGlobal) Fail(std::string("cannot call a ") + KindName(callable->kind));
  if (args->kind != Kind::kTuple) Fail("call arguments are not a tuple");
  const std::vector<Value*>& a = args->items;
  // Refused inputs taint the result; nothing is ever called with them.
  for (Value* x : a)
    if (x->kind == Kind::kRefused) return NewStr(x->s, Kind::kRefused);
  const std::string& fn = callable->s;

  if (fn == "collections.OrderedDict") {
    Value* d = arena_->New(Kind::kDict);
    d->ordered = true;
    if (a.size() > 1) Fail("OrderedDict: too many arguments");
    if (a.size() == 1) {
      ChargeCopies(a[0]->kind == Kind::kDict ? a[0]->dict.size() : a[0]->items.size());
      if (a[0]->kind == Kind::kDict) {
        for (auto& kv : a[0]->dict) d->Set(kv.first, kv.second);
      } else if (a[0]->kind == Kind::kList || a[0]->kind == Kind::kTuple) {
        for (Value* p : a[0]->items) {
          if ((p->kind != Kind::kTuple && p->kind != Kind::kList) || p->items.size() != 2)
            Fail("OrderedDict: items are not pairs");
          d->Set(p->items[0], p->items[1]);
        }
      } else {
        Fail("OrderedDict: unsupported argument");
      }
    }
    return d;
  }
  if (fn == "builtins.set" || fn == "builtins.frozenset") {
    Value* s = arena_->New(Kind::kSet);
    if (a.size() > 1) Fail(fn + ": too many arguments");
    if (a.size() == 1) {
      if (a[0]->kind != Kind::kList && a[0]->kind != Kind::kTuple && a[0]->kind != Kind::kSet)
        Fail(fn + ": unsupported argument");
      ChargeCopies(a[0]->items.size());
      s->items = a[0]->items;
    }
    return s;
  }
  if (fn == "builtins.bytes") {
    if (!a.empty()) Fail("bytes: only bytes() is supported");
    return NewStr("", Kind::kBytes);
  }
  if (fn == "_codecs.encode") {
    // Protocol 2 pickles Python 3 bytes as _codecs.encode(<latin-1 text>, 'latin1').
    if (a.size() != 2 || a[0]->kind != Kind::kStr || a[1]->kind != Kind::kStr)
      Fail("_codecs.encode: bad arguments");
    const std::string& enc = a[1]->s;
    if (enc == "utf-8" || enc == "utf8") return NewStr(a[0]->s, Kind::kBytes);
    if (enc != "latin1" && enc != "latin-1") Fail("_codecs.encode: unsupported encoding '" + enc + "'");
    std::string out;
    const std::string& in = a[0]->s;
    for (size_t k = 0; k < in.size();) {
      const auto c = static_cast<uint8_t>(in[k]);
      if (c < 0x80) {
        out += static_cast<char>(c);
        ++k;
      } else if ((c & 0xE0) == 0xC0 && k + 1 < in.size() && c <= 0xC3) {
        out += static_cast<char>(((c & 0x1F) << 6) | (static_cast<uint8_t>(in[k + 1]) & 0x3F));
        k += 2;
      } else {
        Fail("_codecs.encode: text is not latin-1");
      }
    }
    return NewStr(std::move(out), Kind::kBytes);
  }
  if (fn == "torch._utils._rebuild_tensor_v2") return RebuildTensor(a, true);
  if (fn == "torch._utils._rebuild_tensor") return RebuildTensor(a, false);
  if (fn == "torch._utils._rebuild_parameter" || fn == "torch._utils._rebuild_parameter_with_state") {
    const size_t n = fn == "torch._utils._rebuild_parameter" ? 3 : 4;
    if (a.size() != n || a[0]->kind != Kind::kTensor) Fail(fn + ": bad arguments");
    Value* t = arena_->New(Kind::kTensor);
    *t = *a[0];
    t->requires_grad = a[1]->kind == Kind::kBool ? a[1]->b : false;
    Value* extra = arena_->New(Kind::kTuple);
    extra->items.push_back(a[0]->extra);
    extra->items.insert(extra->items.end(), a.begin() + 2, a.end());  // hooks [, state]
    t->extra = extra;
    return t;
  }
  if (fn == "torch.Size") {
    if (a.size() != 1 || (a[0]->kind != Kind::kTuple && a[0]->kind != Kind::kList)) Fail("torch.Size: bad arguments");
    ChargeCopies(a[0]->items.size());
    Value* t = arena_->New(Kind::kTuple);
    t->items = a[0]->items;
    return t;
  }
  Fail("calling " + fn + " is not supported");
}

Value* Unpickler::Instantiate(Value* cls, const std::vector<Value*>& args) {
  (void)args;
  if (cls->kind == Kind::kRefused) return NewStr(cls->s, Kind::kRefused);
  if (cls->kind == Kind::kGlobal && cls->s == "collections.OrderedDict") {
    Value* d = arena_->New(Kind::kDict);
    d->ordered = true;
    return d;
  }
  if (cls->kind == Kind::kGlobal && (cls->s == "builtins.set" || cls->s == "builtins.frozenset"))
    return arena_->New(Kind::kSet);
  Fail(std::string("cannot instantiate ") + (cls->kind == Kind::kGlobal ? cls->s : KindName(cls->kind)));
}

void Unpickler::Build(Value* target, Value* state) {
  switch (target->kind) {
    case Kind::kRefused:
      return;  // nothing to set up on an object that was never made
    case Kind::kDict: {
      // OrderedDict state is the state dict's _metadata (versions only). Kept aside so a
      // refused value hidden there is still seen by the caller's scan.
      Value* extra = arena_->New(Kind::kTuple);
      extra->items = {target->extra, state};
      target->extra = extra;
      return;
    }
    case Kind::kTensor: {
      Value* extra = arena_->New(Kind::kTuple);
      extra->items = {target->extra, state};
      target->extra = extra;
      return;
    }
    default:
      Fail(std::string("BUILD on a ") + KindName(target->kind));
  }
}

void Unpickler::SetItems(Value* target, const std::vector<Value*>& kv, size_t begin) {
  if ((kv.size() - begin) % 2) Fail("odd number of items for a dict");
  if (target->kind == Kind::kRefused) return;
  if (target->kind != Kind::kDict) Fail(std::string("SETITEM on a ") + KindName(target->kind));
  for (size_t k = begin; k < kv.size(); k += 2) target->Set(kv[k], kv[k + 1]);
}

void Unpickler::Append(Value* target, Value* item) {
  if (target->kind == Kind::kRefused) return;
  if (target->kind != Kind::kList) Fail(std::string("APPEND on a ") + KindName(target->kind));
  target->items.push_back(item);
}

}  // namespace animerun::models::pickle
