// What each optical-flow network says about itself, in one table: its family, whether it
// refines iteratively and how many progress steps one Estimate reports, the official
// checkpoint files its loader reads, the precisions it runs in, and how to create it.
// The engine (core/flow/flow_models.h) and through it the GUI and the CLI read this table
// instead of knowing network names. Torch-free header: only the .cpp sees the networks.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace animerun::models {

class FlowModel;

struct FlowModelInfo {
  std::string name;                          // "raft", "raft-small", "gma", ...: what the CLI and GUI use
  std::vector<std::string> aliases;          // other accepted names ("pwc")
  std::string family;                        // "raft", "gma", "gmflow", "pwcnet"
  std::string title;                         // for people: "RAFT (Teed & Deng, ECCV 2020)"
  bool iterative = false;                    // refines iteratively: the iteration count applies
  int default_iterations = 0;                // for iterative networks (AnimeRun evaluates with 32); 0 otherwise
  int fixed_steps = 0;                       // progress steps per Estimate of a non-iterative network
  std::string step_unit;                     // what a step is called in progress messages: "iteration", "step"
  std::vector<std::string> checkpoint_files;  // the official release files the loader reads
  std::string checkpoint_source;             // where they are published
  std::vector<std::string> precisions;       // "fp32", "bf16", "fp16" (CUDA)
  std::unique_ptr<FlowModel> (*create)() = nullptr;  // a randomly initialised network, CPU, eval mode

  // Progress steps one Estimate reports (FlowStepFn): iterations for iterative networks.
  int Steps(int iterations) const { return iterative ? iterations : fixed_steps; }
  bool SupportsPrecision(const std::string& precision) const;
  // "raft-things.pth or raft-sintel.pth from princeton-vl/RAFT (download_models.sh)".
  std::string CheckpointHint() const;
};

// Every network, in menu order.
const std::vector<FlowModelInfo>& FlowModelRegistry();
// By name or alias; nullptr when unknown.
const FlowModelInfo* FindFlowModel(const std::string& name);

}  // namespace animerun::models
