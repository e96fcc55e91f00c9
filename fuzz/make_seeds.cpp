// `fuzz_runner seeds OUT`: the seed corpus of every fuzz target, made only with the project's
// own generators and writers: `animerun synth`'s generator (frames, .flo, Segment /
// UnmatchedForward / LineArea .npy, SegMatching JSON), the io writers (PFM, KITTI PNG, .npy
// of every dtype, images in every format WriteImage writes), palette extraction, the
// training presets, SaveStateDict and the pickle writer (for the legacy layout, which the
// project reads but never writes). Deterministic: the same files on every run.
//   OUT/<target>/<name>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "core/data/synth.h"
#include "core/io/flow_io.h"
#include "core/io/image_io.h"
#include "core/io/match_json.h"
#include "core/io/npy.h"
#include "core/palette/extract.h"
#include "core/palette/palette.h"
#include "core/train/train_options.h"
#include "core/util/fs.h"
#include "models/common/checkpoint.h"
#include "models/common/pickle_writer.h"
#include "models/common/zip_archive.h"

namespace fs = std::filesystem;
using namespace animerun;

namespace {

void CopyAll(const fs::path& from_dir, const std::string& ext, const fs::path& to_dir, const std::string& prefix) {
  for (const auto& e : fs::recursive_directory_iterator(from_dir)) {
    if (!e.is_regular_file() || e.path().extension() != ext) continue;
    const std::string scene = e.path().parent_path().filename().string();
    fs::copy_file(e.path(), to_dir / (prefix + scene + "_" + e.path().filename().string()),
                  fs::copy_options::overwrite_existing);
  }
}

void Text(const fs::path& p, const std::string& s) { WriteFileAtomic(p, s); }

// A small state dict: the dtypes, an empty and a 0-d tensor, two tensors sharing storage.
models::StateDict SmallState() {
  models::StateDict sd;
  torch::manual_seed(7);
  const torch::Tensor w = torch::randn({4, 3});
  sd.entries.emplace_back("conv.weight", w);
  sd.entries.emplace_back("conv.alias", w.view({12}));
  sd.entries.emplace_back("conv.slice", w.narrow(0, 1, 2));
  sd.entries.emplace_back("bn.running_mean", torch::arange(5, torch::kFloat64));
  sd.entries.emplace_back("bn.num_batches_tracked", torch::tensor(int64_t{12}));
  sd.entries.emplace_back("mask", torch::tensor({true, false, true}));
  sd.entries.emplace_back("half", torch::ones({2, 2}, torch::kHalf));
  sd.entries.emplace_back("bf16", torch::ones({3}, torch::kBFloat16));
  sd.entries.emplace_back("ints", torch::arange(6, torch::kInt32).view({2, 3}).t());
  sd.entries.emplace_back("empty", torch::empty({0, 4}));
  return sd;
}

// The legacy torch.save layout: five pickles (magic, protocol, sys info, the state dict with
// 6-field persistent ids, the storage keys), then each storage as int64 count + bytes.
std::string LegacyCheckpoint(bool with_view, bool with_data = true) {
  namespace pk = models::pickle;
  std::string out;
  // LONG1 of the magic number 0x1950a86a20f9469cfc6c, as Python writes it.
  out += std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
  {
    pk::PickleWriter w;
    w.Int(1001);
    w.Stop();
    out += w.bytes();
  }
  {
    pk::PickleWriter w;
    w.Global("collections", "OrderedDict");
    w.EmptyTuple();
    w.Reduce();
    w.Mark();
    w.Str("protocol_version");
    w.Int(1001);
    w.Str("little_endian");
    w.Bool(true);
    w.SetItems();
    w.Stop();
    out += w.bytes();
  }
  const std::vector<float> values = {1, 2, 3, 4, 5, 6, 7, 8};
  {
    pk::PickleWriter w;
    w.Global("collections", "OrderedDict");
    w.EmptyTuple();
    w.Reduce();
    w.Mark();
    auto tensor = [&](const std::string& name, const std::string& key, bool view, int64_t offset,
                      std::vector<int64_t> sizes, std::vector<int64_t> strides) {
      w.Str(name);
      w.Global("torch._utils", "_rebuild_tensor_v2");
      w.Mark();
      w.Mark();
      w.Str("storage");
      w.Global("torch", "FloatStorage");
      w.Str("0");
      w.Str("cpu");
      w.Int(8);
      if (view) {
        w.Mark();
        w.Str(key);
        w.Int(2);
        w.Int(4);
        w.Tuple();
      } else {
        w.None();
      }
      w.Tuple();
      w.BinPersId();
      w.Int(offset);
      w.Mark();
      for (int64_t s : sizes) w.Int(s);
      w.Tuple();
      w.Mark();
      for (int64_t s : strides) w.Int(s);
      w.Tuple();
      w.Bool(false);
      w.Global("collections", "OrderedDict");
      w.EmptyTuple();
      w.Reduce();
      w.Tuple();
      w.Reduce();
    };
    tensor("weight", "", false, 0, {2, 4}, {4, 1});
    if (with_view) tensor("bias", "view_1", true, 1, {3}, {1});
    w.SetItems();
    w.Stop();
    out += w.bytes();
  }
  // The storage keys as a list ['0']: PROTO 2, MARK, BINUNICODE "0", LIST, STOP (the
  // writer has no LIST opcode).
  out += std::string("\x80\x02(X\x01\x00\x00\x00" "0l.", 11);
  if (!with_data) return out;  // the five pickles alone
  const int64_t count = 8;
  out += std::string(reinterpret_cast<const char*>(&count), 8);
  out += std::string(reinterpret_cast<const char*>(values.data()), values.size() * 4);
  return out;
}

}  // namespace

