// perf/model_traffic.cpp — see model_traffic.hpp.
#include "perf/model_traffic.hpp"

namespace inference::perf {

std::string tensor_kind(std::string_view name) {
  if (name.rfind("blk.", 0) == 0) {
    const auto dot = name.find('.', 4);
    if (dot != std::string_view::npos) name.remove_prefix(dot + 1);
  }
  for (std::string_view suffix : {".weight", ".bias"}) {
    if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
      const bool bias = suffix == ".bias";
      name.remove_suffix(suffix.size());
      return std::string(name) + (bias ? ".bias" : "");
    }
  }
  return std::string(name);
}

ModelTraffic model_traffic(const formats::GgufFile& file) {
  ModelTraffic t;
  t.tied_output = file.find_tensor("output.weight") == nullptr;
  for (const auto& tensor : file.tensors()) {
    uint64_t bytes = tensor.n_bytes;
    std::string kind = tensor_kind(tensor.name);
    if (tensor.name == "token_embd.weight") {
      if (t.tied_output) {
        kind = "output (tied token_embd)";
      } else {
        const uint64_t rows = tensor.n_rows();
        bytes = rows > 0 ? tensor.n_bytes / rows : 0;
      }
    }
    t.bytes_per_pass += bytes;
    t.bytes_by_kind[kind] += bytes;
  }
  return t;
}

uint64_t kv_cache_bytes_f16(const formats::GgufFile& file, int64_t n_ctx) {
  return kv_cache_bytes(file, n_ctx, formats::KvCacheType::f16);
}

uint64_t kv_cache_bytes(const formats::GgufFile& file, int64_t n_ctx, formats::KvCacheType type) {
  const auto n_layer = file.arch_int("block_count").value_or(0);
  const auto n_head = file.arch_int("attention.head_count").value_or(0);
  const auto n_head_kv = file.arch_int("attention.head_count_kv").value_or(n_head);
  const auto n_embd = file.arch_int("embedding_length").value_or(0);
  const auto head_dim =
      file.arch_int("attention.key_length").value_or(n_head > 0 ? n_embd / n_head : 0);
  if (n_layer <= 0 || n_head_kv <= 0 || head_dim <= 0 || n_ctx <= 0) return 0;
  // Bytes per 32 elements: Q8_0 stores 32 int8 and an F16 scale.
  const uint64_t bytes_x32 = type == formats::KvCacheType::f32   ? 128
                             : type == formats::KvCacheType::f16 ? 64
                                                                 : 34;
  return static_cast<uint64_t>(n_layer) * static_cast<uint64_t>(n_ctx) *
         static_cast<uint64_t>(n_head_kv) * static_cast<uint64_t>(head_dim) * 2 /*K,V*/ *
         bytes_x32 / 32;
}

}  // namespace inference::perf
