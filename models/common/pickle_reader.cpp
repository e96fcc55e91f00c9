#include "models/common/pickle_reader.h"

#include <charconv>
#include <cstring>
#include <stdexcept>
#include <unordered_set>

namespace animerun::models::pickle {
namespace {

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A dict key's identity: Python's equality for the scalar kinds, the object itself for the
// rest (containers are unhashable, and NaN never equals itself, so each stays distinct).
std::string KeyToken(const Value* k) {
  switch (k->kind) {
    case Kind::kNone: return "N";
    case Kind::kBool: return k->b ? "b1" : "b0";
    case Kind::kInt: return "i" + std::to_string(k->i);
    case Kind::kStr: return "s" + k->s;
    case Kind::kBytes: return "y" + k->s;
    case Kind::kBigInt: return "I" + k->s;
    case Kind::kFloat:
      if (k->f == k->f) {
        const double f = k->f == 0 ? 0.0 : k->f;  // -0.0 == 0.0
        return "f" + std::string(reinterpret_cast<const char*>(&f), sizeof f);
      }
      [[fallthrough]];
    default: {
      const void* p = k;
      return "p" + std::string(reinterpret_cast<const char*>(&p), sizeof p);
    }
  }
}

}  // namespace

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kNone: return "None";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kBigInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kStr: return "str";
    case Kind::kBytes: return "bytes";
    case Kind::kTuple: return "tuple";
    case Kind::kList: return "list";
    case Kind::kDict: return "dict";
    case Kind::kSet: return "set";
    case Kind::kGlobal: return "global";
    case Kind::kRefused: return "refused object";
    case Kind::kStorage: return "storage";
    case Kind::kTensor: return "tensor";
  }
  return "?";
}

Value* Value::Get(const std::string& key) const {
  auto it = key_index.find("s" + key);
  return it == key_index.end() ? nullptr : dict[it->second].second;
}

void Value::Set(Value* key, Value* value) {
  auto [it, inserted] = key_index.emplace(KeyToken(key), dict.size());
  if (inserted)
    dict.emplace_back(key, value);
  else
    dict[it->second].second = value;  // a dict keeps the first position of a key
}

Value* Arena::New(Kind kind) {
  values_.push_back(std::make_unique<Value>());
  values_.back()->kind = kind;
  return values_.back().get();
}

const Value* FindRefused(const Value* root) {
  std::unordered_set<const Value*> seen;
  return FindRefused(root, &seen);
}

const Value* FindRefused(const Value* root, std::unordered_set<const Value*>* seen) {
  std::vector<const Value*> todo{root};
  while (!todo.empty()) {
    const Value* v = todo.back();
    todo.pop_back();
    if (!v || !seen->insert(v).second) continue;
    if (v->kind == Kind::kRefused) return v;
    for (const Value* c : v->items) todo.push_back(c);
    for (const auto& kv : v->dict) {
      todo.push_back(kv.first);
      todo.push_back(kv.second);
    }
    todo.push_back(v->storage);
    todo.push_back(v->extra);
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------

Unpickler::Unpickler(const uint8_t* data, size_t size, std::string origin, Arena* arena,
                     PersistentLoad persistent_load)
    : data_(data), size_(size), origin_(std::move(origin)), arena_(arena),
      persistent_load_(std::move(persistent_load)) {}

void Unpickler::ChargeCopies(size_t n) {
  copied_items_ += n;
  if (copied_items_ > kMaxPickleCopiedItems)
    Fail("copies more than " + std::to_string(kMaxPickleCopiedItems) + " container items (corrupt or hostile pickle)");
}

void Unpickler::Fail(const std::string& what) const {
  throw std::runtime_error(origin_ + ": pickle: " + what + " at byte " + std::to_string(op_pos_));
}

const uint8_t* Unpickler::Take(size_t n) {
  if (n > size_ - pos_) Fail("truncated data (needs " + std::to_string(n) + " more bytes)");
  const uint8_t* p = data_ + pos_;
  pos_ += n;
  return p;
}

uint8_t Unpickler::U8() { return *Take(1); }

uint64_t Unpickler::ULE(size_t n) {
  const uint8_t* p = Take(n);
  uint64_t v = 0;
  for (size_t k = 0; k < n; ++k) v |= static_cast<uint64_t>(p[k]) << (8 * k);
  return v;
}

std::string Unpickler::Line() {
  const void* nl = std::memchr(data_ + pos_, '\n', size_ - pos_);
  if (!nl) Fail("truncated data (unterminated line)");
  const size_t n = static_cast<const uint8_t*>(nl) - (data_ + pos_);
  std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
  pos_ += n + 1;
  if (!s.empty() && s.back() == '\r') s.pop_back();
  return s;
}

Value* Unpickler::Pop() {
  if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) Fail("stack underflow");
  Value* v = stack_.back();
  stack_.pop_back();
  return v;
}

Value* Unpickler::Top() {
  if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) Fail("stack underflow");
  return stack_.back();
}

