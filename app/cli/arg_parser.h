// A small command-line parser for the subcommands: --name VALUE, --name=VALUE, flags,
// repeated options and positionals, with generated --help. Usage errors throw UsageError.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/util/error.h"

namespace animerun::cli {

class UsageError : public Error {
 public:
  using Error::Error;
};

class ArgParser {
 public:
  // usage: e.g. "animerun synth"; summary: one line shown under it.
  ArgParser(std::string usage, std::string summary);

  // --name VALUE. alias may be "" or a short form like "-o". A default is shown in --help
  // from the variable's value at registration time.
  void Add(const std::string& name, std::string* value, const std::string& help,
           const std::string& alias = "", bool required = false);
  void Add(const std::string& name, int* value, const std::string& help, const std::string& alias = "");
  void Add(const std::string& name, double* value, const std::string& help, const std::string& alias = "");
  // --name VALUE handled by `set` (which throws UsageError on a bad value), for values that
  // are not one plain type, e.g. "--iters N|auto". default_text is shown in --help.
  void AddCustom(const std::string& name, const std::string& metavar, const std::string& default_text,
                 std::function<void(const std::string&)> set, const std::string& help);
  // A flag without value: present -> true.
  void AddFlag(const std::string& name, bool* value, const std::string& help);
  // An option that may be given several times (--set a=1 --set b=2).
  void AddRepeated(const std::string& name, std::vector<std::string>* values, const std::string& help);
  // Positional arguments in order; a list positional takes the rest (min_count at least).
  void AddPositional(const std::string& name, std::string* value, const std::string& help);
  void AddPositionalList(const std::string& name, std::vector<std::string>* values,
                         const std::string& help, size_t min_count = 1);
  // Free text printed at the end of --help (examples, notes).
  void SetEpilog(std::string text) { epilog_ = std::move(text); }

  // Parses argv[first..argc). Returns false when --help was asked for (help is printed to
  // stdout); throws UsageError on unknown options, missing values or missing required ones.
  bool Parse(int argc, char** argv, int first = 1);
  std::string Help() const;

 private:
  struct Option {
    std::string name, alias, help, default_text, metavar;
    bool is_flag = false, required = false, repeated = false, seen = false;
    std::function<void(const std::string&)> set;
  };
  struct Positional {
    std::string name, help;
    std::string* value = nullptr;
    std::vector<std::string>* list = nullptr;
    size_t min_count = 1;
  };
  Option* Find(const std::string& token);

  std::string usage_, summary_, epilog_;
  std::vector<Option> options_;
  std::vector<Positional> positionals_;
};

}  // namespace animerun::cli
