# Precompiled <torch/torch.h> for the sources that include LibTorch, directly or through a
# models/ header. Measured on the 2-core machine (g++ 12, LibTorch 2.15, user CPU time): such a
# source takes ~21 s to compile, ~9 s with the PCH; a source without LibTorch takes 3 s, 7.5 s
# with it (loading the 700 MB PCH), so the others skip it. One PCH is built, animerun_models'
# (position-independent code); GCC rejects a PCH built with other -fpic/-fpie settings, so the
# executables compile their LibTorch sources with -fPIC rather than -fPIE, as every source
# that uses Qt already does.

set(ANIMERUN_TORCH_PCH "$<$<COMPILE_LANGUAGE:CXX>:<torch/torch.h>>")
# GCC only: clang (the sanitizer build) cannot build this PCH, as -fpch-instantiate-templates
# instantiates LibTorch templates over types still incomplete at the end of the header.
# Unity builds (ANIMERUN_UNITY) parse LibTorch once per batch of sources already, so the
# PCH would only add its own build.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND NOT ANIMERUN_UNITY)
  set(ANIMERUN_USE_TORCH_PCH ON)
else()
  set(ANIMERUN_USE_TORCH_PCH OFF)
endif()

# The PCH itself, built with animerun_models, whose PCH the other targets reuse.
function(animerun_models_torch_pch target)
  if(ANIMERUN_USE_TORCH_PCH)
    target_precompile_headers(${target} PRIVATE "${ANIMERUN_TORCH_PCH}")
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
  get_target_property(sources ${target} SOURCES)
  get_target_property(type ${target} TYPE)
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
