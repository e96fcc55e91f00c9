#include "models/common/pickle_writer.h"

namespace animerun::models::pickle {

PickleWriter::PickleWriter() {
  Op(0x80);
  Op(2);
}

void PickleWriter::Le(uint64_t v, int n) {
  for (int k = 0; k < n; ++k) out_ += static_cast<char>((v >> (8 * k)) & 0xFF);
}

void PickleWriter::Put() {
  if (next_memo_ < 256) {
    Op('q');
    Le(next_memo_, 1);
  } else {
    Op('r');
    Le(next_memo_, 4);
  }
  ++next_memo_;
}

void PickleWriter::Mark() { Op('('); }
void PickleWriter::Stop() { Op('.'); }
void PickleWriter::EmptyTuple() { Op(')'); }
void PickleWriter::EmptyDict() { Op('}'); }
void PickleWriter::Tuple() { Op('t'); }
void PickleWriter::TupleOf(int n) { Op(static_cast<uint8_t>(0x84 + n)); }
void PickleWriter::Reduce() { Op('R'); }
void PickleWriter::SetItems() { Op('u'); }
void PickleWriter::BinPersId() { Op('Q'); }
void PickleWriter::None() { Op('N'); }
void PickleWriter::Bool(bool v) { Op(v ? 0x88 : 0x89); }

void PickleWriter::Int(int64_t v) {
  if (v >= 0 && v < 256) {
    Op('K');
    Le(static_cast<uint64_t>(v), 1);
  } else if (v >= 0 && v < 65536) {
    Op('M');
    Le(static_cast<uint64_t>(v), 2);
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    Op('J');
    Le(static_cast<uint64_t>(static_cast<uint32_t>(static_cast<int32_t>(v))), 4);
  } else {
    // LONG1 with 8 bytes: two's complement is exact for any int64.
    Op(0x8a);
    Le(8, 1);
    Le(static_cast<uint64_t>(v), 8);
  }
}

void PickleWriter::Str(const std::string& utf8) {
  Op('X');
  Le(utf8.size(), 4);
  out_ += utf8;
}

void PickleWriter::Global(const std::string& module, const std::string& name) {
  auto it = globals_.find({module, name});
  if (it != globals_.end()) {
    if (it->second < 256) {
      Op('h');
      Le(it->second, 1);
    } else {
      Op('j');
      Le(it->second, 4);
    }
    return;
  }
  Op('c');
  out_ += module + "\n" + name + "\n";
  globals_[{module, name}] = next_memo_;
  Put();
}

}  // namespace animerun::models::pickle