void Unpickler::Push(Value* v) { stack_.push_back(v); }

std::vector<Value*> Unpickler::PopMark() {
  if (marks_.empty()) Fail("missing MARK");
  const size_t k = marks_.back();
  marks_.pop_back();
  std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(k), stack_.end());
  stack_.resize(k);
  return items;
}

Value* Unpickler::MemoGet(uint64_t index) {
  auto it = memo_.find(index);
  if (it == memo_.end()) Fail("memo key " + std::to_string(index) + " not found");
  return it->second;
}

void Unpickler::MemoPut(uint64_t index) { memo_[index] = Top(); }

Value* Unpickler::NewInt(int64_t v) {
  Value* x = arena_->New(Kind::kInt);
  x->i = v;
  return x;
}

Value* Unpickler::NewStr(std::string s, Kind kind) {
  Value* x = arena_->New(kind);
  x->s = std::move(s);
  return x;
}

namespace {
bool ParseInt64(const std::string& s, int64_t* out) {
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (b != e && *b == '+') ++b;
  auto r = std::from_chars(b, e, *out);
  return r.ec == std::errc() && r.ptr == e && b != e;
}
}  // namespace

Value* Unpickler::Load() {
  stack_.clear();
  marks_.clear();
  memo_.clear();
  for (;;) {
    op_pos_ = pos_;
    if (pos_ >= size_) Fail("truncated data (no STOP)");
    // Each opcode makes at most a few values: checking here bounds the arena.
    if (arena_->size() >= kMaxPickleValues)
      Fail("more than " + std::to_string(kMaxPickleValues) + " values (corrupt or hostile pickle)");
    const uint8_t op = U8();
    switch (op) {
      case 0x80: {  // PROTO
        const uint8_t v = U8();
        if (v > 5) Fail("unsupported pickle protocol " + std::to_string(v));
        break;
      }
      case 0x95: {  // FRAME: a length hint only
        const uint64_t n = ULE(8);
        if (n > size_ - pos_) Fail("truncated data (frame of " + std::to_string(n) + " bytes)");
        break;
      }
      case '.': return Pop();  // STOP
      case '(': marks_.push_back(stack_.size()); break;
      case '0': Pop(); break;
      case '1': PopMark(); break;
      case '2': Push(Top()); break;
      // Scalars.
      case 'N': Push(arena_->New(Kind::kNone)); break;
      case 0x88: case 0x89: {  // NEWTRUE, NEWFALSE
        Value* v = arena_->New(Kind::kBool);
        v->b = op == 0x88;
        Push(v);
        break;
      }
      case 'J': Push(NewInt(static_cast<int32_t>(ULE(4)))); break;
      case 'K': Push(NewInt(U8())); break;
      case 'M': Push(NewInt(static_cast<int64_t>(ULE(2)))); break;
      case 0x8a: case 0x8b: {  // LONG1, LONG4: little-endian two's complement
        uint64_t n = op == 0x8a ? U8() : ULE(4);
        if (op == 0x8b && n > 0x7FFFFFFF) Fail("negative LONG4 length");
        const uint8_t* p = Take(n);
        const uint8_t fill = (n && (p[n - 1] & 0x80)) ? 0xFF : 0x00;
        bool fits = true;
        for (uint64_t k = 8; k < n; ++k) fits &= p[k] == fill && (p[7] & 0x80) == (fill & 0x80);
        if (fits) {
          uint64_t v = fill ? ~uint64_t{0} : 0;
          for (uint64_t k = 0; k < n && k < 8; ++k) {
            v &= ~(uint64_t{0xFF} << (8 * k));
            v |= static_cast<uint64_t>(p[k]) << (8 * k);
          }
          Push(NewInt(static_cast<int64_t>(v)));
        } else {
          Push(NewStr(std::string(reinterpret_cast<const char*>(p), n), Kind::kBigInt));
        }
        break;
      }
      case 'I': case 'L': {  // INT, LONG (text)
        std::string s = Line();
        if (op == 'I' && (s == "00" || s == "01")) {
          Value* v = arena_->New(Kind::kBool);
          v->b = s == "01";
          Push(v);
          break;
        }
        if (op == 'L' && !s.empty() && s.back() == 'L') s.pop_back();
        int64_t v = 0;
        if (!ParseInt64(s, &v)) Fail("bad or too large integer '" + s.substr(0, 40) + "'");
        Push(NewInt(v));
        break;
      }
      case 'G': {  // BINFLOAT, big-endian
        const uint8_t* p = Take(8);
        uint64_t bits = 0;
        for (int k = 0; k < 8; ++k) bits = (bits << 8) | p[k];
        Value* v = arena_->New(Kind::kFloat);
        std::memcpy(&v->f, &bits, 8);
        Push(v);
        break;
      }
      case 'F': {
        const std::string s = Line();
        Value* v = arena_->New(Kind::kFloat);
        auto r = std::from_chars(s.data(), s.data() + s.size(), v->f);  // locale-independent
        if (r.ec != std::errc() || r.ptr != s.data() + s.size()) Fail("bad float '" + s.substr(0, 40) + "'");
        Push(v);
        break;
      }
      // Strings and bytes.
      case 'X': case 0x8c: case 0x8d: case 'T': case 'U': case 'B': case 'C': case 0x8e: case 0x96: {
        uint64_t n = 0;
        if (op == 'X' || op == 'B') n = ULE(4);
        else if (op == 0x8c || op == 'U' || op == 'C') n = U8();
        else if (op == 'T') {
          n = ULE(4);
          if (n > 0x7FFFFFFF) Fail("negative BINSTRING length");
        } else n = ULE(8);
        const uint8_t* p = Take(n);
        // Python-2 str (T, U) loads as text, as torch.load's encoding='utf-8' does.
        const bool text = op == 'X' || op == 0x8c || op == 0x8d || op == 'T' || op == 'U';
        Push(NewStr(std::string(reinterpret_cast<const char*>(p), n), text ? Kind::kStr : Kind::kBytes));
        break;
      }
      case 'S': {  // STRING: a quoted Python-2 repr
        const std::string s = Line();
        if (s.size() < 2 || (s[0] != '\'' && s[0] != '"') || s.back() != s[0]) Fail("bad STRING");
        std::string out;
        for (size_t k = 1; k + 1 < s.size(); ++k) {
          if (s[k] != '\\') {
            out += s[k];
            continue;
          }
          if (++k + 1 > s.size() - 1) Fail("bad escape in STRING");
          const char c = s[k];
          if (c == 'n') out += '\n';
          else if (c == 't') out += '\t';
          else if (c == 'r') out += '\r';
          else if (c == '\\' || c == '\'' || c == '"') out += c;
          else if (c == 'x' && k + 2 < s.size() - 1 && HexDigit(s[k + 1]) >= 0 && HexDigit(s[k + 2]) >= 0) {
            out += static_cast<char>(HexDigit(s[k + 1]) * 16 + HexDigit(s[k + 2]));
            k += 2;
          } else Fail("unsupported escape in STRING");
        }
        Push(NewStr(std::move(out)));
        break;
      }
      case 'V': {  // UNICODE: raw-unicode-escape
        const std::string s = Line();
        std::string out;
        for (size_t k = 0; k < s.size(); ++k) {
          const auto c = static_cast<uint8_t>(s[k]);
          const size_t digits = (c == '\\' && k + 1 < s.size()) ? (s[k + 1] == 'u' ? 4 : s[k + 1] == 'U' ? 8 : 0) : 0;
          if (digits && k + 2 + digits <= s.size()) {
            uint32_t cp = 0;
            for (size_t d = 0; d < digits; ++d) {
              const int h = HexDigit(s[k + 2 + d]);
              if (h < 0) Fail("bad \\u escape in UNICODE");
              cp = cp * 16 + static_cast<uint32_t>(h);
            }
            if (cp > 0x10FFFF) Fail("bad code point in UNICODE");
            AppendUtf8(out, cp);
            k += 1 + digits;
          } else {
            AppendUtf8(out, c);  // latin-1
          }
        }
        Push(NewStr(std::move(out)));
        break;
      }
      // Containers.
      case ')': Push(arena_->New(Kind::kTuple)); break;
      case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
        const size_t n = op - 0x84;
        Value* t = arena_->New(Kind::kTuple);
        t->items.resize(n);
        for (size_t k = n; k-- > 0;) t->items[k] = Pop();
        Push(t);
        break;
      }
      case 't': {
        Value* t = arena_->New(Kind::kTuple);
        t->items = PopMark();
        Push(t);
        break;
      }
      case ']': Push(arena_->New(Kind::kList)); break;
      case 'l': {
        Value* l = arena_->New(Kind::kList);
        l->items = PopMark();
        Push(l);
        break;
      }
      case 'a': {
        Value* item = Pop();
        Append(Top(), item);
        break;
      }
      case 'e': {
        std::vector<Value*> items = PopMark();
        Value* target = Top();
        for (Value* x : items) Append(target, x);
        break;
      }
      case '}': Push(arena_->New(Kind::kDict)); break;
      case 'd': {
        std::vector<Value*> kv = PopMark();
        Value* d = arena_->New(Kind::kDict);
        SetItems(d, kv, 0);
        Push(d);
        break;
      }
      case 's': {
        Value* v = Pop();
        Value* k = Pop();
        SetItems(Top(), {k, v}, 0);
        break;
      }
      case 'u': {
        std::vector<Value*> kv = PopMark();
        SetItems(Top(), kv, 0);
        break;
      }
      case 0x8f: Push(arena_->New(Kind::kSet)); break;  // EMPTY_SET
      case 0x90: {  // ADDITEMS
        std::vector<Value*> items = PopMark();
        Value* target = Top();
        if (target->kind == Kind::kSet) target->items.insert(target->items.end(), items.begin(), items.end());
        else if (target->kind != Kind::kRefused) Fail(std::string("ADDITEMS on a ") + KindName(target->kind));
        break;
      }
      case 0x91: {  // FROZENSET
        Value* s = arena_->New(Kind::kSet);
        s->items = PopMark();
        Push(s);
        break;
      }
      // Memo.
      case 'p': {
        int64_t k = 0;
        const std::string s = Line();
        if (!ParseInt64(s, &k) || k < 0) Fail("bad PUT index");
        MemoPut(static_cast<uint64_t>(k));
        break;
      }
      case 'q': MemoPut(U8()); break;
      case 'r': MemoPut(ULE(4)); break;
      case 0x94: MemoPut(memo_.size()); break;  // MEMOIZE
      case 'g': {
        int64_t k = 0;
        const std::string s = Line();
        if (!ParseInt64(s, &k) || k < 0) Fail("bad GET index");
        Push(MemoGet(static_cast<uint64_t>(k)));
        break;
      }
      case 'h': Push(MemoGet(U8())); break;
      case 'j': Push(MemoGet(ULE(4))); break;
      // Globals and objects: only the accepted ones mean anything.
      case 'c': {
        const std::string module = Line();
        const std::string name = Line();
        Push(Global(module, name));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        Value* name = Pop();
        Value* module = Pop();
        if (module->kind != Kind::kStr || name->kind != Kind::kStr) Fail("STACK_GLOBAL needs two strings");
        Push(Global(module->s, name->s));
        break;
      }
      case 0x82: case 0x83: case 0x84: {  // EXT1, EXT2, EXT4: the copyreg extension registry
        const uint64_t code = ULE(op == 0x82 ? 1 : op == 0x83 ? 2 : 4);
        Push(NewStr("copyreg extension " + std::to_string(code), Kind::kRefused));
        break;
      }
      case 'R': {
        Value* args = Pop();
        Value* callable = Pop();
        Push(Call(callable, args));
        break;
      }
      case 0x81: case 0x92: {  // NEWOBJ, NEWOBJ_EX
        if (op == 0x92) Pop();  // kwargs
        Value* args = Pop();
        Value* cls = Pop();
        if (args->kind != Kind::kTuple && args->kind != Kind::kRefused) Fail("NEWOBJ arguments are not a tuple");
        Push(args->kind == Kind::kRefused ? NewStr(args->s, Kind::kRefused) : Instantiate(cls, args->items));
        break;
      }
      case 'i': {  // INST
        const std::string module = Line();
        const std::string name = Line();
        Value* args = arena_->New(Kind::kTuple);
        args->items = PopMark();
        Push(Call(Global(module, name), args));
        break;
      }
      case 'o': {  // OBJ
        std::vector<Value*> items = PopMark();
        if (items.empty()) Fail("OBJ without a class");
        Value* args = arena_->New(Kind::kTuple);
        args->items.assign(items.begin() + 1, items.end());
        Push(Call(items[0], args));
        break;
      }
      case 'b': {
        Value* state = Pop();
        Build(Top(), state);
        break;
      }
      case 'Q': case 'P': {  // BINPERSID, PERSID
        Value* pid = op == 'Q' ? Pop() : NewStr(Line());
        if (!persistent_load_) Fail("persistent id in a pickle that should have none");
        Value* v = persistent_load_(*arena_, pid);
        if (!v) Fail("unresolved persistent id");
        Push(v);
        break;
      }
      case 0x98: Top(); break;  // READONLY_BUFFER: no effect on our values
      case 0x97: Fail("out-of-band buffers (NEXT_BUFFER) are not supported");
      default: {
        static const char* hex = "0123456789abcdef";
        Fail(std::string("unknown opcode 0x") + hex[op >> 4] + hex[op & 15]);
      }
    }
  }
}

}  // namespace animerun::models::pickle
