// The one exception type the engine throws for bad input or failed I/O.
// Messages name the file (when there is one) and the problem, so that the CLI and
// the GUI can show them as they are.
#pragma once

#include <stdexcept>
#include <string>

namespace animerun {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws Error("<path>: <what>").
[[noreturn]] inline void ThrowFileError(const std::string& path, const std::string& what) {
  throw Error(path + ": " + what);
}

// Throws Error(what) when cond is false. Used by options' Check().
inline void Require(bool cond, const std::string& what) {
  if (!cond) throw Error(what);
}

}  // namespace animerun
