#include "fuzz/fuzz_target.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <stdexcept>
#include <typeinfo>

namespace animerun::fuzz {
namespace {

bool last_refused = false;

std::map<std::string, TargetFn>& Registry() {
  static std::map<std::string, TargetFn> targets;
  return targets;
}

[[noreturn]] void Finding(const std::string& what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace

bool Accepts(const std::string& origin, const std::function<void()>& parse, bool main) {
  try {
    parse();
    return true;
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    if (!origin.empty() && msg.compare(0, origin.size() + 2, origin + ": ") != 0)
      Finding("error does not name '" + origin + "': " + msg);
    if (main) last_refused = true;
    return false;
  } catch (const std::exception& e) {
    Finding(std::string("unexpected exception ") + typeid(e).name() + " (not a named error): " + e.what());
  } catch (...) {
    Finding("unexpected non-std exception");
  }
}

void Require(bool condition, const std::string& what) {
  if (!condition) Finding("property violated: " + what);
}

bool LastInputRefused() { return last_refused; }
void BeginInput() { last_refused = false; }

Registration::Registration(const char* name, TargetFn fn) { Registry()[name] = fn; }

TargetFn FindTarget(const std::string& name) {
  auto it = Registry().find(name);
  return it == Registry().end() ? nullptr : it->second;
}

std::string TargetNames() {
  std::string out;
  for (const auto& [name, fn] : Registry()) out += (out.empty() ? "" : " ") + name;
  return out;
}

}  // namespace animerun::fuzz
