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

// Byte counts with checked arithmetic: hostile headers can claim anything, and a wrapped
// product would print a small, wrong answer. Negative inputs count as 0.
struct Bytes {
  uint64_t v = 0;
  Bytes(int64_t value) : v(value < 0 ? 0 : static_cast<uint64_t>(value)) {}  // NOLINT: implicit
  explicit Bytes(uint64_t value, bool) : v(value) {}
};
[[noreturn]] void too_large() {
  throw Error(ErrorCode::invalid_argument, "memory estimate exceeds 2^64 bytes");
}
Bytes operator*(Bytes a, Bytes b) {
  uint64_t r = 0;
  if (__builtin_mul_overflow(a.v, b.v, &r)) too_large();
  return Bytes(r, true);
}
Bytes operator+(Bytes a, Bytes b) {
  uint64_t r = 0;
  if (__builtin_add_overflow(a.v, b.v, &r)) too_large();
  return Bytes(r, true);
}
Bytes min(Bytes a, Bytes b) {
  return a.v < b.v ? a : b;
}

// 128 bits for parsing "20000000000T" without wrapping (a GCC/Clang extension).
__extension__ typedef unsigned __int128 U128;

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

  // KV bytes per cached token per layer, x32 so q8_0's 34/32 stays an integer.
  const int64_t kv_x32 = options.kv_type == KvCacheType::f32   ? 4 * 32
                         : options.kv_type == KvCacheType::f16 ? 2 * 32
                                                               : 34;
  Bytes per_token_x32 = Bytes(m.n_kv_heads) * (Bytes(m.head_dim_k) + Bytes(m.head_dim_v)) * kv_x32;
  const int64_t batch = std::min(e.context, options.batch);
  // Count from the (bounded) per-layer flags, not by looping to n_layers: a hostile header
  // can claim 2^62 layers.
  for (size_t layer = 0; layer < m.sliding_layers.size() && m.sliding_window > 0; ++layer) {
    if (m.sliding_layers[layer] && static_cast<int64_t>(layer) < m.n_layers) ++e.sliding_layers;
  }
  Bytes cells = Bytes(m.n_layers - e.sliding_layers) * e.context +
                Bytes(e.sliding_layers) * min(e.context, Bytes(m.sliding_window) + batch);
  e.kv_cache_bytes = (Bytes(options.slots) * cells * per_token_x32).v / 32;

  Bytes q_dim = Bytes(m.n_heads) * m.head_dim_k;
  Bytes kv_dim = Bytes(m.n_kv_heads) * m.head_dim_k;
  Bytes widths = Bytes(3) * m.n_embd + Bytes(2) * q_dim + Bytes(2) * kv_dim + Bytes(2) * m.n_ff +
                 Bytes(2) * m.head_dim_k;
  Bytes scratch = Bytes(4) * batch * widths + Bytes(4) * batch * std::max(m.n_embd, m.n_ff) +
                  Bytes(4) * e.threads * (Bytes(e.context) + m.head_dim_k) +
                  Bytes(4) * m.vocab_size * options.slots;
  e.scratch_bytes = scratch.v;
  e.total_bytes = (Bytes(e.weights_bytes, true) + Bytes(e.kv_cache_bytes, true) + scratch).v;
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