namespace animerun::fuzz {

int MakeSeeds(const fs::path& out) {
  try {
    const fs::path work = out / ".work";
    fs::remove_all(work);
    data::SynthOptions so;
    so.scenes = 1;
    so.frames = 2;
    so.width = 64;
    so.height = 64;
    so.seed = 3;
    data::GenerateSynthDataset(work / "syn", so);
    const fs::path split = work / "syn" / "test";
    for (const char* t : {"flo", "pfm", "kitti_png", "npy", "match_json", "train_config", "palette_json",
                          "checkpoint_zip", "checkpoint_legacy", "pickle", "image"})
      fs::create_directories(out / t);

    // .flo: the generator's flows, and the writer on edge values.
    CopyAll(split / "Flow", ".flo", out / "flo", "synth_");
    cv::Mat tiny(2, 3, CV_32FC2, cv::Scalar(1.5f, -2.25f));
    tiny.at<cv::Vec2f>(0, 1) = cv::Vec2f(std::numeric_limits<float>::quiet_NaN(), 1e9f);
    io::WriteFlo(out / "flo" / "tiny.flo", tiny);
    io::WriteFlo(out / "flo" / "one.flo", cv::Mat(1, 1, CV_32FC2, cv::Scalar(0, 0)));

    // PFM and KITTI PNG: a synth flow in both.
    const cv::Mat flow = io::ReadFlo(split / "Flow" / "synth_000" / "forward" / "Image0000.flo");
    cv::Mat small;
    cv::resize(flow, small, cv::Size(16, 12), 0, 0, cv::INTER_NEAREST);
    cv::Mat three(small.rows, small.cols, CV_32FC3, cv::Scalar(0, 0, 0));
    const int from_to[] = {0, 0, 1, 1};
    cv::mixChannels(&small, 1, &three, 1, from_to, 2);
    io::WritePfm(out / "pfm" / "flow3.pfm", three);
    cv::Mat grey(5, 7, CV_32FC1);
    cv::randu(grey, -4.f, 4.f);
    io::WritePfm(out / "pfm" / "grey.pfm", grey);
    cv::Mat valid(small.rows, small.cols, CV_8UC1, cv::Scalar(1));
    valid.at<uint8_t>(0, 0) = 0;
    io::WriteKittiFlow(out / "kitti_png" / "flow.png", small, valid);
    io::WriteKittiFlow(out / "kitti_png" / "tiny.png", tiny);

    // .npy: the generator's maps and the writer's dtypes.
    for (const char* folder : {"Segment", "UnmatchedForward", "LineArea"})
      CopyAll(split / folder, ".npy", out / "npy", std::string(folder) + "_");
    io::NpyArray a;
    a.type = io::NpyType::kFloat64;
    a.shape = {2, 2, 3};
    a.data.resize(12 * 8);
    for (int i = 0; i < 12; ++i) {
      const double v = i * 0.5 - 2;
      std::memcpy(a.data.data() + i * 8, &v, 8);
    }
    io::WriteNpy(out / "npy" / "f64_hwc.npy", a);
    a.type = io::NpyType::kBool;
    a.shape = {3, 2};
    a.data = {1, 0, 0, 1, 1, 1};
    io::WriteNpy(out / "npy" / "bool.npy", a);
    io::WriteNpyMat(out / "npy" / "labels64.npy", cv::Mat(3, 4, CV_32SC1, cv::Scalar(7)), true);
    io::WriteNpyMat(out / "npy" / "float_hwc.npy", three);

    // SegMatching JSON.
    CopyAll(split / "SegMatching", ".json", out / "match_json", "synth_");
    io::WriteMatchJson(out / "match_json" / "small.json", {3, -1, 0, 2});

    // Training configs: the presets as SaveTrainConfig writes them, and a preset + override.
    train::SaveTrainConfig((out / "train_config" / "ant-tiny.json").string(), train::TrainPreset("ant-tiny"));
    train::SaveTrainConfig((out / "train_config" / "ant-animerun.json").string(), train::TrainPreset("ant-animerun"));
    Text(out / "train_config" / "preset.json",
         nlohmann::json{{"preset", "ant-tiny"}, {"iterations", 7}, {"lr", 0.001}, {"cache_data", false}}.dump());

    // Palettes extracted from the synth frames.
    palette::PaletteFile pf;
    std::vector<cv::Mat> frames;
    std::vector<std::string> frame_names;
    for (const auto& e : fs::directory_iterator(split / "Frame_Anime" / "synth_000" / "original")) {
      frames.push_back(io::ReadImageRgb(e.path()));
      frame_names.push_back("frames/" + e.path().filename().string());
    }
    palette::ExtractOptions eo;
    eo.threads = 1;
    palette::PaletteGroup g = palette::ExtractPalette(frames, eo);
    g.name = "synth";
    g.style = "disney";
    g.frames = frame_names;
    pf.Upsert(g);
    palette::PaletteGroup empty;
    empty.name = "not extracted";
    empty.frames = {"a.png"};
    pf.Upsert(empty);
    palette::SavePalettes(out / "palette_json" / "palettes.json", pf);

    // Checkpoints: SaveStateDict (zip), the legacy layout, and their pickles.
    models::SaveStateDict((out / "checkpoint_zip" / "small.pth").string(), SmallState());
    models::StateDict one;
    one.entries.emplace_back("w", torch::arange(3, torch::kFloat));
    models::SaveStateDict((out / "checkpoint_zip" / "one.pth").string(), one, "my_model");
    Text(out / "checkpoint_legacy" / "legacy.pt", LegacyCheckpoint(false));
    Text(out / "checkpoint_legacy" / "legacy_view.pt", LegacyCheckpoint(true));
    for (const char* name : {"small.pth", "one.pth"}) {
      const models::ZipReader zip((out / "checkpoint_zip" / name).string());
      for (const auto& e : zip.entries())
        if (e.name.size() > 8 && e.name.compare(e.name.size() - 8, 8, "data.pkl") == 0)
          Text(out / "pickle" / (std::string(name) + ".data.pkl"), zip.ReadString(e));
    }
    Text(out / "pickle" / "legacy_stream.pkl", LegacyCheckpoint(true, false));

    // Images: the synth frames, and WriteImage in every format it writes.
    CopyAll(split / "Frame_Anime", ".png", out / "image", "synth_");
    const cv::Mat rgb = io::ReadImageRgb(split / "contour" / "synth_000" / "Image0000.png");
    cv::Mat rgb_small, grey8;
    cv::resize(rgb, rgb_small, cv::Size(24, 16), 0, 0, cv::INTER_AREA);
    cv::cvtColor(rgb_small, grey8, cv::COLOR_RGB2GRAY);
    for (const char* ext : {".jpg", ".bmp", ".tif", ".webp", ".ppm"}) io::WriteImage(out / "image" / (std::string("small") + ext), rgb_small);
    io::WriteImage(out / "image" / "grey.pgm", grey8);
    cv::Mat rgba(8, 8, CV_8UC4, cv::Scalar(10, 20, 30, 128));
    io::WriteImage(out / "image" / "rgba.png", rgba);
    io::WriteKittiFlow(out / "image" / "sixteen_bit.png", tiny);

    fs::remove_all(work);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_runner seeds: %s\n", e.what());
    return 1;
  }
  for (const auto& d : fs::directory_iterator(out)) {
    size_t n = 0;
    for (const auto& f : fs::directory_iterator(d.path())) n += f.is_regular_file();
    std::printf("seeds %s: %zu files\n", d.path().filename().c_str(), n);
  }
  return 0;
}

}  // namespace animerun::fuzz
