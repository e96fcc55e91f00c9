// The restricted unpickler (models/common/pickle_reader.h) on a raw stream: pickles laid end
// to end as in the legacy torch format, persistent ids resolved to storages, and the
// refused-global scan over each result.
#include "fuzz/fuzz_target.h"
#include "models/common/pickle_reader.h"

ANIMERUN_FUZZ_TARGET(pickle) {
  using namespace animerun::models;
  namespace pk = pickle;
  pk::Arena arena;
  int64_t storages = 0;
  pk::Unpickler up(data, size, "input.pkl", &arena, [&](pk::Arena& a, pk::Value* pid) {
    pk::Value* v = a.New(pk::Kind::kStorage);
    v->i = storages++;
    (void)pid;
    return v;
  });
  for (int n = 0; n < 8 && up.position() < size; ++n) {
    pk::Value* v = nullptr;
    if (!animerun::fuzz::Accepts("input.pkl", [&] { v = up.Load(); })) return 0;
    animerun::fuzz::Require(v != nullptr, "Load returns a value");
    pk::FindRefused(v);
    animerun::fuzz::Require(arena.size() <= pk::kMaxPickleValues + 8, "arena within its limit");
  }
  return 0;
}
