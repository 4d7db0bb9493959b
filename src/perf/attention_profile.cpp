// perf/attention_profile.cpp — see attention_profile.hpp.
#include "perf/attention_profile.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "inference/error.hpp"
#include "kernels/cpu/attention_decode.hpp"
#include "kernels/cpu/fp16.hpp"

namespace inference::perf {
namespace {

using Clock = std::chrono::steady_clock;

struct Shapes {
  int64_t n_layer = 0, n_head = 0, n_head_kv = 0, head_dim = 0;
};

Shapes shapes_of(const formats::GgufFile& file) {
  Shapes s;
  s.n_layer = file.arch_int("block_count").value_or(0);
  s.n_head = file.arch_int("attention.head_count").value_or(0);
  s.n_head_kv = file.arch_int("attention.head_count_kv").value_or(s.n_head);
  const auto n_embd = file.arch_int("embedding_length").value_or(0);
  s.head_dim = file.arch_int("attention.key_length").value_or(s.n_head > 0 ? n_embd / s.n_head : 0);
  if (s.n_layer <= 0 || s.n_head <= 0 || s.n_head_kv <= 0 || s.head_dim <= 0 ||
      s.n_head % s.n_head_kv != 0) {
    throw Error(ErrorCode::invalid_model, "attention profile: the file lacks attention shapes");
  }
  return s;
}

size_t row_bytes(formats::KvCacheType type, int64_t hd) {
  switch (type) {
    case formats::KvCacheType::q8_0:
      return kernels::q8_0_row_bytes(hd);
    case formats::KvCacheType::f16:
      return static_cast<size_t>(hd) * 2;
    case formats::KvCacheType::f32:
      break;
  }
  return static_cast<size_t>(hd) * 4;
}

void store_row(formats::KvCacheType type, const float* x, int64_t hd, std::byte* out) {
  if (type == formats::KvCacheType::q8_0) {
    kernels::quantize_row_q8_0_kv(x, out, hd);
  } else if (type == formats::KvCacheType::f16) {
    auto* h = reinterpret_cast<uint16_t*>(out);
    for (int64_t i = 0; i < hd; ++i) h[i] = kernels::fp32_to_fp16(x[i]);
  } else {
    std::memcpy(out, x, static_cast<size_t>(hd) * 4);
  }
}

}  // namespace

AttentionProfile profile_attention(const formats::GgufFile& file, kernels::ThreadPool& pool,
                                   int depth, formats::KvCacheType type, int reps) {
  const Shapes s = shapes_of(file);
  const auto hd = static_cast<int32_t>(s.head_dim);
  const auto group = static_cast<int32_t>(s.n_head / s.n_head_kv);
  const int32_t n_cells = depth + 1;
  kernels::KvHeadView probe;
  probe.f16 = type == formats::KvCacheType::f16;
  probe.q8_0 = type == formats::KvCacheType::q8_0;
  if (!kernels::attend_decode_supported(hd, probe)) {
    throw Error(ErrorCode::unsupported, "attention profile: head size " + std::to_string(hd) +
                                            " is not supported with this cache type");
  }
  // Per layer: [KV head][cell][row], as the engine's cache lays one sequence out.
  const size_t rb = row_bytes(type, hd);
  const size_t layer_bytes = static_cast<size_t>(s.n_head_kv) * n_cells * rb;
  std::vector<std::vector<std::byte>> keys(static_cast<size_t>(s.n_layer)),
      values(static_cast<size_t>(s.n_layer));
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.f, 1.f);
  std::vector<float> row(static_cast<size_t>(hd));
  for (int64_t il = 0; il < s.n_layer; ++il) {
    for (auto* buffer : {&keys[static_cast<size_t>(il)], &values[static_cast<size_t>(il)]}) {
      buffer->resize(layer_bytes);
      for (size_t r = 0; r < layer_bytes / rb; ++r) {
        for (float& x : row) x = dist(rng);
        store_row(type, row.data(), hd, buffer->data() + r * rb);
      }
    }
  }
  std::vector<int32_t> cell_pos(static_cast<size_t>(n_cells));
  for (int32_t c = 0; c < n_cells; ++c) cell_pos[static_cast<size_t>(c)] = c;
  std::vector<float> q(static_cast<size_t>(s.n_head * hd)), out(q.size());
  for (float& x : q) x = dist(rng);

  const int32_t blocks = (n_cells + kernels::kDecodeBlockCells - 1) / kernels::kDecodeBlockCells;
  const int32_t items = static_cast<int32_t>(s.n_head_kv) * blocks;
  const size_t part = kernels::attention_partial_floats(hd, group);
  const size_t per_thread = kernels::attend_decode_scratch_floats(hd, group);
  std::vector<float> partials(part * static_cast<size_t>(items));
  std::vector<float> scratch(per_thread * static_cast<size_t>(pool.size()));
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));

  auto one_token = [&] {
    for (int64_t il = 0; il < s.n_layer; ++il) {
      std::atomic<int32_t> next{0};
      pool.run([&](int thread, int) {
        float* mine = scratch.data() + static_cast<size_t>(thread) * per_thread;
        for (int32_t item = next++; item < items; item = next++) {
          const int32_t kvh = item / blocks, block = item % blocks;
          kernels::KvHeadView kv = probe;
          const size_t base = static_cast<size_t>(kvh) * n_cells * rb;
          kv.k = keys[static_cast<size_t>(il)].data() + base;
          kv.v = values[static_cast<size_t>(il)].data() + base;
          kv.cell_stride = hd;
          kv.cell_pos = cell_pos.data();
          kv.n_cells = n_cells;
          const int32_t i0 = block * kernels::kDecodeBlockCells;
          const kernels::DecodeQueries qs{q.data() + static_cast<size_t>(kvh) * group * hd, group,
                                          depth, 0, scale};
          kernels::attend_decode_block(
              qs, hd, kv, i0, std::min(n_cells, i0 + kernels::kDecodeBlockCells), mine,
              kernels::attention_partial_at(partials.data() + static_cast<size_t>(item) * part, hd,
                                            group));
        }
      });
      for (int32_t kvh = 0; kvh < s.n_head_kv; ++kvh) {
        kernels::attend_decode_merge(partials.data() + static_cast<size_t>(kvh) * blocks * part,
                                     blocks, group, hd,
                                     out.data() + static_cast<size_t>(kvh) * group * hd);
      }
    }
  };

  AttentionProfile p;
  p.depth = depth;
  p.reps = std::max(1, reps);
  p.bytes_per_token = 2 * static_cast<uint64_t>(s.n_layer) * layer_bytes;
  p.work_items_per_layer = items;
  one_token();  // warm-up: threads awake, pages touched
  double total = 0, best = 1e300;
  for (int r = 0; r < p.reps; ++r) {
    const auto start = Clock::now();
    one_token();
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    total += us;
    best = std::min(best, us);
  }
  p.us_per_token = total / p.reps;
  p.us_per_token_min = best;
  return p;
}

}  // namespace inference::perf
