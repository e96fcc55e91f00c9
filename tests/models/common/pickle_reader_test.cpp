// The restricted unpickler on its own: opcodes of every protocol, refused globals staying
// inert, hostile shapes (cycles, deep nesting) and byte-level mutations that must give an
// error, never a crash. Also the zip reader's own checks.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "models/common/pickle_reader.h"
#include "models/common/zip_archive.h"
#include "tests/models/common/pickle_builder.h"
#include "test_paths.h"

namespace animerun::models::pickle {
namespace {

using test::PickleBuilder;

Value* Load(Arena* arena, const std::string& bytes, Unpickler::PersistentLoad pl = nullptr) {
  Unpickler up(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "test.pkl", arena, std::move(pl));
  return up.Load();
}

TEST(Unpickler, Protocol0Text) {
  // pickle.dumps({'a': 1, 'b': [1.5, True], 'c': 'été', 'd': 12345678901}, protocol=0)
  const std::string p = "(dp0\nVa\np1\nI1\nsVb\np2\n(lp3\nF1.5\naI01\nasVc\np4\nV\\u00e9t\\u00e9\np5\nsVd\np6\n"
                        "L12345678901L\nsS'e\\'s'\np7\ng3\ns.";
  Arena arena;
  const Value* v = Load(&arena, p);
  ASSERT_EQ(v->kind, Kind::kDict);
  EXPECT_EQ(v->Get("a")->i, 1);
  ASSERT_EQ(v->Get("b")->kind, Kind::kList);
  EXPECT_EQ(v->Get("b")->items[0]->f, 1.5);
  EXPECT_EQ(v->Get("b")->items[1]->kind, Kind::kBool);
  EXPECT_EQ(v->Get("c")->s, "\xc3\xa9t\xc3\xa9");
  EXPECT_EQ(v->Get("d")->i, 12345678901LL);
  EXPECT_EQ(v->Get("e's"), v->Get("b"));  // memo GET returns the same list
}

TEST(Unpickler, Protocol4Opcodes) {
  PickleBuilder p(4);
  p.Op('\x95').Le(0, 8);  // FRAME (a hint only)
  p.Op('}').Op('\x94').Op('(');
  p.ShortStr("neg").Op('\x8a').Le(2, 1).Le(0xFF7F, 2);                 // LONG1 -129
  p.ShortStr("big").Op('\x8a').Le(9, 1).Le(0, 8).Le(1, 1);             // 2**64, a big int
  p.ShortStr("g").Op('G').Raw(std::string("\x40\x09\x21\xfb\x54\x44\x2d\x18", 8));  // pi
  p.ShortStr("set").Op('\x8f').Op('(').Op('K').Le(1, 1).Op('K').Le(2, 1).Op('\x90');
  p.ShortStr("fs").Op('(').Op('K').Le(3, 1).Op('\x91');
  p.ShortStr("by").Op('C').Le(2, 1).Raw(std::string("\x00\xff", 2));
  p.ShortStr("t3").Op('N').Op('\x88').Op('\x89').Op('\x87');
  p.ShortStr("od").Global("collections", "OrderedDict").Op(')').Op('R').Op('\x94');
  p.ShortStr("again").Op('h').Le(1, 1);
  p.Op('u');
  Arena arena;
  const Value* v = Load(&arena, p.Done());
  ASSERT_EQ(v->kind, Kind::kDict);
  EXPECT_EQ(v->Get("neg")->i, -129);
  EXPECT_EQ(v->Get("big")->kind, Kind::kBigInt);
  EXPECT_DOUBLE_EQ(v->Get("g")->f, 3.141592653589793);
  EXPECT_EQ(v->Get("set")->items.size(), 2u);
  EXPECT_EQ(v->Get("fs")->items.size(), 1u);
  EXPECT_EQ(v->Get("by")->s, std::string("\x00\xff", 2));
  EXPECT_EQ(v->Get("t3")->items.size(), 3u);
  EXPECT_TRUE(v->Get("od")->ordered);
  EXPECT_EQ(v->Get("again"), v->Get("od"));
}

TEST(Unpickler, Protocol2BytesViaCodecs) {
  // pickle.dumps(b'\x00\xe9', protocol=2) == _codecs.encode('\x00é', 'latin1')
  PickleBuilder p;
  p.Global("_codecs", "encode").Str(std::string("\x00\xc3\xa9", 3)).Str("latin1").Op('\x86').Op('R');
  Arena arena;
  const Value* v = Load(&arena, p.Done());
  ASSERT_EQ(v->kind, Kind::kBytes);
  EXPECT_EQ(v->s, std::string("\x00\xe9", 2));
}

TEST(Unpickler, RefusedGlobalsStayInert) {
  for (const auto& [m, n] : std::vector<std::pair<std::string, std::string>>{
           {"os", "system"}, {"builtins", "eval"}, {"posix", "system"}, {"__builtin__", "exec"},
           {"subprocess", "Popen"}, {"torch", "load"}, {"copyreg", "_reconstructor"}}) {
    // f(*args), then NEWOBJ on the result, BUILD, SETITEMS and APPENDS on it.
    PickleBuilder p;
    p.Global(m, n).Str("x").Op('\x85').Op('R');
    p.Op(')').Op('\x81');
    p.Op('}').Op('b');
    p.Op('(').Str("k").Str("v").Op('u');
    p.Op('(').Str("item").Op('e');
    Arena arena;
    const Value* v = Load(&arena, p.Done());
    ASSERT_EQ(v->kind, Kind::kRefused) << m << "." << n;
    EXPECT_EQ(v->s, m + "." + n);
    EXPECT_EQ(FindRefused(v), v);
  }
  // STACK_GLOBAL names come from the stack; INST / OBJ instantiate through the same gate.
  Arena arena;
  EXPECT_EQ(Load(&arena, PickleBuilder(4).StackGlobal("posix", "system").Done())->s, "posix.system");
  EXPECT_EQ(Load(&arena, std::string("(S'ls'\nios\nsystem\n."))->kind, Kind::kRefused);
  EXPECT_EQ(Load(&arena, PickleBuilder().Op('(').Global("nt", "system").Str("dir").Op('o').Done())->s, "nt.system");
  // A refused value among the arguments of an accepted function taints its result.
  const Value* od = Load(&arena, PickleBuilder().Global("collections", "OrderedDict").Global("os", "system")
                                     .Op('\x85').Op('R').Done());
  EXPECT_EQ(od->kind, Kind::kRefused);
}

TEST(Unpickler, CyclesAndDeepNesting) {
  Arena arena;
  // l = []; l.append(l)
  const Value* cyc = Load(&arena, PickleBuilder().Op(']').Op('q').Le(0, 1).Op('h').Le(0, 1).Op('a').Done());
  ASSERT_EQ(cyc->kind, Kind::kList);
  EXPECT_EQ(cyc->items[0], cyc);
  EXPECT_EQ(FindRefused(cyc), nullptr);  // terminates

  // 100000 nested lists, the innermost holding os.system: no recursion anywhere.
  const int depth = 100000;
  std::string deep = std::string("\x80\x02", 2) + std::string(depth, ']') + "cos\nsystem\n";
  deep += std::string(depth, 'a') + ".";
  const Value* v = Load(&arena, deep);
  ASSERT_NE(FindRefused(v), nullptr);
  EXPECT_EQ(FindRefused(v)->s, "os.system");
}

TEST(Unpickler, PersistentIdsGoThroughTheHook) {
  int calls = 0;
  auto hook = [&](Arena& a, Value* pid) {
    ++calls;
    EXPECT_EQ(pid->kind, Kind::kTuple);
    Value* s = a.New(Kind::kStorage);
    s->i = 42;
    return s;
  };
  Arena arena;
  PickleBuilder p;
  p.Tensor("7", 12, {3, 4}, {4, 1}, 0);
  const Value* t = Load(&arena, p.Done(), hook);
  EXPECT_EQ(calls, 1);
  ASSERT_EQ(t->kind, Kind::kTensor);
  EXPECT_EQ(t->storage->i, 42);
  EXPECT_EQ(t->sizes, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(t->strides, (std::vector<int64_t>{4, 1}));
  // Without a hook, a persistent id is an error rather than something silently made up.
  EXPECT_THROW(Load(&arena, p.Done()), std::runtime_error);
}

TEST(Unpickler, MalformedInputThrows) {
  Arena arena;
  for (const std::string& bad : {std::string(""), std::string("\x80\x02", 2), std::string("\x80\x02" "a.", 4),
                                 std::string("\x80\x09N.", 4), std::string("\x80\x02h\x05.", 5),
                                 std::string("\x80\x02X\xff\xff\xff\x7f" "abc", 10), std::string("\x80\x02t.", 4),
                                 std::string("\x80\x02\xff.", 4), std::string("\x80\x02\x97.", 4),
                                 std::string("\x80\x02" "cos\nsys", 10), std::string("\x80\x02NK\x01s.", 7)}) {
    try {
      Load(&arena, bad);
      ADD_FAILURE() << "accepted " << testing::PrintToString(bad);
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("test.pkl: pickle:"), std::string::npos) << e.what();
    }
  }
}

TEST(Unpickler, MutatedPicklesNeverCrash) {
  // A small state dict pickle; every truncation and many single-byte mutations.
  PickleBuilder p;
  p.OrderedDictBegin().Str("a").Tensor("0", 4, {2, 2}, {2, 1}).Str("b").Tensor("1", 3, {3}, {1}, 0, "LongStorage");
  p.Op('u').Op('}').Str("_metadata").Op('}').Op('s').Op('b');
  const std::string good = p.Done();
  auto hook = [](Arena& a, Value*) {
    Value* s = a.New(Kind::kStorage);
    return s;
  };
  std::mt19937 rng(5);
  int errors = 0, runs = 0;
  auto run = [&](const std::string& bytes) {
    ++runs;
    Arena arena;
    try {
      Load(&arena, bytes, hook);
    } catch (const std::runtime_error&) {
      ++errors;
    }
  };
  for (size_t cut = 0; cut < good.size(); ++cut) run(good.substr(0, cut));
  for (size_t pos = 0; pos < good.size(); ++pos)
    for (int k = 0; k < 24; ++k) {
      std::string bad = good;
      bad[pos] = static_cast<char>(k < 8 ? (k * 37) : rng());
      run(bad);
    }
  EXPECT_GE(errors, static_cast<int>(good.size()));  // at least every truncation failed
  EXPECT_GT(runs, 1000);
}

TEST(ZipArchive, Crc32KnownValue) {
  EXPECT_EQ(Crc32("123456789", 9), 0xCBF43926u);
  EXPECT_EQ(Crc32("", 0), 0u);
  // Running checksum over pieces equals one pass, including the 8-byte fast path.
  const std::string s = "The quick brown fox jumps over the lazy dog, twice over.";
  EXPECT_EQ(Crc32(s.data() + 13, s.size() - 13, Crc32(s.data(), 13)), Crc32(s.data(), s.size()));
}

TEST(ZipArchive, WriteReadAndReject) {
  const auto dir = test::ScratchDir("zip_archive");
  for (bool zip64 : {false, true}) {
    const std::string path = (dir / (zip64 ? "z64.zip" : "z.zip")).string();
    {
      ZipWriter w(path, zip64);
      w.Add("a/one", "hello", 5);
      w.Add("a/empty", "", 0);
      w.Finish();
    }
    ZipReader r(path);
    ASSERT_EQ(r.entries().size(), 2u);
    EXPECT_EQ(r.ReadString(*r.Find("a/one")), "hello");
    EXPECT_EQ(r.ReadString(*r.Find("a/empty")), "");
    EXPECT_EQ(r.Find("a/two"), nullptr);
  }
  // Any cut of the file is refused with its path.
  std::ifstream in((dir / "z64.zip").string(), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    const std::string path = (dir / "cut.zip").string();
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, cut);
    try {
      ZipReader r(path);
      for (const auto& e : r.entries()) r.ReadString(e);
      ADD_FAILURE() << "cut at " << cut << " accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace animerun::models::pickle
