// The checkpoint, pickle and zip readers' limits (docs/fuzzing.md): a pickle cannot turn a
// few bytes into gigabytes (value count, repeated copies of one big list) or into hours
// (a dict of many non-string keys, state-dict entries sharing one big structure), a view
// of a view is refused, and the in-memory entries agree with the file readers.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <string>

#include "models/common/checkpoint.h"
#include "models/common/pickle_reader.h"
#include "models/common/zip_archive.h"
#include "tests/models/common/pickle_builder.h"
#include "test_paths.h"

namespace animerun::models {
namespace {

using test::PickleBuilder;
namespace pk = pickle;

std::string LoadBytesError(const std::string& bytes) {
  pk::Arena arena;
  pk::Unpickler up(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "t.pkl", &arena);
  try {
    up.Load();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(ReaderLimits, PickleValueCountIsBounded) {
  // N (None) pushes one value per byte: 3 MB of them would be ~1 GB of values.
  static_assert(pk::kMaxPickleValues == (1u << 20), "documented limit");
  const std::string many = std::string("\x80\x02(", 3) + std::string(pk::kMaxPickleValues + 10, 'N') + "l.";
  const std::string msg = LoadBytesError(many);
  EXPECT_NE(msg.find("t.pkl: pickle: more than"), std::string::npos) << msg;
}

TEST(ReaderLimits, PickleCopiesOfOneBigListAreBounded) {
  // l = [None] * 100000 (memoized), then set(l) called 300 times through the memo:
  // 3e7 copied items from a pickle of ~200 KB.
  PickleBuilder b;
  b.Op(']').Op('q').Le(0, 1).Op('(');
  for (int i = 0; i < 100000; ++i) b.Op('N');
  b.Op('e');
  b.Global("builtins", "set").Op('q').Le(1, 1).Op('0');
  b.Op(']');  // results go in a list
  for (int i = 0; i < 300; ++i) b.Op('h').Le(1, 1).Op('h').Le(0, 1).Op('\x85').Op('R').Op('a');
  const std::string msg = LoadBytesError(b.Done());
  EXPECT_NE(msg.find("copies more than"), std::string::npos) << msg;
}

TEST(ReaderLimits, DictOfManyIntKeysIsLinear) {
  // 200000 distinct int keys: a linear scan per insert would be 2e10 comparisons.
  PickleBuilder b;
  b.Op('}').Op('(');
  for (int i = 0; i < 200000; ++i) b.Int(i).Op('N');
  b.Op('u');
  pk::Arena arena;
  const std::string bytes = b.Done();
  pk::Unpickler up(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "t.pkl", &arena);
  const pk::Value* d = up.Load();
  ASSERT_EQ(d->kind, pk::Kind::kDict);
  EXPECT_EQ(d->dict.size(), 200000u);
  // Equal keys still collapse as in Python (first position, last value), across kinds only
  // where Python's equality says so.
  PickleBuilder e;
  e.Op('}').Op('(').Int(1).Op('N').Str("1").Op('N').Int(1).Op('\x88').Op('u');
  pk::Arena a2;
  const std::string eb = e.Done();
  pk::Unpickler up2(reinterpret_cast<const uint8_t*>(eb.data()), eb.size(), "t.pkl", &a2);
  const pk::Value* d2 = up2.Load();
  ASSERT_EQ(d2->dict.size(), 2u);
  EXPECT_EQ(d2->dict[0].second->kind, pk::Kind::kBool);
}

TEST(ReaderLimits, CheckpointFromMemoryEqualsFromFileAndViewOfViewIsRefused) {
  const auto dir = test::ScratchDir("limits_ckpt");
  const std::string path = (dir / "w.pth").string();
  StateDict sd;
  sd.entries.emplace_back("a", torch::arange(6, torch::kFloat).view({2, 3}));
  sd.entries.emplace_back("b", torch::tensor({true, false}));
  SaveStateDict(path, sd);
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const StateDict mem = LoadStateDictFromMemory(bytes.data(), bytes.size(), "mem.pth");
  const StateDict file = LoadStateDict(path);
  ASSERT_EQ(mem.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(mem.entries[i].first, file.entries[i].first);
    EXPECT_TRUE(torch::equal(mem.entries[i].second, file.entries[i].second));
  }
  // Errors name the origin given for the bytes.
  try {
    LoadStateDictFromMemory(bytes.data(), bytes.size() / 2, "half.pth");
    ADD_FAILURE() << "half a checkpoint loaded";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("half.pth: ", 0), 0u) << e.what();
  }
  // The zip reader on memory sees what it sees on the file.
  const ZipReader zm(bytes.data(), bytes.size(), "mem.zip");
  const ZipReader zf(path);
  ASSERT_EQ(zm.entries().size(), zf.entries().size());
  for (size_t i = 0; i < zm.entries().size(); ++i) EXPECT_EQ(zm.ReadString(zm.entries()[i]), zf.ReadString(zf.entries()[i]));
}

// Found by the checkpoint_zip fuzz target (runs slowed to ~40/s): the uncompressed-size
// field of a zip entry was trusted, so a 1 KB archive claiming a 4 GB data.pkl made the
// loader allocate and zero 4 GB before finding the sizes disagree. Now it is refused first.
TEST(ReaderLimits, ZipEntrySizeIsCheckedBeforeAllocating) {
  const auto dir = test::ScratchDir("limits_zip");
  const std::string path = (dir / "w.pth").string();
  PickleBuilder p;
  p.OrderedDictBegin().Str("a").Tensor("0", 1, {1}, {1}).Op('u');
  test::WriteArchive(path, p.Done(), {{"0", test::FloatBytes({1.f})}}, "archive", /*zip64=*/true);
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The central directory record of archive/data.pkl; its zip64 extra field (after the
  // 16-byte name) holds the uncompressed size first: claim 2^62 bytes.
  const size_t cd = bytes.find(std::string("PK\x01\x02", 4));
  ASSERT_NE(cd, std::string::npos);
  ASSERT_EQ(bytes.compare(cd + 46, 16, "archive/data.pkl"), 0);
  ASSERT_EQ(bytes[cd + 46 + 16], '\x01');  // zip64 extra field id
  const uint64_t huge = uint64_t{1} << 62;
  std::memcpy(&bytes[cd + 46 + 16 + 4], &huge, 8);
  try {
    LoadStateDictFromMemory(bytes.data(), bytes.size(), "big.pth");
    ADD_FAILURE() << "loaded";
  } catch (const std::runtime_error& e) {  // was std::length_error from std::string(2^62)
    EXPECT_NE(std::string(e.what()).find("stored sizes differ"), std::string::npos) << e.what();
  }
}

// Legacy files name a view's root storage; a view whose root is itself a view is not
// something torch writes, and chains of them would recurse without bound.
TEST(ReaderLimits, LegacyViewOfAViewIsRefused) {
  std::string f;
  f += PickleBuilder().Op('\x8a').Op('\x0a').Raw(std::string("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10)).Done();
  f += PickleBuilder().Op('M').Le(1001, 2).Done();
  f += PickleBuilder().Op('}').Done();
  PickleBuilder p;
  p.OrderedDictBegin();
  auto tensor = [&](const std::string& name, const std::string& key, const std::string& view_key, int numel,
                    int view_offset) {
    p.Str(name).Global("torch._utils", "_rebuild_tensor_v2").Op('(');
    p.Op('(').Str("storage").Global("torch", "FloatStorage").Str(key).Str("cpu").Int(numel);
    p.Op('(').Str(view_key).Int(view_offset).Int(2).Op('t').Op('t').Op('Q');
    p.Int(0).IntTuple({2}).IntTuple({1}).Op('\x89').Op('}').Op('t').Op('R');
  };
  tensor("v1", "0", "view_a", 6, 1);       // view_a = root "0"[1:3]
  tensor("v2", "view_a", "view_b", 2, 0);  // view_b = view_a[0:2], a view of a view: refused
  p.Op('u');
  f += p.Done();
  f += PickleBuilder().Op(']').Str("0").Op('a').Done();
  const int64_t n = 6;
  f += std::string(reinterpret_cast<const char*>(&n), 8) + std::string(24, '\0');
  try {
    LoadStateDictFromMemory(f.data(), f.size(), "views.pt");
    ADD_FAILURE() << "a view of a view loaded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("a view of the view"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace animerun::models
