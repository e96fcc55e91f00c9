// `animerun weights list|info|convert`: the weights built into the program, what a weights
// file holds, and re-saving one in another storage precision (how the built-in weights are
// packed; docs/training.md).
#include <cstdio>
#include <string>

#include "app/cli/arg_parser.h"
#include "app/cli/command_registry.h"
#include "core/flow/flow_models.h"
#include "core/io/weights_file.h"

namespace animerun::cli {
namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

void PrintInfo(const std::string& name, const io::WeightsInfo& info) {
  std::printf("%s: %lld tensors, %lld values (%.2f M), %.2f MB as stored (%s)\n", name.c_str(),
              static_cast<long long>(info.tensors), static_cast<long long>(info.elements), info.elements / 1e6,
              info.bytes / 1e6, Join(info.dtypes).c_str());
}

int RunList(int argc, char** argv) {
  ArgParser p(argv[0], "List the weights built into this program (usable as --weights builtin:NAME).");
  if (!p.Parse(argc, argv)) return 0;
  int n = 0;
  for (const std::string& network : {std::string("raft-small"), std::string("ant")}) {
    const std::string ref = flow::BuiltinWeightsRef(network);
    if (ref.empty()) continue;
    ++n;
    PrintInfo(ref, io::InspectWeights(ref));
    std::printf("  %s\n", flow::BuiltinWeightsLabel(ref).c_str());
  }
  if (n == 0) std::printf("no built-in weights in this build\n");
  return 0;
}

int RunInfo(int argc, char** argv) {
  std::string in;
  bool keys = false;
  ArgParser p(argv[0], "Describe a weights file (torch.save, zip or legacy) or builtin:NAME.");
  p.AddPositional("FILE", &in, "weights file or builtin:NAME");
  p.AddFlag("--keys", &keys, "also list every key (as stored, 'module.' prefixes kept)");
  if (!p.Parse(argc, argv)) return 0;
  const io::WeightsInfo info = io::InspectWeights(in);
  PrintInfo(in, info);
  const std::string label = flow::BuiltinWeightsLabel(in);
  if (!label.empty()) std::printf("  %s\n", label.c_str());
  if (keys)
    for (const std::string& k : info.keys) std::printf("  %s\n", k.c_str());
  return 0;
}

int RunConvert(int argc, char** argv) {
  io::WeightsConvertOptions o;
  ArgParser p(argv[0], "Re-save a weights file with its floating-point tensors in another precision, keys kept.");
  p.AddPositional("IN", &o.in, "weights file or builtin:NAME");
  p.AddPositional("OUT", &o.out, "output file (torch.save zip format, written atomically)");
  p.Add("--dtype", &o.dtype, "keep, fp32, fp16 or bf16 (networks convert back to fp32 when they load)");
  p.Add("--wrapper", &o.wrapper, "save as {KEY: state dict} (GMFlow and AnT files use 'model'); empty = bare");
  p.SetEpilog("example (the built-in AnT weights, docs/training.md):\n"
              "  animerun weights convert runs/ant/ant_weights_last.pth resources/weights/ant.pth --dtype fp16 "
              "--wrapper model");
  if (!p.Parse(argc, argv)) return 0;
  try {
    o.Check();
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  io::WeightsInfo in;
  const io::WeightsInfo out = io::ConvertWeights(o, &in);  // the input is read once
  PrintInfo(o.in, in);
  PrintInfo(o.out, out);
  return 0;
}

int RunWeights(int argc, char** argv) {
  return RunSubCommands("weights", "Network weights files.",
                        {{"list", "the weights built into this program", RunList},
                         {"info", "what a weights file holds", RunInfo},
                         {"convert", "re-save a weights file in another precision", RunConvert}},
                        argc, argv);
}

}  // namespace

ANIMERUN_REGISTER_COMMAND(weights, "weights", "Built-in weights, weights file info and precision conversion",
                          RunWeights);

}  // namespace animerun::cli
