#include "engine/lora/lora_adapter.hpp"

#include "kernels/cpu/thread_pool.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "inference/error.hpp"

namespace inference::engine {
namespace {

size_t sz(int64_t n) {
  return static_cast<size_t>(n);
}

std::string tensor_label(const RawLoraAdapter& raw, const RawLoraTensor& t, const char* which) {
  return raw.source + ": layer " + std::to_string(t.layer) + " " + projection_name(t.projection) +
         " lora_" + which;
}

// The matrix as stored, transposed when the format stores the other orientation.
std::vector<float> oriented(const RawLoraTensor& t, int32_t& rows, int32_t& cols) {
  rows = t.rows;
  cols = t.cols;
  if (!t.transposed) return t.values;
  std::vector<float> out(t.values.size());
  for (int32_t r = 0; r < t.rows; ++r) {
    for (int32_t c = 0; c < t.cols; ++c)
      out[sz(int64_t{c} * t.rows + r)] = t.values[sz(int64_t{r} * t.cols + c)];
  }
  std::swap(rows, cols);
  return out;
}

}  // namespace

std::optional<Projection> parse_projection_name(std::string_view module) noexcept {
  if (const auto dot = module.rfind('.'); dot != std::string_view::npos)
    module = module.substr(dot + 1);
  static constexpr std::pair<std::string_view, Projection> kNames[] = {
      {"q_proj", Projection::q},       {"k_proj", Projection::k},
      {"v_proj", Projection::v},       {"o_proj", Projection::o},
      {"gate_proj", Projection::gate}, {"up_proj", Projection::up},
      {"down_proj", Projection::down}, {"attn_q", Projection::q},
      {"attn_k", Projection::k},       {"attn_v", Projection::v},
      {"attn_output", Projection::o},  {"ffn_gate", Projection::gate},
      {"ffn_up", Projection::up},      {"ffn_down", Projection::down},
  };
  for (const auto& [name, p] : kNames) {
    if (module == name) return p;
  }
  return std::nullopt;
}

const char* projection_name(Projection p) noexcept {
  switch (p) {
    case Projection::q:
      return "q_proj";
    case Projection::k:
      return "k_proj";
    case Projection::v:
      return "v_proj";
    case Projection::o:
      return "o_proj";
    case Projection::gate:
      return "gate_proj";
    case Projection::up:
      return "up_proj";
    case Projection::down:
      return "down_proj";
  }
  return "?";
}

int32_t projection_out(const HParams& hp, Projection p) noexcept {
  switch (p) {
    case Projection::q:
      return hp.q_dim();
    case Projection::k:
    case Projection::v:
      return hp.kv_dim();
    case Projection::o:
    case Projection::down:
      return hp.n_embd;
    case Projection::gate:
    case Projection::up:
      return hp.n_ff;
  }
  return 0;
}

int32_t projection_in(const HParams& hp, Projection p) noexcept {
  switch (p) {
    case Projection::o:
      return hp.q_dim();
    case Projection::down:
      return hp.n_ff;
    default:
      return hp.n_embd;
  }
}

void permute_qk_rows(std::vector<float>& rows, int32_t n_heads, int32_t head_dim, int32_t cols,
                     bool to_gguf) {
  std::vector<float> out(rows.size());
  const int32_t half = head_dim / 2;
  for (int32_t h = 0; h < n_heads; ++h) {
    for (int32_t i = 0; i < half; ++i) {
      for (int32_t j = 0; j < 2; ++j) {
        const int64_t gguf_row = int64_t{h} * head_dim + 2 * i + j;
        const int64_t hf_row = int64_t{h} * head_dim + j * half + i;
        const int64_t from = to_gguf ? hf_row : gguf_row;
        const int64_t to = to_gguf ? gguf_row : hf_row;
        std::copy_n(rows.begin() + from * cols, cols, out.begin() + to * cols);
      }
    }
  }
  rows = std::move(out);
}

LoraAdapter bind_lora_adapter(RawLoraAdapter raw, const HParams& hp, bool base_qk_permuted,
                              float user_scale) {
  LoraAdapter adapter;
  adapter.source = raw.source;
  adapter.scale = raw.scale * user_scale;
  adapter.layers.resize(sz(hp.n_layer));
  std::map<std::pair<int32_t, int>, const RawLoraTensor*> b_of;
  for (const RawLoraTensor& b : raw.b) {
    if (!b_of.emplace(std::pair{b.layer, static_cast<int>(b.projection)}, &b).second)
      throw Error(ErrorCode::invalid_model, tensor_label(raw, b, "b") + " appears twice");
  }
  if (raw.a.size() != raw.b.size() || raw.a.empty()) {
    throw Error(ErrorCode::invalid_model, raw.source +
                                              ": an adapter needs one lora_b per lora_a (found " +
                                              std::to_string(raw.a.size()) + " A and " +
                                              std::to_string(raw.b.size()) + " B tensors)");
  }
  for (const RawLoraTensor& a : raw.a) {
    if (a.layer < 0 || a.layer >= hp.n_layer) {
      throw Error(ErrorCode::invalid_argument, tensor_label(raw, a, "a") + ": the model has only " +
                                                   std::to_string(hp.n_layer) + " layers");
    }
    auto it = b_of.find({a.layer, static_cast<int>(a.projection)});
    if (it == b_of.end())
      throw Error(ErrorCode::invalid_model, tensor_label(raw, a, "a") + " has no lora_b");
    const RawLoraTensor& b = *it->second;
    LoraMatrix m;
    int32_t a_rows = 0, a_cols = 0, b_rows = 0, b_cols = 0;
    m.a = oriented(a, a_rows, a_cols);
    std::vector<float> b_rows_major = oriented(b, b_rows, b_cols);
    m.rank = a_rows;
    m.in = a_cols;
    m.out = b_rows;
    const int32_t want_in = projection_in(hp, a.projection);
    const int32_t want_out = projection_out(hp, a.projection);
    if (m.in != want_in || m.out != want_out || b_cols != m.rank || m.rank <= 0) {
      throw Error(ErrorCode::invalid_argument,
                  tensor_label(raw, a, "a") + "/lora_b: shapes A " + std::to_string(a_rows) + "x" +
                      std::to_string(a_cols) + ", B " + std::to_string(b_rows) + "x" +
                      std::to_string(b_cols) + " do not fit this model's " +
                      projection_name(a.projection) + " (" + std::to_string(want_out) + "x" +
                      std::to_string(want_in) + ")");
    }
    const bool qk = a.projection == Projection::q || a.projection == Projection::k;
    if (qk && raw.permuted_qk != base_qk_permuted) {
      const int32_t heads = a.projection == Projection::q ? hp.n_head : hp.n_head_kv;
      permute_qk_rows(b_rows_major, heads, hp.head_dim, m.rank, base_qk_permuted);
    }
    m.b_t.resize(b_rows_major.size());
    for (int64_t o = 0; o < m.out; ++o)
      for (int64_t k = 0; k < m.rank; ++k)
        m.b_t[sz(k * m.out + o)] = b_rows_major[sz(o * m.rank + k)];
    adapter.max_rank = std::max(adapter.max_rank, m.rank);
    auto& slot = adapter.layers[sz(a.layer)][static_cast<size_t>(a.projection)];
    if (slot) throw Error(ErrorCode::invalid_model, tensor_label(raw, a, "a") + " appears twice");
    slot = std::move(m);
  }
  return adapter;
}

namespace {

// Compiled for AVX-512, AVX2 and the baseline, chosen at load by the CPU (GCC function
// multi-versioning). The loops below keep independent lanes with a separate multiply and add
// (ISO C++ mode: no contraction into FMA), so every version gives the same bits.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define INFERENCE_LORA_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define INFERENCE_LORA_CLONES
#endif

// Σ a[i]·b[i] in 16 independent float lanes, which the compiler keeps in SIMD registers (the
// plain sequential sum cannot be vectorised without reordering it). The lane order is fixed, so a
// row gives the same bits whichever thread computes it and whatever else is in the batch.
INFERENCE_LORA_CLONES float dot_lanes(const float* a, const float* b, int32_t n) noexcept {
  constexpr int kLanes = 16;
  float acc[kLanes] = {};
  int32_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += a[i + j] * b[i + j];
  float tail = 0.0f;
  for (; i < n; ++i) tail += a[i] * b[i];
  for (int width = kLanes / 2; width > 0; width /= 2)
    for (int j = 0; j < width; ++j) acc[j] += acc[j + width];
  return acc[0] + tail;
}

// acc[i] = Σk t[k]·b_t[k·out + i] for the `width` outputs of one block, k in order.
INFERENCE_LORA_CLONES void b_block(const float* b_t, int64_t out, const float* t, int32_t r,
                                   int64_t width, float* acc) noexcept {
  std::fill(acc, acc + width, 0.0f);
  for (int32_t k = 0; k < r; ++k) {
    const float* bk = b_t + k * out;
    const float c = t[k];
    for (int64_t i = 0; i < width; ++i) acc[i] += c * bk[i];
  }
}

// Below this many multiply-adds a pool round trip costs more than it saves.
constexpr int64_t kParallelWork = 1 << 15;

template <typename Fn>
void split(kernels::ThreadPool& pool, int64_t count, int64_t work, const Fn& fn) {
  if (count <= 1 || work < kParallelWork || pool.size() == 1) {
    fn(0, count);
    return;
  }
  pool.parallel_for(count, [&fn](int64_t begin, int64_t end) { fn(begin, end); });
}

}  // namespace

void apply_lora(kernels::ThreadPool& pool, const LoraMatrix& m, const float* x, int64_t x_stride,
                int32_t n, const float* scale, float* y, int64_t y_stride, float* tmp) {
  const int32_t r = m.rank;
  const int64_t in = m.in, out = m.out;
  // tmp[t] = s_t · A·x[t]: one dot per (row, rank) pair, all of them split over the pool.
  split(pool, int64_t{n} * r, int64_t{n} * r * in, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      const int64_t t = j / r, k = j % r;
      const float s = scale[t];
      tmp[j] = s == 0.0f ? 0.0f : s * dot_lanes(m.a.data() + sz(k * in), x + t * x_stride, m.in);
    }
  });
  // y[t] += B·tmp[t], output rows split over the pool in blocks of kOutBlock: per block and
  // token, Σk tmp[t][k]·Bᵀ[k][o] over k in order for every o of the block (the lanes are the
  // outputs), then added to y. Each value's order is fixed whatever the split and n.
  constexpr int64_t kOutBlock = 64;
  const int64_t blocks = (out + kOutBlock - 1) / kOutBlock;
  split(pool, blocks, int64_t{n} * out * r, [&](int64_t begin, int64_t end) {
    float acc[kOutBlock];
    for (int64_t blk = begin; blk < end; ++blk) {
      const int64_t o0 = blk * kOutBlock, width = std::min(kOutBlock, out - o0);
      for (int32_t t = 0; t < n; ++t) {
        if (scale[t] == 0.0f) continue;
        b_block(m.b_t.data() + o0, out, tmp + sz(int64_t{t} * r), r, width, acc);
        float* yr = y + t * y_stride + o0;
        for (int64_t i = 0; i < width; ++i) yr[i] += acc[i];
      }
    }
  });
}

}  // namespace inference::engine
