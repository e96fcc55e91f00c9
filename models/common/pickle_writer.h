// Emits the few pickle opcodes a state dict needs (protocol 2, what torch.save writes by
// default), so that Python's pickle and our Unpickler read the same bytes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace animerun::models::pickle {

class PickleWriter {
 public:
  PickleWriter();  // starts with PROTO 2

  void Mark();
  void Stop();
  void EmptyTuple();
  void EmptyDict();
  void Tuple();  // MARK ... TUPLE, or TUPLE1-3 via TupleOf
  void TupleOf(int n);  // the last n values (1..3)
  void Reduce();
  void SetItems();
  void BinPersId();
  void None();
  void Bool(bool v);
  void Int(int64_t v);
  void Str(const std::string& utf8);
  void Global(const std::string& module, const std::string& name);  // memoized

  const std::string& bytes() const { return out_; }

 private:
  void Op(uint8_t op) { out_ += static_cast<char>(op); }
  void Le(uint64_t v, int n);
  void Put();

  std::string out_;
  uint32_t next_memo_ = 0;
  std::map<std::pair<std::string, std::string>, uint32_t> globals_;
};

}  // namespace animerun::models::pickle
