// Reading and writing PyTorch `torch.save` files without Python, safely.
//
// Reads the zip format (archive/data.pkl + archive/data/<key>) and the legacy pre-1.6
// format (magic number, protocol, sys info, pickle, storage keys, raw storages) with a
// restricted unpickler: only the globals a state dict needs are accepted
// (collections.OrderedDict, torch._utils._rebuild_tensor(_v2), torch.*Storage,
// torch._utils._rebuild_parameter); any other global is refused, or, when it sits in an
// entry the caller does not need (an EasyDict config beside 'model'), that entry is
// skipped. Loading a file never runs code.
//
// Limits (checkpoints come from the internet): tensors are only ever backed by bytes the
// file holds (a storage must be as large as the size its pickle declares, checked before
// anything is allocated), so memory use is bounded by the file's size plus the pickle
// limits of pickle_reader.h (kMaxPickleValues, kMaxPickleCopiedItems) and the zip
// limits of zip_archive.h.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace animerun::models {

// An ordered state dict as stored (keys in file order). Tensors that shared one storage in
// the file (RAFT's norm3 / downsample.1 aliases) share it here too.
struct StateDict {
  std::vector<std::pair<std::string, torch::Tensor>> entries;

  const torch::Tensor* Find(const std::string& key) const;
  bool Contains(const std::string& key) const { return Find(key) != nullptr; }
  size_t size() const { return entries.size(); }
};

struct CheckpointLoadOptions {
  // When the top-level object is a dict holding a state dict under one of these keys, that
  // entry is returned ({'model': ...} for GMFlow and AnT, {'state_dict': ...} elsewhere).
  std::vector<std::string> wrapper_keys = {"model", "state_dict", "model_state_dict", "net"};
  // Strip a leading "module." (nn.DataParallel) from every key.
  bool strip_module_prefix = true;
};

// Loads the state dict of a torch.save file. Throws std::runtime_error whose message names
// the file and the problem (not a checkpoint, truncated, a refused global, no tensors).
// "builtin:NAME" reads the weights compiled into the binary (builtin_weights.h).
StateDict LoadStateDict(const std::string& path, const CheckpointLoadOptions& options = {});
// The same for a checkpoint already in memory (the fuzz targets); origin stands for the
// path in error messages.
StateDict LoadStateDictFromMemory(const void* data, size_t size, const std::string& origin,
                                  const CheckpointLoadOptions& options = {});

// Saves a state dict in the zip format that torch.load (1.6+) reads, as an OrderedDict
// (the shape torch.save(model.state_dict()) makes), or, with wrapper_key, as a dict holding
// it under that key (torch.save({'model': state_dict}): GMFlow's and AnT's release files).
// Tensors are saved contiguous, on CPU, keeping their dtype. Written atomically (temp
// file + rename).
void SaveStateDict(const std::string& path, const StateDict& state, const std::string& prefix = "",
                   const std::string& wrapper_key = "");

// What LoadIntoModule found, by name.
struct LoadReport {
  std::vector<std::string> missing;      // module parameters/buffers absent from the file
  std::vector<std::string> unexpected;   // file entries that match nothing in the module
  std::vector<std::string> mismatched;   // "name: file [a, b] vs model [c, d]"
  bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string Summary() const;            // human-readable, one line per problem
};

// Copies a state dict into a module's named parameters and buffers. rename maps a file key
// to the module's key (empty string drops the entry); identity when null. With strict, any
// problem throws std::runtime_error carrying Summary(); otherwise the report is returned
// and matching entries are still copied.
LoadReport LoadIntoModule(torch::nn::Module& module, const StateDict& state,
                          const std::function<std::string(const std::string&)>& rename = nullptr,
                          bool strict = true);

// The module's parameters and buffers as a StateDict (for SaveStateDict), with an inverse
// rename applied (module key -> file key).
StateDict ModuleStateDict(const torch::nn::Module& module,
                          const std::function<std::string(const std::string&)>& rename = nullptr);

}  // namespace animerun::models
