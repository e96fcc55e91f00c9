// The one oneDNN CPU engine of the process, for the sources built with oneDNN's headers
// (ANIMERUN_WITH_DNNL: dnnl_winograd_conv.cpp, dnnl_matmul.cpp).
#pragma once

#ifdef ANIMERUN_WITH_DNNL
#include <dnnl.hpp>

namespace animerun::models {

inline dnnl::engine& DnnlEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

}  // namespace animerun::models
#endif
