// engine/mlx_weights.cpp — validation and lossless conversion of MLX affine-quantised tensors.
#include "engine/mlx_weights.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstring>

#include "inference/error.hpp"
#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/mlx_affine8.hpp"

namespace inference::engine {
namespace {

using formats::SafetensorsDtype;
using formats::SafetensorsTensor;

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Element i of a scales/biases tensor as float (the data may be unaligned: memcpy).
float read_float(const SafetensorsTensor& t, uint64_t i) {
  if (t.dtype == SafetensorsDtype::F32) {
    float f;
    std::memcpy(&f, t.data.data() + i * 4, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, t.data.data() + i * 2, 2);
  return t.dtype == SafetensorsDtype::F16 ? kernels::fp16_to_fp32(h) : kernels::bf16_to_fp32(h);
}

bool fp16_holds(float f) {
  return kernels::fp16_to_fp32(kernels::fp32_to_fp16(f)) == f;
}

// Per-group scale and bias, read once and checked.
struct Groups {
  std::vector<float> scale, bias;
  bool fp16_exact = true;
};

Groups read_groups(const SafetensorsTensor& scales, const SafetensorsTensor& biases,
                   const std::string& where) {
  Groups g;
  const uint64_t n = scales.n_elements;
  g.scale.resize(n);
  g.bias.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    g.scale[i] = read_float(scales, i);
    g.bias[i] = read_float(biases, i);
    if (!std::isfinite(g.scale[i]) || !std::isfinite(g.bias[i])) {
      throw Error(ErrorCode::invalid_model,
                  where + ": scale or bias of group " + std::to_string(i) + " is not finite");
    }
    g.fp16_exact = g.fp16_exact && fp16_holds(g.scale[i]) && fp16_holds(g.bias[i]);
  }
  return g;
}

// Value j of a row (bits 4 or 8): word j / per_word, bits (j % per_word) * bits upwards.
struct PackedRow {
  const std::byte* words;
  int bits;
  uint32_t at(int64_t j) const {
    const int per_word = 32 / bits;
    uint32_t word;
    std::memcpy(&word, words + (j / per_word) * 4, 4);
    return (word >> ((j % per_word) * bits)) & ((1u << bits) - 1u);
  }
};

void to_q4_1(const PackedRow& row, const float* scale, const float* bias, int64_t cols,
             int64_t group, std::byte* out) {
  auto* blocks = reinterpret_cast<kernels::BlockQ4_1*>(out);
  for (int64_t b = 0; b < cols / kernels::kQK32; ++b) {
    const int64_t g = b * kernels::kQK32 / group;
    kernels::BlockQ4_1& blk = blocks[b];
    blk.d = kernels::fp32_to_fp16(scale[g]);
    blk.m = kernels::fp32_to_fp16(bias[g]);
    const int64_t j0 = b * kernels::kQK32;
    for (int j = 0; j < kernels::kQK32 / 2; ++j) {
      blk.qs[j] = static_cast<uint8_t>(row.at(j0 + j) | (row.at(j0 + j + 16) << 4));
    }
  }
}

void to_mlx_affine8(const PackedRow& row, const float* scale, const float* bias, int64_t cols,
                    int64_t group, std::byte* out) {
  auto* blocks = reinterpret_cast<kernels::BlockMlxAffine8*>(out);
  for (int64_t b = 0; b < cols / kernels::kMlxBlock; ++b) {
    const int64_t g = b * kernels::kMlxBlock / group;
    blocks[b].scale = scale[g];
    blocks[b].bias = bias[g];
    const int64_t j0 = b * kernels::kMlxBlock;
    for (int j = 0; j < kernels::kMlxBlock; ++j) {
      blocks[b].q[j] = static_cast<uint8_t>(row.at(j0 + j));
    }
  }
}

}  // namespace

bool mlx_spec_supported(const MlxQuantSpec& spec) noexcept {
  return (spec.bits == 4 || spec.bits == 8) &&
         (spec.group_size == 32 || spec.group_size == 64 || spec.group_size == 128);
}

MlxConvertedWeight convert_mlx_weight(const SafetensorsTensor& weight,
                                      const SafetensorsTensor& scales,
                                      const SafetensorsTensor& biases, MlxQuantSpec spec,
                                      const std::string& where) {
  if (!mlx_spec_supported(spec)) {
    throw Error(ErrorCode::unsupported,
                where + ": " + weight.name + ": MLX " + std::to_string(spec.bits) +
                    "-bit quantisation with group size " + std::to_string(spec.group_size) +
                    " is not supported (bits 4 or 8, group size 32, 64 or 128)");
  }
  auto invalid = [&](const std::string& what) {
    return Error(ErrorCode::invalid_model, where + ": " + what);
  };
  if (weight.dtype != SafetensorsDtype::U32) {
    throw invalid(weight.name + " has dtype " + std::string(formats::to_string(weight.dtype)) +
                  ", but MLX quantised weights are U32 (it has .scales and .biases)");
  }
  if (weight.shape.size() != 2 || weight.shape[0] <= 0 || weight.shape[1] <= 0) {
    throw invalid(weight.name + " has shape " + shape_text(weight.shape) +
                  ", expected [rows, packed columns]");
  }
  for (const SafetensorsTensor* t : {&scales, &biases}) {
    if (t->dtype != SafetensorsDtype::F16 && t->dtype != SafetensorsDtype::BF16 &&
        t->dtype != SafetensorsDtype::F32) {
      throw invalid(t->name + " has dtype " + std::string(formats::to_string(t->dtype)) +
                    " (F16, BF16 or F32 expected)");
    }
  }
  const int64_t rows = weight.shape[0];
  const int64_t packed = weight.shape[1];
  if (packed > (int64_t{1} << 26)) throw invalid(weight.name + " rows are implausibly long");
  const int64_t cols = packed * (32 / spec.bits);
  const int64_t groups = cols / spec.group_size;
  if (cols % spec.group_size != 0) {
    throw invalid(weight.name + ": " + std::to_string(cols) + " columns (" +
                  std::to_string(packed) + " words of " + std::to_string(spec.bits) +
                  "-bit values) are not a whole number of groups of " +
                  std::to_string(spec.group_size));
  }
  const std::vector<int64_t> expected{rows, groups};
  for (const SafetensorsTensor* t : {&scales, &biases}) {
    if (t->shape != expected) {
      throw invalid(t->name + " has shape " + shape_text(t->shape) + ", expected " +
                    shape_text(expected) + " (" + std::to_string(rows) + " rows x " +
                    std::to_string(cols) + " columns / group size " +
                    std::to_string(spec.group_size) + ")");
    }
  }

  const Groups g = read_groups(scales, biases, where + ": " + scales.name);
  MlxConvertedWeight out;
  out.rows = rows;
  out.cols = cols;
  out.fp16_exact = g.fp16_exact;
  out.type = spec.bits == 4 && g.fp16_exact ? formats::GgmlType::Q4_1 : kernels::kMlxAffine8;
  const size_t row_bytes =
      out.type == formats::GgmlType::Q4_1
          ? static_cast<size_t>(cols / kernels::kQK32) * sizeof(kernels::BlockQ4_1)
          : kernels::mlx_affine8_row_bytes(cols);
  out.data.resize(row_bytes * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const PackedRow row{weight.data.data() + r * packed * 4, static_cast<int>(spec.bits)};
    const float* s = g.scale.data() + r * groups;
    const float* b = g.bias.data() + r * groups;
    std::byte* dst = out.data.data() + static_cast<size_t>(r) * row_bytes;
    if (out.type == formats::GgmlType::Q4_1) {
      to_q4_1(row, s, b, cols, spec.group_size, dst);
    } else {
      to_mlx_affine8(row, s, b, cols, spec.group_size, dst);
    }
  }
  return out;
}

std::vector<float> dequantize_mlx_weight(const MlxConvertedWeight& w) {
  std::vector<float> out(static_cast<size_t>(w.rows * w.cols));
  const size_t row_bytes = w.data.size() / static_cast<size_t>(w.rows);
  for (int64_t r = 0; r < w.rows; ++r) {
    const std::byte* src = w.data.data() + static_cast<size_t>(r) * row_bytes;
    float* dst = out.data() + r * w.cols;
    if (w.type == kernels::kMlxAffine8) {
      kernels::dequantize_row_mlx_affine8(src, dst, w.cols);
    } else {
      kernels::dequantize_row(w.type, src, dst, w.cols);
    }
  }
  return out;
}

void release_mapped_pages(std::span<const std::byte> bytes) noexcept {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  if (bytes.empty() || page == 0) return;
  const auto begin = reinterpret_cast<uintptr_t>(bytes.data());
  const uintptr_t first = (begin + page - 1) / page * page;     // whole pages only: neighbours
  const uintptr_t last = (begin + bytes.size()) / page * page;  // may still be in use
  if (last > first) {
    // MADV_DONTNEED on a read-only file mapping only drops this process's page references.
    madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
  }
}

}  // namespace inference::engine
