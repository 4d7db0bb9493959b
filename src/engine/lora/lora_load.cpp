// engine/lora/lora_load.cpp — from LoadConfig adapters to a bound LoraSet, and merging a set
// into float copies of the weights.
#include <algorithm>
#include <new>

#include "engine/forward.hpp"
#include "engine/lora/lora_adapter.hpp"
#include "engine/weights.hpp"
#include "inference/error.hpp"
#include "kernels/cpu/matmul.hpp"

namespace inference::engine {
namespace {

size_t sz(int64_t n) {
  return static_cast<size_t>(n);
}

}  // namespace

const kernels::WeightView& projection_weight(const LayerWeights& l, Projection p) noexcept {
  switch (p) {
    case Projection::q:
      return l.wq;
    case Projection::k:
      return l.wk;
    case Projection::v:
      return l.wv;
    case Projection::o:
      return l.wo;
    case Projection::gate:
      return l.gate;
    case Projection::up:
      return l.up;
    case Projection::down:
      return l.down;
  }
  return l.wq;
}

LoraSet load_lora_set(std::span<const AdapterConfig> configs, const HParams& hp,
                      bool base_qk_permuted, int32_t n_seq) {
  LoraSet set;
  for (const AdapterConfig& config : configs) {
    if (config.path.empty())
      throw Error(ErrorCode::invalid_argument, "a LoRA adapter path is empty");
    if (!(config.scale >= -kMaxAdapterScale && config.scale <= kMaxAdapterScale))
      throw Error(ErrorCode::invalid_argument, "LoRA adapter " + config.path + ": scale " +
                                                   std::to_string(config.scale) +
                                                   " is outside [-1000, 1000]");
    // The user's scale stays out of the bound adapter: it is per sequence (see LoraSet).
    set.adapters.push_back(
        bind_lora_adapter(read_lora_adapter(config.path), hp, base_qk_permuted, 1.0f));
    set.default_scales.push_back(config.scale);
    set.max_rank = std::max(set.max_rank, set.adapters.back().max_rank);
  }
  set.seq_scales.reserve(sz(n_seq) * set.adapters.size());
  for (int32_t s = 0; s < n_seq; ++s)
    set.seq_scales.insert(set.seq_scales.end(), set.default_scales.begin(),
                          set.default_scales.end());
  return set;
}

void merge_lora_set(const LoraSet& set, ModelWeights& weights,
                    std::vector<std::vector<float>>& storage) {
  for (size_t il = 0; il < weights.layers.size(); ++il) {
    for (int p = 0; p < kProjections; ++p) {
      const bool touched = std::any_of(
          set.adapters.begin(), set.adapters.end(),
          [&](const auto& a) { return a.layers[il][static_cast<size_t>(p)].has_value(); });
      if (!touched) continue;
      auto& view = const_cast<kernels::WeightView&>(
          projection_weight(weights.layers[il], static_cast<Projection>(p)));
      std::vector<float> merged;
      try {
        merged.resize(sz(view.rows * view.cols));
      } catch (const std::bad_alloc&) {
        throw Error(ErrorCode::out_of_memory, "cannot allocate the merged LoRA weights");
      }
      for (int64_t r = 0; r < view.rows; ++r) {
        kernels::dequantize_weight_row(view, r, merged.data() + sz(r * view.cols));
      }
      for (size_t ai = 0; ai < set.adapters.size(); ++ai) {
        const LoraAdapter& adapter = set.adapters[ai];
        const auto& m = adapter.layers[il][static_cast<size_t>(p)];
        if (!m) continue;
        const float scale = adapter.scale * set.default_scales[ai];
        // W[o][i] += s · Σk B[o][k] A[k][i]
        for (int32_t o = 0; o < m->out; ++o) {
          float* row = merged.data() + sz(int64_t{o} * m->in);
          for (int32_t k = 0; k < m->rank; ++k) {
            const float bk = scale * m->b_t[sz(int64_t{k} * m->out + o)];
            const float* a = m->a.data() + sz(int64_t{k} * m->in);
            for (int32_t i = 0; i < m->in; ++i) row[i] += bk * a[i];
          }
        }
      }
      storage.push_back(std::move(merged));
      view.type = formats::GgmlType::F32;
      view.data = storage.back().data();
      view.row_bytes = sz(view.cols) * sizeof(float);
      view.layout = kernels::RowLayout::ggml;
    }
  }
}

}  // namespace inference::engine
