// formats/memory_estimate.cpp — the `infer fit` formula (see memory_estimate.hpp).
#include "formats/memory_estimate.hpp"

#include <cctype>
#include <fstream>
#include <sstream>
#include <thread>

#include "inference/error.hpp"

namespace inference::formats {

std::optional<KvCacheType> kv_cache_type_from_name(std::string_view name) noexcept {
  if (name == "f32") return KvCacheType::f32;
  if (name == "f16") return KvCacheType::f16;
  if (name == "q8_0") return KvCacheType::q8_0;
  return std::nullopt;
}

std::string_view to_string(KvCacheType type) noexcept {
  switch (type) {
    case KvCacheType::f32:
      return "f32";
    case KvCacheType::f16:
      return "f16";
    case KvCacheType::q8_0:
      return "q8_0";
  }
  return "?";
}

namespace {

// 128-bit arithmetic on byte counts, checked on the way back to 64 bits: hostile headers can
// claim anything. (__extension__: the type is a GCC/Clang extension, not ISO C++.)
__extension__ typedef unsigned __int128 U128;
uint64_t to_u64(U128 v) {
  if (v > UINT64_MAX)
    throw Error(ErrorCode::invalid_argument, "memory estimate exceeds 2^64 bytes");
  return static_cast<uint64_t>(v);
}
U128 u(int64_t v) {
  return static_cast<U128>(v < 0 ? 0 : v);
}

}  // namespace

MemoryEstimate estimate_memory(const ModelSummary& m, const FitOptions& options) {
  auto bad = [](const std::string& what) { throw Error(ErrorCode::invalid_argument, what); };
  MemoryEstimate e;
  e.context = options.context > 0 ? options.context : m.context_length;
  if (options.context < 0) bad("context must be positive");
  if (e.context <= 0) bad(m.path.string() + ": no context length known; pass --ctx");
  if (options.slots <= 0) bad("slots must be positive");
  if (options.batch <= 0) bad("batch must be positive");
  if (options.threads < 0) bad("threads must be positive");
  e.threads = options.threads > 0 ? options.threads
                                  : std::max<int64_t>(1, std::thread::hardware_concurrency());
  if (m.n_layers <= 0 || m.n_kv_heads <= 0 || m.head_dim_k <= 0 || m.head_dim_v <= 0) {
    bad(m.path.string() + ": the model's layer count, KV heads and head size are unknown");
  }
  e.slots = options.slots;
  e.weights_bytes = m.weight_bytes;

  // KV bytes per cached token per layer, ×32 so q8_0's 34/32 stays an integer.
  U128 per_token_x32 = u(m.n_kv_heads) * (u(m.head_dim_k) + u(m.head_dim_v));
  switch (options.kv_type) {
    case KvCacheType::f32:
      per_token_x32 *= 4 * 32;
      break;
    case KvCacheType::f16:
      per_token_x32 *= 2 * 32;
      break;
    case KvCacheType::q8_0:
      per_token_x32 *= 34;
      break;
  }
  const int64_t batch = std::min(e.context, options.batch);
  U128 cells = 0;
  for (int64_t layer = 0; layer < m.n_layers; ++layer) {
    bool sliding = static_cast<size_t>(layer) < m.sliding_layers.size() &&
                   m.sliding_layers[static_cast<size_t>(layer)] && m.sliding_window > 0;
    if (sliding) ++e.sliding_layers;
    cells += sliding ? std::min(u(e.context), u(m.sliding_window) + u(batch)) : u(e.context);
  }
  e.kv_cache_bytes = to_u64(u(options.slots) * cells * per_token_x32 / 32);

  U128 q_dim = u(m.n_heads) * u(m.head_dim_k);
  U128 kv_dim = u(m.n_kv_heads) * u(m.head_dim_k);
  U128 widths = 3 * u(m.n_embd) + 2 * q_dim + 2 * kv_dim + 2 * u(m.n_ff) + 2 * u(m.head_dim_k);
  U128 scratch = 4 * u(batch) * widths + 4 * u(batch) * u(std::max(m.n_embd, m.n_ff)) +
                 4 * u(e.threads) * (u(e.context) + u(m.head_dim_k)) +
                 4 * u(m.vocab_size) * u(options.slots);
  e.scratch_bytes = to_u64(scratch);
  e.total_bytes = to_u64(static_cast<U128>(e.weights_bytes) + e.kv_cache_bytes + e.scratch_bytes);
  return e;
}

uint64_t parse_byte_size(std::string_view text) {
  auto bad = [&] {
    throw Error(ErrorCode::invalid_argument,
                "invalid byte size '" + std::string(text) +
                    "' (examples: 17179869184, 16G, 16GiB, 16GB, 512M)");
  };
  size_t i = 0;
  U128 value = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    value = value * 10 + static_cast<unsigned>(text[i] - '0');
    if (value > UINT64_MAX) bad();
    ++i;
  }
  if (i == 0) bad();
  std::string unit(text.substr(i));
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'B' && unit != "B") {
    unit.pop_back();  // "GB" → decimal, "GIB" → binary
    bool binary = !unit.empty() && unit.back() == 'I';
    if (binary) unit.pop_back();
    if (unit.size() != 1) bad();
    const std::string_view units = "KMGT";
    auto pos = units.find(unit[0]);
    if (pos == std::string_view::npos) bad();
    for (size_t k = 0; k <= pos; ++k) value *= binary ? 1024 : 1000;
  } else if (unit == "B" || unit.empty()) {
  } else if (unit.size() == 1 && std::string_view("KMGT").find(unit[0]) != std::string_view::npos) {
    for (size_t k = 0; k <= std::string_view("KMGT").find(unit[0]); ++k) value *= 1024;
  } else {
    bad();
  }
  if (value > UINT64_MAX) bad();
  return static_cast<uint64_t>(value);
}

std::optional<uint64_t> available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    uint64_t kib = 0;
    std::string unit;
    if (fields >> kib >> unit && unit == "kB") return kib * 1024;
  }
  return std::nullopt;
}

}  // namespace inference::formats
