# The sanitizer and fuzzing build (packaging/setup.sh sanitize / fuzz, folder build-sanitize):
# every target compiled with AddressSanitizer + UndefinedBehaviorSanitizer (leak checking
# included), any finding fatal; with ANIMERUN_FUZZ also coverage-instrumented so that the
# libFuzzer executables fuzz_<reader> (fuzz/) can be linked from the same objects. clang
# only (libFuzzer comes with it); LibTorch, OpenCV and Qt stay the uninstrumented Debian
# builds, which clang links through libstdc++ like g++ does.
option(ANIMERUN_SANITIZE "Build with ASan + UBSan (clang); see packaging/setup.sh sanitize" OFF)
option(ANIMERUN_FUZZ "Also build the libFuzzer targets fuzz_<reader> (needs ANIMERUN_SANITIZE)" OFF)

if(ANIMERUN_FUZZ AND NOT ANIMERUN_SANITIZE)
  message(FATAL_ERROR "ANIMERUN_FUZZ needs ANIMERUN_SANITIZE=ON (libFuzzer runs under ASan + UBSan)")
endif()
if(ANIMERUN_SANITIZE)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ANIMERUN_SANITIZE needs clang (CMAKE_CXX_COMPILER=clang++-14), not ${CMAKE_CXX_COMPILER_ID}")
  endif()
  # -fno-sanitize-recover: a UBSan report fails the test or fuzz run instead of scrolling by.
  set(ANIMERUN_SANITIZE_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(${ANIMERUN_SANITIZE_FLAGS})
  add_compile_definitions(ANIMERUN_SANITIZE_BUILD=1)  # for the few tests tied to g++'s rounding
  add_link_options(-fsanitize=address,undefined)
  if(ANIMERUN_FUZZ)
    add_compile_options(-fsanitize=fuzzer-no-link)
  endif()
  find_program(ANIMERUN_LLD NAMES ld.lld ld.lld-14)
  if(ANIMERUN_LLD)
    add_link_options(-fuse-ld=lld)  # much faster than ld.bfd on LibTorch-sized links
  endif()
endif()
