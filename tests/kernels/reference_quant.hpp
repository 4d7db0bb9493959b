// The llama.cpp-quantised reference tensors of testdata/quant/<TYPE>.gguf, read through the
// gguf-py header dump beside each file. Shared by the dequantiser and quantiser tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cpu/matmul.hpp"

namespace inference::kernels::test {

struct ReferenceQuantTensor {
  std::string name;  ///< group name: also the stem of source/<name>.f32 and <TYPE>/<name>.f32
  GgmlType type = GgmlType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_bytes = 0;
  const char* data = nullptr;  ///< rows × row_bytes bytes inside ReferenceQuantFile::bytes
};

struct ReferenceQuantFile {
  std::string bytes;  ///< the whole .gguf
  std::vector<ReferenceQuantTensor> tensors;
};

/// Loads testdata/quant/<type_name>.gguf; throws std::runtime_error if a tensor's range is
/// outside the file.
ReferenceQuantFile load_reference_quant(const std::string& type_name);

}  // namespace inference::kernels::test
