// SaveStateDict by round trip through our reader (mixed dtypes, views, aliases, zip64),
// the layout Python's torch.load expects, and LoadIntoModule / ModuleStateDict.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "models/common/checkpoint.h"
#include "models/common/zip_archive.h"
#include "test_paths.h"

namespace animerun::models {
namespace {

StateDict MixedStateDict() {
  torch::manual_seed(3);
  StateDict sd;
  const torch::Tensor shared = torch::randn({4, 5});
  sd.entries.emplace_back("f32_transposed", torch::randn({3, 5}).t());  // non-contiguous
  sd.entries.emplace_back("f64_slice", torch::randn({10}, torch::kDouble).slice(0, 3, 9, 2));
  sd.entries.emplace_back("f16", torch::randn({2, 3}).to(torch::kHalf));
  sd.entries.emplace_back("bf16", torch::randn({7}).to(torch::kBFloat16));
  sd.entries.emplace_back("i64", torch::tensor({int64_t{1} << 40, int64_t{-5}, int64_t{0}}));
  sd.entries.emplace_back("i32", torch::tensor({1, -2, 3}, torch::kInt));
  sd.entries.emplace_back("i16", torch::tensor({-300, 300}, torch::kShort));
  sd.entries.emplace_back("i8", torch::tensor({-128, 127}, torch::kChar));
  sd.entries.emplace_back("u8", torch::tensor({0, 255}, torch::kByte));
  sd.entries.emplace_back("bool", torch::tensor({true, false, true}));
  sd.entries.emplace_back("scalar", torch::tensor(2.5f));
  sd.entries.emplace_back("empty", torch::zeros({0, 3}));
  sd.entries.emplace_back("shared_a", shared);
  sd.entries.emplace_back("shared_b", shared);                     // same tensor, two names
  sd.entries.emplace_back("shared_col", shared.select(1, 2));      // a strided view of it
  return sd;
}

void ExpectSame(const StateDict& a, const StateDict& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t n = 0; n < a.size(); ++n) {
    EXPECT_EQ(a.entries[n].first, b.entries[n].first);
    const torch::Tensor& x = a.entries[n].second;
    const torch::Tensor& y = b.entries[n].second;
    EXPECT_EQ(x.scalar_type(), y.scalar_type()) << a.entries[n].first;
    EXPECT_EQ(x.sizes(), y.sizes()) << a.entries[n].first;
    EXPECT_TRUE(torch::equal(x, y)) << a.entries[n].first;
  }
}

TEST(CheckpointSave, RoundTripMixedDtypesAndViews) {
  const auto dir = test::ScratchDir("ckpt_save_mixed");
  const std::string path = (dir / "sub" / "mixed.pth").string();  // folder made on demand
  const StateDict sd = MixedStateDict();
  SaveStateDict(path, sd);
  const StateDict back = LoadStateDict(path);
  ExpectSame(sd, back);
  // Entries that shared a storage still do, so aliases (RAFT's norm3) survive a save.
  EXPECT_TRUE(back.Find("shared_a")->is_alias_of(*back.Find("shared_b")));
  EXPECT_TRUE(back.Find("shared_a")->is_alias_of(*back.Find("shared_col")));
  EXPECT_FALSE(back.Find("f32_transposed")->is_alias_of(*back.Find("shared_a")));
  // No temp file left behind.
  for (const auto& e : std::filesystem::directory_iterator(dir / "sub"))
    EXPECT_EQ(e.path().filename(), "mixed.pth");
}

TEST(CheckpointSave, LayoutTorchLoadExpects) {
  const auto dir = test::ScratchDir("ckpt_save_layout");
  const std::string path = (dir / "m.pth").string();
  StateDict sd;
  sd.entries.emplace_back("w", torch::arange(6, torch::kFloat).view({2, 3}));
  SaveStateDict(path, sd, "m");
  ZipReader zip(path);
  ASSERT_GE(zip.entries().size(), 4u);
  // The folder name is taken from the first entry, which must be data.pkl's.
  EXPECT_EQ(zip.entries().front().name, "m/data.pkl");
  ASSERT_NE(zip.Find("m/version"), nullptr);
  EXPECT_EQ(zip.ReadString(*zip.Find("m/version")), "3\n");
  ASSERT_NE(zip.Find("m/byteorder"), nullptr);
  EXPECT_EQ(zip.ReadString(*zip.Find("m/byteorder")), "little");
  ASSERT_NE(zip.Find("m/data/0"), nullptr);
  EXPECT_EQ(zip.Find("m/data/0")->size, 24u);
  const std::string pkl = zip.ReadString(*zip.Find("m/data.pkl"));
  EXPECT_EQ(pkl.substr(0, 2), std::string("\x80\x02", 2));  // protocol 2
  EXPECT_NE(pkl.find("collections\nOrderedDict\n"), std::string::npos);
  EXPECT_NE(pkl.find("torch._utils\n_rebuild_tensor_v2\n"), std::string::npos);
  EXPECT_NE(pkl.find("torch\nFloatStorage\n"), std::string::npos);
  // Record data starts on a 64-byte boundary (PyTorch mmaps them): check the local header.
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t pos = 0;
  int checked = 0;
  while ((pos = bytes.find(std::string("PK\x03\x04", 4), pos)) != std::string::npos && pos < bytes.size() - 30) {
    const auto u16 = [&](size_t at) { return static_cast<uint8_t>(bytes[at]) | (static_cast<uint8_t>(bytes[at + 1]) << 8); };
    const size_t data = pos + 30 + u16(pos + 26) + u16(pos + 28);
    EXPECT_EQ(data % 64, 0u) << "local header at " << pos;
    ++checked;
    pos = data;
  }
  EXPECT_EQ(checked, 4);

  EXPECT_THROW(SaveStateDict((dir / "x.pth").string(), sd, "a/b"), std::runtime_error);
}

TEST(CheckpointSave, Zip64Archive) {
  // Re-pack a saved checkpoint with zip64 records everywhere: the reader's zip64 path.
  const auto dir = test::ScratchDir("ckpt_save_zip64");
  const std::string plain = (dir / "plain.pth").string();
  const std::string big = (dir / "zip64.pth").string();
  const StateDict sd = MixedStateDict();
  SaveStateDict(plain, sd);
  {
    ZipReader in(plain);
    ZipWriter out(big, /*force_zip64=*/true);
    for (const auto& e : in.entries()) {
      const std::string bytes = in.ReadString(e);
      out.Add(e.name, bytes.data(), bytes.size());
    }
    out.Finish();
  }
  ExpectSame(sd, LoadStateDict(big));
}

TEST(CheckpointSave, FailedSaveLeavesTargetAlone) {
  const auto dir = test::ScratchDir("ckpt_save_fail");
  StateDict sd;
  sd.entries.emplace_back("w", torch::ones({2}));
  const std::string path = (dir / "keep.pth").string();
  SaveStateDict(path, sd);
  StateDict bad = sd;
  bad.entries.emplace_back("w", torch::zeros({2}));  // duplicate key
  EXPECT_THROW(SaveStateDict(path, bad), std::runtime_error);
  StateDict undefined;
  undefined.entries.emplace_back("u", torch::Tensor());
  EXPECT_THROW(SaveStateDict(path, undefined), std::runtime_error);
  EXPECT_TRUE(torch::equal(*LoadStateDict(path).Find("w"), torch::ones({2})));
  // The target is a folder: rename fails, the temp file is removed.
  std::filesystem::create_directories(dir / "folder.pth");
  EXPECT_THROW(SaveStateDict((dir / "folder.pth").string(), sd), std::runtime_error);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

struct TinyNet : torch::nn::Module {
  TinyNet() {
    fc = register_module("fc", torch::nn::Linear(3, 2));
    bn = register_module("bn", torch::nn::BatchNorm1d(2));
  }
  torch::nn::Linear fc{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
};

TEST(CheckpointModule, ModuleStateDictOrder) {
  TinyNet net;
  const StateDict sd = ModuleStateDict(net);
  std::vector<std::string> keys;
  for (const auto& e : sd.entries) keys.push_back(e.first);
  EXPECT_EQ(keys, (std::vector<std::string>{"fc.weight", "fc.bias", "bn.weight", "bn.bias", "bn.running_mean",
                                             "bn.running_var", "bn.num_batches_tracked"}));
  const StateDict renamed = ModuleStateDict(net, [](const std::string& k) {
    return k.rfind("bn.", 0) == 0 ? std::string() : "module." + k;
  });
  ASSERT_EQ(renamed.size(), 2u);
  EXPECT_EQ(renamed.entries[0].first, "module.fc.weight");
  EXPECT_TRUE(renamed.entries[0].second.is_alias_of(net.fc->weight));
}

TEST(CheckpointModule, SaveThenLoadIntoFreshModule) {
  const auto dir = test::ScratchDir("ckpt_module_rt");
  TinyNet a, b;
  {
    torch::NoGradGuard g;
    a.bn->running_mean.fill_(0.25);
    a.bn->num_batches_tracked.fill_(17);
  }
  const std::string path = (dir / "net.pth").string();
  SaveStateDict(path, ModuleStateDict(a));
  const LoadReport r = LoadIntoModule(b, LoadStateDict(path));
  EXPECT_TRUE(r.ok()) << r.Summary();
  EXPECT_EQ(r.Summary(), "all entries matched");
  EXPECT_TRUE(torch::equal(a.fc->weight, b.fc->weight));
  EXPECT_TRUE(torch::equal(b.bn->running_mean, torch::full({2}, 0.25f)));
  EXPECT_EQ(b.bn->num_batches_tracked.item<int64_t>(), 17);
  EXPECT_TRUE(b.fc->weight.requires_grad());  // copied in place, still a parameter
}

TEST(CheckpointModule, ReportsMissingUnexpectedAndMismatched) {
  TinyNet net;
  StateDict sd = ModuleStateDict(TinyNet());
  StateDict file;
  for (auto& [k, t] : sd.entries) {
    if (k == "fc.bias") continue;                                   // missing
    if (k == "bn.weight") t = torch::ones({3});                     // wrong shape
    file.entries.emplace_back(k, t.clone());
  }
  file.entries.emplace_back("head.weight", torch::ones({1}));       // unexpected
  const torch::Tensor before = net.fc->weight.clone();

  try {
    LoadIntoModule(net, file);
    FAIL() << "strict load should throw";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("fc.bias"), std::string::npos) << msg;
    EXPECT_NE(msg.find("head.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("bn.weight: file [3] vs model [2]"), std::string::npos) << msg;
  }
  EXPECT_TRUE(torch::equal(net.fc->weight, before));  // strict failure changes nothing

  const LoadReport r = LoadIntoModule(net, file, nullptr, /*strict=*/false);
  EXPECT_EQ(r.missing, std::vector<std::string>{"fc.bias"});
  EXPECT_EQ(r.unexpected, std::vector<std::string>{"head.weight"});
  ASSERT_EQ(r.mismatched.size(), 1u);
  EXPECT_EQ(r.mismatched[0], "bn.weight: file [3] vs model [2]");
  EXPECT_TRUE(torch::equal(net.fc->weight, *file.Find("fc.weight")));  // the rest is copied

  // rename maps file keys; an empty name drops the entry.
  const LoadReport r2 = LoadIntoModule(net, file, [](const std::string& k) {
    return k == "head.weight" ? std::string() : k == "bn.weight" ? std::string("bn.gamma") : k;
  }, false);
  EXPECT_EQ(r2.unexpected, std::vector<std::string>{"bn.weight (as bn.gamma)"});
  EXPECT_EQ(r2.missing, (std::vector<std::string>{"fc.bias", "bn.weight"}));
}

}  // namespace
}  // namespace animerun::models
