# Precompiled <torch/torch.h> for the sources that include LibTorch, directly or through a
# models/ header. Measured on the 2-core machine (g++ 12, LibTorch 2.15, user CPU time): such a
# source takes ~21 s to compile, ~9 s with the PCH; a source without LibTorch takes 3 s, 7.5 s
# with it (loading the 700 MB PCH), so the others skip it. One PCH is built, animerun_models'
# (position-independent code); GCC rejects a PCH built with other -fpic/-fpie settings, so the
# executables compile their LibTorch sources with -fPIC rather than -fPIE, as every source
# that uses Qt already does.

#
# Unity builds (ANIMERUN_UNITY) use it too: parsing LibTorch (with GTest and OpenCV) costs
# 24 s of every batch at -O1, loading the PCH 8.5 s (measured on a test batch's headers), and
# a cold build has about 46 such batches. There every source of a target gets the PCH (a
# batch mixes sources with and without LibTorch anyway), and executables compile with -fPIC
# as a whole. GCC accepts the -O3 PCH in the -O1 test sources (same predefined macros).
set(ANIMERUN_TORCH_PCH "$<$<COMPILE_LANGUAGE:CXX>:<torch/torch.h>>")
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  set(ANIMERUN_USE_TORCH_PCH ON)
elseif(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND ANIMERUN_UNITY)
  # clang (the sanitizer build) with PCH_INSTANTIATE_TEMPLATES off: instantiating
  # LibTorch's templates in the PCH (-fpch-instantiate-templates) fails on types still
  # incomplete at the end of the header.
  set(ANIMERUN_USE_TORCH_PCH ON)
else()
  set(ANIMERUN_USE_TORCH_PCH OFF)
endif()

# The PCH itself, built with animerun_models, whose PCH the other targets reuse.
function(animerun_models_torch_pch target)
  if(ANIMERUN_USE_TORCH_PCH)
    target_precompile_headers(${target} PRIVATE "${ANIMERUN_TORCH_PCH}")
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
      set_target_properties(${target} PROPERTIES PCH_INSTANTIATE_TEMPLATES OFF)
    endif()
  endif()
endfunction()

# True when `file` includes a LibTorch header or a models/ header (they include LibTorch).
function(animerun_includes_torch file out)
  file(STRINGS "${file}" hits REGEX "^#include [<\"](torch/|ATen/|c10/|models/)")
  if(hits)
    set(${out} TRUE PARENT_SCOPE)
  else()
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()

# Gives `target` (created in the current directory) the LibTorch PCH for its sources that
# include LibTorch; the others are marked to skip it. Nothing when none includes it.
function(animerun_use_torch_pch target)
  if(NOT ANIMERUN_USE_TORCH_PCH)
    return()
  endif()
  get_target_property(type ${target} TYPE)
  if(ANIMERUN_UNITY)
    if(type STREQUAL "EXECUTABLE")
      target_compile_options(${target} PRIVATE -fPIC)
    endif()
    set_source_files_properties("${CMAKE_CURRENT_BINARY_DIR}/${target}_autogen/mocs_compilation.cpp"
      PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
    target_precompile_headers(${target} REUSE_FROM animerun_models)
    return()
  endif()
  get_target_property(sources ${target} SOURCES)
  set(any FALSE)
  set(pch_sources)
  foreach(s IN LISTS sources)
    if(NOT s MATCHES "\\.cpp$")
      continue()
    endif()
    get_filename_component(abs "${s}" ABSOLUTE)
    animerun_includes_torch("${abs}" uses)
    if(uses)
      set(any TRUE)
      list(APPEND pch_sources "${abs}")
    else()
      set_source_files_properties("${abs}" PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
    endif()
  endforeach()
  if(NOT any)
    return()
  endif()
  # AUTOMOC's (usually empty) source of the target does not need it either.
  set_source_files_properties("${CMAKE_CURRENT_BINARY_DIR}/${target}_autogen/mocs_compilation.cpp"
    PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
  if(type STREQUAL "EXECUTABLE")
    set_property(SOURCE ${pch_sources} APPEND PROPERTY COMPILE_OPTIONS -fPIC)
  endif()
  target_precompile_headers(${target} REUSE_FROM animerun_models)
endfunction()
