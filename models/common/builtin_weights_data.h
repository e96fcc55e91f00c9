// The weight files embedded in the binary, as the build found them in resources/weights/.
// Defined by a source file that models/CMakeLists.txt generates (the bytes come in through
// the assembler's .incbin, so that megabytes of weights cost no compile time).
#pragma once

#include <cstddef>
#include <vector>

namespace animerun::models {

struct EmbeddedBlob {
  const char* name;            // the file name without .pth
  const unsigned char* data;
  size_t size;
};

const std::vector<EmbeddedBlob>& EmbeddedWeightBlobs();

}  // namespace animerun::models
