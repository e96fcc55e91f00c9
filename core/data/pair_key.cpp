#include "core/data/pair_key.h"

namespace animerun::data {

std::string PairKey::Describe() const {
  if (Empty()) return std::string();
  return identity.scene + "  " + identity.name1 + " -> " + identity.name2;
}

PairKey MakePairKey(const std::filesystem::path& split_root, const std::string& pass, const FramePair& pair) {
  return {split_root.string(), pass, PairIdentity(pair)};
}

bool operator==(const PairKey& a, const PairKey& b) {
  return a.split_root == b.split_root && a.pass == b.pass && a.identity.scene == b.identity.scene &&
         a.identity.index == b.identity.index && a.identity.name1 == b.identity.name1 &&
         a.identity.name2 == b.identity.name2;
}

}  // namespace animerun::data
