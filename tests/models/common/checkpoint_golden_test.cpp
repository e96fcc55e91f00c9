// The checkpoint reader on the golden checkpoints made by the official Python code: every
// format loads with the right keys, shapes, aliasing and values; truncated and corrupted
// copies throw an error naming the file instead of crashing.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "models/common/checkpoint.h"
#include "test_paths.h"

namespace animerun::models {
namespace {

std::string Golden(const std::string& rel) { return (test::GoldenDir() / rel).string(); }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<int64_t> Shape(const StateDict& sd, const std::string& key) {
  const torch::Tensor* t = sd.Find(key);
  if (!t) return {-1};
  return t->sizes().vec();
}

// The fixtures round every float to bfloat16: the low 16 bits of each float32 are zero.
// Checks that every float tensor survived the load bit for bit in that respect, and is
// not all zeros (which a wrong offset into the data would likely give for some tensor).
void ExpectBfloat16Representable(const StateDict& sd, const std::string& name) {
  int64_t floats = 0;
  for (const auto& [key, t] : sd.entries) {
    if (t.scalar_type() != torch::kFloat) continue;
    ++floats;
    const torch::Tensor bits = t.contiguous().view(torch::kInt32);
    EXPECT_EQ(bits.bitwise_and(0xFFFF).abs().sum().item<int64_t>(), 0) << name << " " << key;
    EXPECT_TRUE(torch::isfinite(t).all().item<bool>()) << name << " " << key;
  }
  EXPECT_GT(floats, 0) << name;
}

TEST(CheckpointGolden, RaftZipOrderedDictWithModulePrefix) {
  ANIMERUN_REQUIRE_GOLDEN();
  const StateDict sd = LoadStateDict(Golden("raft/raft.pth"));
  ASSERT_EQ(sd.size(), 179u);
  EXPECT_EQ(sd.entries.front().first, "fnet.conv1.weight");  // file order, prefix stripped
  EXPECT_EQ(sd.entries.back().first, "update_block.mask.2.bias");
  EXPECT_EQ(Shape(sd, "fnet.conv1.weight"), (std::vector<int64_t>{64, 3, 7, 7}));
  EXPECT_EQ(Shape(sd, "update_block.mask.2.bias"), (std::vector<int64_t>{576}));
  // Values read with Python's zipfile/struct from raft/data/0.
  const torch::Tensor w = sd.Find("fnet.conv1.weight")->flatten();
  EXPECT_EQ(w[0].item<float>(), 0.0123291015625f);
  EXPECT_EQ(w[1].item<float>(), 0.038330078125f);
  EXPECT_EQ(w[2].item<float>(), -0.0028076171875f);
  EXPECT_NEAR(w.sum(torch::kDouble).item<double>(), -4.545592039823532, 1e-9);
  ExpectBfloat16Representable(sd, "raft");

  // BatchNorm counters are int64, the rest float32.
  EXPECT_EQ(sd.Find("cnet.layer2.0.norm3.num_batches_tracked")->scalar_type(), torch::kLong);

  // norm3 is registered twice (as itself and as downsample.1): one storage, two names.
  for (const char* layer : {"layer2", "layer3"}) {
    for (const char* p : {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}) {
      const std::string a = std::string("cnet.") + layer + ".0.norm3." + p;
      const std::string b = std::string("cnet.") + layer + ".0.downsample.1." + p;
      ASSERT_TRUE(sd.Contains(a) && sd.Contains(b)) << a;
      EXPECT_TRUE(sd.Find(a)->is_alias_of(*sd.Find(b))) << a;
      EXPECT_TRUE(torch::equal(*sd.Find(a), *sd.Find(b))) << a;
    }
  }
  EXPECT_FALSE(sd.Find("cnet.layer2.0.norm1.weight")->is_alias_of(*sd.Find("cnet.layer2.0.norm3.weight")));
}

TEST(CheckpointGolden, KeepsModulePrefixWhenAsked) {
  ANIMERUN_REQUIRE_GOLDEN();
  CheckpointLoadOptions opt;
  opt.strip_module_prefix = false;
  const StateDict sd = LoadStateDict(Golden("raft-small/raft-small.pth"), opt);
  ASSERT_EQ(sd.size(), 106u);
  EXPECT_EQ(sd.entries.front().first, "module.fnet.conv1.weight");
  EXPECT_EQ(Shape(sd, "module.fnet.conv1.weight"), (std::vector<int64_t>{32, 3, 7, 7}));
  ExpectBfloat16Representable(sd, "raft-small");
}

TEST(CheckpointGolden, GmaAndGmflow) {
  ANIMERUN_REQUIRE_GOLDEN();
  const StateDict gma = LoadStateDict(Golden("gma/gma.pth"));
  EXPECT_EQ(gma.size(), 185u);
  EXPECT_EQ(Shape(gma, "att.pos_emb.rel_width.weight"), (std::vector<int64_t>{319, 128}));
  EXPECT_EQ(gma.Find("update_block.aggregator.gamma")->item<float>(), 0.5f);
  ExpectBfloat16Representable(gma, "gma");

  // {'model': OrderedDict} without prefix.
  const StateDict gmf = LoadStateDict(Golden("gmflow/gmflow.pth"));
  EXPECT_EQ(gmf.size(), 123u);
  EXPECT_EQ(gmf.entries.front().first, "backbone.conv1.weight");
  EXPECT_EQ(Shape(gmf, "upsampler.2.bias"), (std::vector<int64_t>{576}));
  ExpectBfloat16Representable(gmf, "gmflow");
  const StateDict gmr = LoadStateDict(Golden("gmflow-refine/gmflow-refine.pth"));
  EXPECT_EQ(gmr.size(), 124u);
  EXPECT_EQ(Shape(gmr, "upsampler.2.bias"), (std::vector<int64_t>{144}));
  ExpectBfloat16Representable(gmr, "gmflow-refine");

  // Without the wrapper key the dict holds no tensors: a clear error.
  CheckpointLoadOptions opt;
  opt.wrapper_keys.clear();
  try {
    LoadStateDict(Golden("gmflow/gmflow.pth"), opt);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("gmflow.pth"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not a tensor"), std::string::npos) << e.what();
  }
}

TEST(CheckpointGolden, PwcLegacyFormat) {
  ANIMERUN_REQUIRE_GOLDEN();
  const StateDict sd = LoadStateDict(Golden("pwc/pwc.pytorch"));
  ASSERT_EQ(sd.size(), 126u);
  EXPECT_EQ(sd.entries.front().first, "moduleExtractor.moduleOne.0.weight");
  EXPECT_EQ(sd.entries.back().first, "moduleRefiner.moduleMain.12.bias");
  EXPECT_EQ(Shape(sd, "moduleExtractor.moduleOne.0.weight"), (std::vector<int64_t>{16, 3, 3, 3}));
  // The raw storages follow in the key list's order, not the pickle's: the first one
  // in the file belongs to moduleTwo.0.bias (values read with Python's struct).
  const torch::Tensor b = *sd.Find("moduleExtractor.moduleTwo.0.bias");
  ASSERT_EQ(b.numel(), 32);
  EXPECT_EQ(b[0].item<float>(), 0.000362396240234375f);
  EXPECT_EQ(b[1].item<float>(), -0.030029296875f);
  EXPECT_EQ(b[2].item<float>(), 0.08203125f);
  EXPECT_EQ(b[3].item<float>(), -0.07470703125f);
  ExpectBfloat16Representable(sd, "pwc");
}

TEST(CheckpointGolden, AntModelBesideConfigAndEpoch) {
  ANIMERUN_REQUIRE_GOLDEN();
  const StateDict sd = LoadStateDict(Golden("ant/ant.pt"));
  EXPECT_EQ(sd.size(), 305u);
  EXPECT_EQ(sd.entries.front().first, "bin_score");
  EXPECT_EQ(sd.Find("bin_score")->dim(), 0);
  EXPECT_EQ(sd.Find("bin_score")->item<float>(), 0.30078125f);  // 0.3 rounded to bfloat16
  EXPECT_EQ(Shape(sd, "segment_desc.encoder.layer3.bias"), (std::vector<int64_t>{128}));
  ExpectBfloat16Representable(sd, "ant");
}

// Cuts a golden file at several offsets: each copy must throw an error naming its path.
void ExpectTruncationsThrow(const std::string& rel, const std::string& scratch_name) {
  const std::string bytes = ReadAll(Golden(rel));
  ASSERT_GT(bytes.size(), 1000u);
  const auto dir = test::ScratchDir(scratch_name);
  const size_t n = bytes.size();
  for (size_t cut : {size_t{0}, size_t{1}, size_t{3}, size_t{40}, size_t{300}, n / 3, n / 2, n - 1000, n - 23,
                     n - 1}) {
    const std::string path = (dir / ("cut_" + std::to_string(cut))).string();
    WriteAll(path, bytes.substr(0, cut));
    try {
      LoadStateDict(path);
      ADD_FAILURE() << rel << " cut at " << cut << " loaded";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
}

TEST(CheckpointGolden, TruncatedZipThrows) {
  ANIMERUN_REQUIRE_GOLDEN();
  ExpectTruncationsThrow("raft-small/raft-small.pth", "ckpt_trunc_zip");
}

TEST(CheckpointGolden, TruncatedLegacyThrows) {
  ANIMERUN_REQUIRE_GOLDEN();
  ExpectTruncationsThrow("pwc/pwc.pytorch", "ckpt_trunc_legacy");
}

TEST(CheckpointGolden, CorruptZipBytesDetected) {
  ANIMERUN_REQUIRE_GOLDEN();
  const std::string bytes = ReadAll(Golden("raft-small/raft-small.pth"));
  const auto dir = test::ScratchDir("ckpt_corrupt_zip");
  // A byte of the pickle and a byte of tensor data: both caught by the CRC-32 check.
  const size_t in_pickle = bytes.find("collections\nOrderedDict");
  ASSERT_NE(in_pickle, std::string::npos);
  for (size_t pos : {in_pickle + 3, bytes.size() / 2}) {
    std::string bad = bytes;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x5A);
    const std::string path = (dir / ("flip_" + std::to_string(pos))).string();
    WriteAll(path, bad);
    try {
      LoadStateDict(path);
      ADD_FAILURE() << "flip at " << pos << " went unnoticed";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("CRC"), std::string::npos) << e.what();
    }
  }
  // Flips in the headers and the directory: an error naming the file, or (for bytes
  // nobody reads, such as timestamps) a normal load. Never a crash.
  std::mt19937 rng(7);
  const size_t dir_start = bytes.rfind(std::string("PK\x01\x02", 4), bytes.size() - 1) - 3000;
  for (int k = 0; k < 24; ++k) {
    std::string bad = bytes;
    const size_t pos = k < 12 ? rng() % 200 : dir_start + rng() % (bytes.size() - dir_start);
    bad[pos] = static_cast<char>(rng() % 256);
    const std::string path = (dir / ("rand_" + std::to_string(k))).string();
    WriteAll(path, bad);
    try {
      const StateDict sd = LoadStateDict(path);
      EXPECT_EQ(sd.size(), 106u);
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
}

TEST(CheckpointGolden, CorruptLegacyBytesNeverCrash) {
  ANIMERUN_REQUIRE_GOLDEN();
  const std::string bytes = ReadAll(Golden("pwc/pwc.pytorch"));
  const auto dir = test::ScratchDir("ckpt_corrupt_legacy");
  // The legacy format has no checksum: a flip in the pickles must be caught or give some
  // state dict, never a crash.
  std::mt19937 rng(11);
  const size_t pickle_end = bytes.find("moduleRefiner.moduleMain.12.bias") + 200;
  for (int k = 0; k < 12; ++k) {
    std::string bad = bytes;
    const size_t pos = rng() % pickle_end;
    bad[pos] = static_cast<char>(rng() % 256);
    const std::string path = (dir / ("rand_" + std::to_string(k))).string();
    WriteAll(path, bad);
    try {
      LoadStateDict(path);
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace animerun::models
