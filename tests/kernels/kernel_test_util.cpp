#include "kernel_test_util.hpp"

#include <cstring>

#include "kernels/cpu/blocks.hpp"
#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/quantize_activation.hpp"

namespace inference::kernels::test {
namespace {

struct Layout {
  int block;
  size_t bytes;
  std::vector<size_t> fp16_fields;  ///< offsets of fp16 scale fields inside a block
};

Layout layout(GgmlType type) {
  switch (type) {
    case GgmlType::F32:
      return {1, 4, {}};
    case GgmlType::F16:
      return {1, 2, {0}};
    case GgmlType::BF16:
      return {1, 2, {}};
    case GgmlType::Q4_0:
      return {32, 18, {0}};
    case GgmlType::Q4_1:
      return {32, 20, {0, 2}};
    case GgmlType::Q5_0:
      return {32, 22, {0}};
    case GgmlType::Q5_1:
      return {32, 24, {0, 2}};
    case GgmlType::Q8_0:
      return {32, 34, {0}};
    case GgmlType::Q8_1:
      return {32, 36, {0, 2}};
    case GgmlType::Q2_K:
      return {256, 84, {80, 82}};
    case GgmlType::Q3_K:
      return {256, 110, {108}};
    case GgmlType::Q4_K:
      return {256, 144, {0, 2}};
    case GgmlType::Q5_K:
      return {256, 176, {0, 2}};
    case GgmlType::Q6_K:
      return {256, 210, {208}};
    case GgmlType::Q8_K:
      return {256, 292, {}};
    default:
      return {1, 0, {}};
  }
}

}  // namespace

size_t row_bytes(GgmlType type, int64_t cols) {
  const Layout l = layout(type);
  return static_cast<size_t>(cols / l.block) * l.bytes;
}

std::vector<uint8_t> random_row(GgmlType type, int64_t cols, std::mt19937& rng) {
  const Layout l = layout(type);
  std::vector<uint8_t> row(row_bytes(type, cols));
  std::uniform_int_distribution<int> byte(0, 255);
  std::normal_distribution<float> normal(0.f, 1.f);
  if (type == GgmlType::F32) {
    for (int64_t i = 0; i < cols; ++i) {
      const float v = normal(rng);
      std::memcpy(row.data() + 4 * i, &v, 4);
    }
    return row;
  }
  if (type == GgmlType::BF16) {
    for (int64_t i = 0; i < cols; ++i) {
      const uint16_t v = fp32_to_bf16(normal(rng));
      std::memcpy(row.data() + 2 * i, &v, 2);
    }
    return row;
  }
  for (auto& b : row) b = static_cast<uint8_t>(byte(rng));
  std::uniform_real_distribution<float> scale(0.001f, 0.05f);
  for (size_t off = 0; off < row.size(); off += l.bytes) {
    for (size_t field : l.fp16_fields) {
      const float v = type == GgmlType::F16 ? normal(rng) : scale(rng);
      const uint16_t h = fp32_to_fp16(v);
      std::memcpy(row.data() + off + field, &h, 2);
    }
  }
  return row;
}

std::vector<float> random_floats(int64_t n, std::mt19937& rng, float scale) {
  std::normal_distribution<float> normal(0.f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = normal(rng);
  return v;
}

std::vector<float> dequantize_activation(GgmlType act_type, const void* data, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  switch (act_type) {
    case GgmlType::Q8_1: {
      const auto* b = static_cast<const BlockQ8_1*>(data);
      for (int64_t i = 0; i < n; ++i) out[i] = fp16_to_fp32(b[i / 32].d) * b[i / 32].qs[i % 32];
      break;
    }
    case GgmlType::Q8_K: {
      const auto* b = static_cast<const BlockQ8_K*>(data);
      for (int64_t i = 0; i < n; ++i) out[i] = b[i / 256].d * b[i / 256].qs[i % 256];
      break;
    }
    default:
      dequantize_row(act_type, data, out.data(), n);
  }
  return out;
}

std::vector<uint8_t> quantize_activation_for(GgmlType weight_type, const float* x, int64_t n) {
  const GgmlType act = activation_type(weight_type);
  std::vector<uint8_t> out(row_bytes(act, n));
  switch (act) {
    case GgmlType::F32:
      std::memcpy(out.data(), x, 4 * static_cast<size_t>(n));
      break;
    case GgmlType::F16:
      quantize_activation_f16(x, out.data(), n);
      break;
    case GgmlType::BF16:
      quantize_activation_bf16(x, out.data(), n);
      break;
    case GgmlType::Q8_0:
      quantize_activation_q8_0(x, out.data(), n);
      break;
    case GgmlType::Q8_1:
      quantize_activation_q8_1(x, out.data(), n);
      break;
    case GgmlType::Q8_K:
      quantize_activation_q8_k(x, out.data(), n);
      break;
    default:
      break;
  }
  return out;
}

std::vector<GgmlType> supported_types() {
  return {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1,
          GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q2_K, GgmlType::Q3_K,
          GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};
}

}  // namespace inference::kernels::test
