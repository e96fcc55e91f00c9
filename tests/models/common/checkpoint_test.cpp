// The checkpoint reader on hand-built files (malicious globals, wrappers, the legacy
// format with storage views) and the writer by round trip.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "models/common/checkpoint.h"
#include "models/common/zip_archive.h"
#include "tests/models/common/pickle_builder.h"
#include "test_paths.h"

namespace animerun::models {
namespace {

using test::PickleBuilder;

// Runs LoadStateDict expecting an error; returns its message.
std::string LoadError(const std::string& path, const CheckpointLoadOptions& opt = {}) {
  try {
    LoadStateDict(path, opt);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  ADD_FAILURE() << path << " loaded but should not";
  return "";
}

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

const std::vector<float> kFour = {1.5f, -2.f, 3.25f, 4.f};

TEST(Checkpoint, RefusesOsSystemAtTopLevel) {
  const auto dir = test::ScratchDir("ckpt_evil_top");
  const std::string path = (dir / "a.pth").string();
  test::WriteArchive(path, PickleBuilder().Global("os", "system").Str("echo pwned").Op('\x85').Op('R').Done(), {});
  const std::string msg = LoadError(path);
  EXPECT_TRUE(Contains(msg, path)) << msg;
  EXPECT_TRUE(Contains(msg, "os.system")) << msg;
}

TEST(Checkpoint, RefusesBuiltinsEvalViaStackGlobal) {
  const auto dir = test::ScratchDir("ckpt_evil_eval");
  const std::string path = (dir / "a.pth").string();
  test::WriteArchive(path, PickleBuilder(4).StackGlobal("builtins", "eval").ShortStr("1+1").Op('\x85').Op('R').Done(),
                     {});
  const std::string msg = LoadError(path);
  EXPECT_TRUE(Contains(msg, path)) << msg;
  EXPECT_TRUE(Contains(msg, "builtins.eval")) << msg;
}

TEST(Checkpoint, RefusesGlobalInsideStateDict) {
  const auto dir = test::ScratchDir("ckpt_evil_entry");
  const std::string path = (dir / "a.pth").string();
  // OrderedDict(w=tensor, x=posix.system('id')): the bad value is in the state dict itself.
  PickleBuilder p;
  p.OrderedDictBegin().Str("w").Tensor("0", 4, {4}, {1});
  p.Str("x").Global("posix", "system").Str("id").Op('\x85').Op('R').Op('u');
  test::WriteArchive(path, p.Done(), {{"0", test::FloatBytes(kFour)}});
  const std::string msg = LoadError(path);
  EXPECT_TRUE(Contains(msg, "posix.system")) << msg;
  EXPECT_TRUE(Contains(msg, "'x'")) << msg;

  // Same through STACK_GLOBAL, wrapped under 'model': still the caller's entry.
  const std::string path2 = (dir / "b.pth").string();
  PickleBuilder q(4);
  q.Op('}').Op('(').ShortStr("model").OrderedDictBegin().ShortStr("w");
  q.StackGlobal("posix", "system").ShortStr("id").Op('\x85').Op('R').Op('u').Op('u');
  test::WriteArchive(path2, q.Done(), {});
  const std::string msg2 = LoadError(path2);
  EXPECT_TRUE(Contains(msg2, "posix.system")) << msg2;
  EXPECT_TRUE(Contains(msg2, path2)) << msg2;
}

TEST(Checkpoint, RefusesGlobalHiddenInBackwardHooks) {
  const auto dir = test::ScratchDir("ckpt_evil_hooks");
  const std::string path = (dir / "a.pth").string();
  // _rebuild_tensor_v2(storage, 0, (4,), (1,), False, {'h': os.system})
  PickleBuilder p;
  p.OrderedDictBegin().Str("w").Global("torch._utils", "_rebuild_tensor_v2").Op('(');
  p.Op('(').Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Int(4).Op('t').Op('Q');
  p.Int(0).IntTuple({4}).IntTuple({1}).Op('\x89');
  p.Op('}').Str("h").Global("os", "system").Op('s');
  p.Op('t').Op('R').Op('u');
  test::WriteArchive(path, p.Done(), {{"0", test::FloatBytes(kFour)}});
  EXPECT_TRUE(Contains(LoadError(path), "os.system"));

  // ... or in the state dict's own attributes (where _metadata normally goes).
  const std::string path2 = (dir / "b.pth").string();
  PickleBuilder q;
  q.OrderedDictBegin().Str("w").Tensor("0", 4, {4}, {1}).Op('u');
  q.Op('}').Str("_metadata").Global("os", "system").Op('s').Op('b');
  test::WriteArchive(path2, q.Done(), {{"0", test::FloatBytes(kFour)}});
  EXPECT_TRUE(Contains(LoadError(path2), "os.system"));
}

TEST(Checkpoint, ModelBesideEasyDictConfigLoadsWithoutRunningAnything) {
  const auto dir = test::ScratchDir("ckpt_easydict");
  const std::string path = (dir / "ant.pt").string();
  const std::string marker = (dir / "pwned").string();
  // {'model': OrderedDict(w=tensor), 'config': EasyDict(...) built the way pickle
  //  protocol 2 builds a dict subclass (NEWOBJ, SETITEMS, BUILD), 'hook': os.system(touch),
  //  'epoch': 29}
  PickleBuilder p;
  p.Op('}').Op('(');
  p.Str("model").OrderedDictBegin().Str("module.w").Tensor("0", 4, {2, 2}, {2, 1}).Op('u');
  p.Str("config").Global("easydict", "EasyDict").Op(')').Op('\x81');
  p.Op('(').Str("lr").Int(3).Str("layers").Op(']').Op('(').Str("self").Str("cross").Op('e').Op('u');
  p.Op('}').Str("lr").Int(3).Op('s').Op('b');
  p.Str("hook").Global("os", "system").Str("touch " + marker).Op('\x85').Op('R');
  p.Op('}').Op('b');  // BUILD on a refused value: ignored
  p.Str("epoch").Int(29).Op('u');
  test::WriteArchive(path, p.Done(), {{"0", test::FloatBytes(kFour)}});

  const StateDict sd = LoadStateDict(path);
  ASSERT_EQ(sd.size(), 1u);
  EXPECT_EQ(sd.entries[0].first, "w");
  EXPECT_TRUE(torch::equal(sd.entries[0].second, torch::tensor({1.5f, -2.f, 3.25f, 4.f}).view({2, 2})));
  EXPECT_FALSE(std::filesystem::exists(marker));

  // Asking for the config instead fails and names the class.
  CheckpointLoadOptions opt;
  opt.wrapper_keys = {"config"};
  const std::string msg = LoadError(path, opt);
  EXPECT_TRUE(Contains(msg, "easydict.EasyDict")) << msg;
}

TEST(Checkpoint, ViewsOffsetsAndSharedStorages) {
  const auto dir = test::ScratchDir("ckpt_views");
  const std::string path = (dir / "v.pth").string();
  // One storage of 6 floats: a = [2,3] transposed view, b = elements 1..4, c = the scalar at 5.
  PickleBuilder p;
  p.OrderedDictBegin();
  p.Str("a").Tensor("s", 6, {2, 3}, {1, 2});
  p.Str("b").Tensor("s", 6, {4}, {1}, 1);
  p.Str("c").Tensor("s", 6, {}, {}, 5);
  p.Str("d").Tensor("t", 3, {3}, {1}, 0, "LongStorage").Op('u');
  const std::vector<float> six = {0, 1, 2, 3, 4, 5};
  const std::vector<int64_t> three = {7, -8, 1LL << 40};
  test::WriteArchive(path, p.Done(),
                     {{"s", test::FloatBytes(six)}, {"t", std::string(reinterpret_cast<const char*>(three.data()), 24)}});
  const StateDict sd = LoadStateDict(path);
  ASSERT_EQ(sd.size(), 4u);
  const torch::Tensor base = torch::arange(6, torch::kFloat);
  EXPECT_TRUE(torch::equal(*sd.Find("a"), base.view({3, 2}).t()));
  EXPECT_FALSE(sd.Find("a")->is_contiguous());
  EXPECT_TRUE(torch::equal(*sd.Find("b"), base.slice(0, 1, 5)));
  EXPECT_EQ(sd.Find("c")->dim(), 0);
  EXPECT_EQ(sd.Find("c")->item<float>(), 5.f);
  EXPECT_TRUE(sd.Find("a")->is_alias_of(*sd.Find("b")));
  EXPECT_EQ(sd.Find("d")->scalar_type(), torch::kLong);
  EXPECT_EQ(sd.Find("d")->index({2}).item<int64_t>(), 1LL << 40);

  // A view reaching past its storage is refused, not read out of bounds.
  const std::string bad = (dir / "bad.pth").string();
  test::WriteArchive(bad, PickleBuilder().OrderedDictBegin().Str("a").Tensor("s", 6, {2, 3}, {3, 2}).Op('u').Done(),
                     {{"s", test::FloatBytes(six)}});
  EXPECT_TRUE(Contains(LoadError(bad), "storage"));
  // A record shorter than the storage it claims to hold.
  const std::string small = (dir / "small.pth").string();
  test::WriteArchive(small, PickleBuilder().OrderedDictBegin().Str("a").Tensor("s", 600, {6}, {1}).Op('u').Done(),
                     {{"s", test::FloatBytes(six)}});
  EXPECT_TRUE(Contains(LoadError(small), "expected 2400"));
  // A record that is absent.
  const std::string missing = (dir / "missing.pth").string();
  test::WriteArchive(missing, PickleBuilder().OrderedDictBegin().Str("a").Tensor("z", 6, {6}, {1}).Op('u').Done(), {});
  EXPECT_TRUE(Contains(LoadError(missing), "archive/data/z"));
}

TEST(Checkpoint, FolderNameOtherThanArchive) {
  const auto dir = test::ScratchDir("ckpt_prefix");
  const std::string path = (dir / "p.pth").string();
  test::WriteArchive(path, PickleBuilder().OrderedDictBegin().Str("w").Tensor("0", 4, {4}, {1}).Op('u').Done(),
                     {{"0", test::FloatBytes(kFour)}}, "my_model_v2");
  EXPECT_EQ(LoadStateDict(path).Find("w")->index({3}).item<float>(), 4.f);
}

// The legacy (pre-1.6) layout by hand: magic, protocol, sys info, pickle, key list, data.
std::string LegacyFile(int64_t stored_count, bool cut_data = false) {
  std::string f;
  f += PickleBuilder().Op('\x8a').Op('\x0a').Raw(std::string("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10)).Done();
  f += PickleBuilder().Op('M').Le(1001, 2).Done();
  f += PickleBuilder().Op('}').Op('(').Str("little_endian").Op('\x88').Str("protocol_version").Op('M').Le(1001, 2).Op('u').Done();
  // 'v' is a view of root '0' starting at element 2, 3 long; 'x' uses the root directly.
  PickleBuilder p;
  p.OrderedDictBegin();
  p.Str("v").Global("torch._utils", "_rebuild_tensor_v2").Op('(');
  p.Op('(').Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Int(6);
  p.Op('(').Str("view").Int(2).Int(3).Op('t').Op('t').Op('Q');
  p.Int(1).IntTuple({2}).IntTuple({1}).Op('\x89').Op('}').Op('t').Op('R');
  p.Str("x").Global("torch._utils", "_rebuild_tensor_v2").Op('(');
  p.Op('(').Str("storage").Global("torch.cuda", "FloatStorage").Str("0").Str("cuda:0").Int(6).Op('N').Op('t').Op('Q');
  p.Int(0).IntTuple({2, 3}).IntTuple({3, 1}).Op('\x89').Op('}').Op('t').Op('R').Op('u');
  f += p.Done();
  f += PickleBuilder().Op(']').Str("0").Op('a').Done();
  f += std::string(reinterpret_cast<const char*>(&stored_count), 8);
  const std::string data = test::FloatBytes({10, 11, 12, 13, 14, 15});
  f += cut_data ? data.substr(0, 10) : data;
  return f;
}

TEST(Checkpoint, LegacyFormatWithStorageViews) {
  const auto dir = test::ScratchDir("ckpt_legacy");
  const std::string path = (dir / "l.pytorch").string();
  std::ofstream(path, std::ios::binary) << LegacyFile(6);
  const StateDict sd = LoadStateDict(path);
  ASSERT_EQ(sd.size(), 2u);
  EXPECT_TRUE(torch::equal(*sd.Find("v"), torch::tensor({13.f, 14.f})));  // root[2 + 1 + i]
  EXPECT_TRUE(torch::equal(*sd.Find("x"), torch::tensor({10.f, 11.f, 12.f, 13.f, 14.f, 15.f}).view({2, 3})));
  EXPECT_TRUE(sd.Find("v")->is_alias_of(*sd.Find("x")));

  const std::string wrong = (dir / "wrong_count.pytorch").string();
  std::ofstream(wrong, std::ios::binary) << LegacyFile(7);
  EXPECT_TRUE(Contains(LoadError(wrong), "expected 6"));
  const std::string cut = (dir / "cut.pytorch").string();
  std::ofstream(cut, std::ios::binary) << LegacyFile(6, true);
  EXPECT_TRUE(Contains(LoadError(cut), "truncated"));
}

TEST(Checkpoint, NotACheckpoint) {
  const auto dir = test::ScratchDir("ckpt_junk");
  EXPECT_TRUE(Contains(LoadError((dir / "absent.pth").string()), "cannot open"));
  const std::string empty = (dir / "empty.pth").string();
  std::ofstream(empty).close();
  EXPECT_TRUE(Contains(LoadError(empty), empty));
  const std::string text = (dir / "text.pth").string();
  std::ofstream(text) << "hello, this is not a checkpoint\n";
  EXPECT_TRUE(Contains(LoadError(text), "not a PyTorch checkpoint"));
  // A zip that is not a torch.save file.
  const std::string zip = (dir / "other.zip").string();
  {
    ZipWriter w(zip);
    w.Add("readme.txt", "hi", 2);
    w.Finish();
  }
  EXPECT_TRUE(Contains(LoadError(zip), "data.pkl"));
  // A TorchScript archive: data.pkl pickles __torch__ classes.
  const std::string ts = (dir / "scripted.pt").string();
  {
    ZipWriter w(ts);
    const std::string pkl = PickleBuilder().Global("__torch__.Net", "Net").Op(')').Op('\x81').Done();
    w.Add("scripted/data.pkl", pkl.data(), pkl.size());
    w.Add("scripted/constants.pkl", "", 0);
    w.Finish();
  }
  const std::string msg = LoadError(ts);
  EXPECT_TRUE(Contains(msg, "TorchScript")) << msg;
  // A single tensor rather than a dict.
  const std::string single = (dir / "tensor.pt").string();
  test::WriteArchive(single, PickleBuilder().Tensor("0", 4, {4}, {1}).Done(), {{"0", test::FloatBytes(kFour)}});
  EXPECT_TRUE(Contains(LoadError(single), "not a state dict"));
  // A corrupt data.pkl (its CRC intact): the error starts with the file, then the record,
  // like every other error of the reader (a fuzzer finding: it started "<file> (archive/...").
  const std::string cut = (dir / "cut.pth").string();
  {
    ZipWriter w(cut);
    const std::string pkl("\x80\x02}q\x00(X", 7);
    w.Add("archive/data.pkl", pkl.data(), pkl.size());
    w.Finish();
  }
  const std::string cut_msg = LoadError(cut);
  EXPECT_EQ(cut_msg.rfind(cut + ": archive/data.pkl: pickle: truncated", 0), 0u) << cut_msg;
}

}  // namespace
}  // namespace animerun::models
