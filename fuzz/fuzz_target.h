// One fuzz target per reader of outside data (see docs/fuzzing.md). A target is written
// once with ANIMERUN_FUZZ_TARGET(name) { ... } and builds two ways:
//  - with libFuzzer (ANIMERUN_LIBFUZZER, the sanitizer build): the function is
//    LLVMFuzzerTestOneInput of the executable fuzz_<name>;
//  - without (any build with tests): it registers itself in fuzz_runner, which replays saved
//    inputs (fuzz/regressions/<name>/, the seed corpus) through it, so every input that
//    ever crashed stays a test in every build.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace animerun::fuzz {

using TargetFn = int (*)(const uint8_t* data, size_t size);

// Runs parse(). A reader may refuse its input only with the error the project promises:
// an exception derived from std::runtime_error (animerun::Error, or the models' errors)
// whose message starts with "<origin>: " when origin is given (the file it names). Any other
// exception (a library's own, std::bad_alloc, std::length_error, ...) or a message that
// does not name the origin aborts: that is a finding. Returns false when the input was
// refused. main: this is the reader proper (not a later conversion that may legitimately
// refuse a valid file, such as float data offered as a label map); LastInputRefused()
// reports refusals of main steps only.
bool Accepts(const std::string& origin, const std::function<void()>& parse, bool main = true);

// A property every accepted input must have; aborts with the message when violated.
void Require(bool condition, const std::string& what);

// Whether the last input had a main step refused (Accepts returned false); fuzz_runner run
// --expect-valid uses it to prove that the seed corpus reaches the success paths.
bool LastInputRefused();
void BeginInput();

struct Registration {
  Registration(const char* name, TargetFn fn);
};
TargetFn FindTarget(const std::string& name);
std::string TargetNames();

}  // namespace animerun::fuzz

#ifdef ANIMERUN_LIBFUZZER
#define ANIMERUN_FUZZ_TARGET(name)                                             \
  static int AnimerunFuzz_##name(const uint8_t* data, size_t size);            \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {    \
    ::animerun::fuzz::BeginInput();                                            \
    return AnimerunFuzz_##name(data, size);                                    \
  }                                                                            \
  static int AnimerunFuzz_##name(const uint8_t* data, size_t size)
#else
#define ANIMERUN_FUZZ_TARGET(name)                                             \
  static int AnimerunFuzz_##name(const uint8_t* data, size_t size);            \
  static const ::animerun::fuzz::Registration animerun_fuzz_registration_##name( \
      #name, AnimerunFuzz_##name);                                             \
  static int AnimerunFuzz_##name(const uint8_t* data, size_t size)
#endif
