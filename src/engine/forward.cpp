// engine/forward.cpp — the decoder, in the order the reference's graph computes it:
//   x = embed(token) [* sqrt(n_embd)]
//   per layer: h = norm(x); q,k,v = h W (+ bias); [q,k = norm per head]; rope(q, k);
//              store k,v; a = attention(q, cache); o = a Wo; [o = norm(o)]; x += o;
//              h = norm(x); f = act(h Wgate) * (h Wup); d = f Wdown; [d = norm(d)]; x += d
//   logits = norm(x) Wout  (rows that asked for logits only)
//
// Between the matmuls the work is per token row: a prompt chunk spreads its rows over the
// thread pool (for_rows), a single decoded token runs them on the caller (a pool round trip
// costs more than one row). Each row is computed the same way whichever thread runs it, so
// results do not depend on the thread count. Passes are fused where the data is in cache
// anyway: norm reads x and writes h (no copy), and each residual add is followed, in the same
// pass over the row, by the optional post-norm before it and the next block's input norm.
#include "engine/forward.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <new>

#include "inference/error.hpp"
#include "kernels/cpu/attention_batch.hpp"
#include "kernels/cpu/attention_decode.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/ops/activations.hpp"
#include "kernels/cpu/ops/attention.hpp"
#include "kernels/cpu/ops/rms_norm.hpp"

namespace inference::engine {
namespace {

size_t sz(int64_t n) {
  return static_cast<size_t>(n);
}

// fn(t) for every row t < n: over the pool when there are several rows, else on the caller.
// The pool's std::function holds one pointer (stored inline), so nothing is allocated.
template <typename Fn>
void for_rows(kernels::ThreadPool& pool, int32_t n, const Fn& fn) {
  if (n == 1) {
    fn(0);
    return;
  }
  const Fn* f = &fn;
  pool.parallel_for(n, [f](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) (*f)(static_cast<int32_t>(t));
  });
}

}  // namespace

Decoder::Decoder(const HParams& hp, const ModelWeights& weights, KvCache& cache,
                 kernels::ThreadPool& pool, int32_t max_batch, const LoraSet* lora,
                 const PackedWeights* packed)
    : hp_(hp),
      w_(weights),
      cache_(cache),
      pool_(pool),
      max_batch_(max_batch),
      lora_(lora),
      packed_(packed != nullptr && !packed->empty() ? packed : nullptr) {
  if (lora_ != nullptr && lora_->adapters.empty()) lora_ = nullptr;
  const float* factors = weights.rope_freqs.empty() ? nullptr : weights.rope_freqs.data();
  rope_global_ = {hp.rope_dims, hp.rope_base, hp.rope_freq_scale, factors, hp.rope_neox};
  rope_local_ = {hp.rope_dims, hp.rope_base_swa, 1.0f, factors, hp.rope_neox};

  const int64_t b = max_batch;
  try {
    x_.resize(sz(b * hp.n_embd));
    h_.resize(sz(b * hp.n_embd));
    o_.resize(sz(b * hp.n_embd));
    q_.resize(sz(b * hp.q_dim()));
    att_.resize(sz(b * hp.q_dim()));
    k_.resize(sz(b * hp.kv_dim()));
    v_.resize(sz(b * hp.kv_dim()));
    gate_.resize(sz(b * hp.n_ff));
    up_.resize(sz(b * hp.n_ff));
    angles_.resize(sz(b * 2 * hp.rope_dims));
    attn_tmp_.resize(sz(static_cast<int64_t>(pool.size()) * (cache.n_ctx() + hp.head_dim)));
    size_t act = 0;
    auto need = [&](const kernels::WeightView& w) {
      act = std::max(act, kernels::activation_scratch_bytes(w.type, w.cols, b));
      for (auto path : {kernels::MatmulPath::decode, kernels::MatmulPath::prompt})
        act = std::max(act, kernels::activation_scratch_bytes(w.type, w.cols, b, path));
    };
    need(weights.output);
    for (const LayerWeights& l : weights.layers) {
      for (const auto* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.gate, &l.up, &l.down}) need(*w);
    }
    act_scratch_.resize(act);
    if (lora_ != nullptr) {
      lora_scale_.resize(sz(b));
      lora_tmp_.resize(sz(b * lora_->max_rank));
    }
  } catch (const std::bad_alloc&) {
    throw Error(ErrorCode::out_of_memory, "cannot allocate the forward-pass scratch buffers");
  }
}

uint64_t Decoder::scratch_bytes() const noexcept {
  uint64_t floats = x_.size() + h_.size() + o_.size() + q_.size() + att_.size() + k_.size() +
                    v_.size() + gate_.size() + up_.size() + angles_.size() + attn_tmp_.size();
  floats += lora_scale_.size() + lora_tmp_.size();
  floats += split_scratch_.size() + split_partials_.size();
  return floats * sizeof(float) + act_scratch_.size();
}

void Decoder::project(int32_t il, Projection p, const kernels::WeightView& w, const float* x,
                      int32_t n, float* y) {
  matmul(w, x, n, y);
  apply_lora(il, p, w, x, n, y);
}

void Decoder::project_shared_input(int32_t il, std::initializer_list<Projection> ps,
                                   std::initializer_list<const kernels::WeightView*> ws,
                                   const float* x, int32_t n, std::initializer_list<float*> ys) {
  if (fixed_paths_ && (packed_ != nullptr || !(n == 1 && n_generated_ == 1))) {
    // Rows on fixed paths (continuous batching): each projection through matmul(), which keeps
    // every row on its path; the fused pass is the decode path only for one generated row (and
    // not with packed weights, where a lone generated row takes the panel GEMM as well).
    for (size_t i = 0; i < ws.size(); ++i) {
      project(il, ps.begin()[i], *ws.begin()[i], x, n, ys.begin()[i]);
    }
    return;
  }
  kernels::matmul_shared_input(pool_, ws.begin(), ys.begin(), static_cast<int>(ws.size()), x, n,
                               act_scratch_.data());
  for (size_t i = 0; i < ws.size(); ++i) {
    apply_lora(il, ps.begin()[i], *ws.begin()[i], x, n, ys.begin()[i]);
  }
}

void Decoder::apply_lora(int32_t il, Projection p, const kernels::WeightView& w, const float* x,
                         int32_t n, float* y) {
  if (lora_ == nullptr) return;
  const size_t n_adapters = lora_->adapters.size();
  for (size_t a = 0; a < n_adapters; ++a) {
    const LoraAdapter& adapter = lora_->adapters[a];
    const auto& m = adapter.layers[sz(il)][static_cast<size_t>(p)];
    if (!m) continue;
    bool any = false;
    for (int32_t t = 0; t < n; ++t) {
      const int32_t seq = chunk_[sz(t)].seq;
      lora_scale_[sz(t)] = adapter.scale * lora_->seq_scales[sz(seq) * n_adapters + a];
      any |= lora_scale_[sz(t)] != 0.0f;
    }
    if (!any) continue;  // no sequence of this chunk uses the adapter
    engine::apply_lora(pool_, *m, x, w.cols, n, lora_scale_.data(), y, w.rows, lora_tmp_.data());
  }
}

const kernels::PackedWeight* Decoder::packed_for(const kernels::WeightView& w) const {
  if (packed_ == nullptr || !fixed_paths_) return nullptr;
  const auto it = packed_->find(w.data);
  return it == packed_->end() ? nullptr : it->second.get();
}

void Decoder::matmul(const kernels::WeightView& w, const float* x, int32_t n, float* y) {
  if (const kernels::PackedWeight* packed = packed_for(w)) {
    // Every row through the panel GEMM (a row's bits do not depend on the other rows): one
    // read of the weights for the generated and the prompt rows of the step together.
    kernels::matmul_packed(pool_, *packed, x, w.cols, n, y, w.rows, act_scratch_.data());
    return;
  }
  if (!fixed_paths_) {
    kernels::matmul(pool_, w, x, w.cols, n, y, w.rows, act_scratch_.data());
    return;
  }
  // Generated rows, then prompt rows, each on its fixed path: every row's bits are those it
  // gets alone.
  const int32_t g = std::min(n, n_generated_);
  if (g > 0) {
    kernels::matmul(pool_, w, x, w.cols, g, y, w.rows, act_scratch_.data(),
                    kernels::MatmulPath::decode);
  }
  if (n > g) {
    kernels::matmul(pool_, w, x + sz(int64_t{g} * w.cols), w.cols, n - g,
                    y + sz(int64_t{g} * w.rows), w.rows, act_scratch_.data(),
                    kernels::MatmulPath::prompt);
  }
}

void Decoder::forward(const Context& ctx, std::span<const BatchEntry> chunk, float* logits,
                      const AttentionCapture* capture) {
  const int32_t n = static_cast<int32_t>(chunk.size());
  chunk_ = chunk;
  fixed_paths_ = n > 0 && chunk[0].kind != RowKind::automatic;
  n_generated_ = 0;
  while (n_generated_ < n && chunk[sz(n_generated_)].kind == RowKind::generated) ++n_generated_;
  for (int32_t t = n_generated_; t < n && fixed_paths_; ++t) {
    if (chunk[sz(t)].kind != RowKind::prompt) {
      throw Error(ErrorCode::invalid_argument,
                  "decode: a batch that marks its entries must list the generated tokens first "
                  "and mark every entry (entry " +
                      std::to_string(t) + ")");
    }
  }
  for (const BatchEntry& e : chunk) cache_.claim_cells(e.seq, e.pos, 1);
  embed(chunk);
  for (int32_t t = 0; t < n; ++t) {
    float* a = angles_.data() + sz(static_cast<int64_t>(t) * 2 * hp_.rope_dims);
    kernels::rope_angles(rope_global_, chunk[sz(t)].pos, a);
    kernels::rope_angles(rope_local_, chunk[sz(t)].pos, a + hp_.rope_dims);
  }
  const int32_t e = hp_.n_embd;
  const float* norm0 = w_.layers[0].attn_norm.data();
  for_rows(pool_, n, [&](int32_t t) {
    kernels::rms_norm_row(x_.data() + sz(int64_t{t} * e), norm0, h_.data() + sz(int64_t{t} * e), e,
                          hp_.rms_eps);
  });
  for (int32_t il = 0; il < hp_.n_layer; ++il) {
    if (ctx.cancelled()) throw Error(ctx.status());
    attention_block(il, chunk, capture);
    ffn_block(il, n);
  }
  output(chunk, logits);
  for (const BatchEntry& e : chunk) cache_.commit(e.seq, e.token);
}

void Decoder::embed(std::span<const BatchEntry> chunk) {
  const kernels::WeightView& e = w_.token_embd;
  const float scale = std::sqrt(static_cast<float>(hp_.n_embd));
  for (size_t t = 0; t < chunk.size(); ++t) {
    float* row = x_.data() + t * sz(hp_.n_embd);
    kernels::dequantize_weight_row(e, chunk[t].token, row);
    if (hp_.arch->embedding_scale) {
      for (int32_t i = 0; i < hp_.n_embd; ++i) row[i] *= scale;
    }
  }
}

void Decoder::attention_block(int32_t il, std::span<const BatchEntry> chunk,
                              const AttentionCapture* capture) {
  const LayerWeights& l = w_.layers[sz(il)];
  const int32_t n = static_cast<int32_t>(chunk.size());
  const int32_t qd = hp_.q_dim(), kvd = hp_.kv_dim(), hd = hp_.head_dim;

  // h = attn_norm(x) was left by the previous block (or forward() for layer 0).
  // One pass for q, k and v: the input quantised once, one hand-off to the pool.
  project_shared_input(il, {Projection::q, Projection::k, Projection::v}, {&l.wq, &l.wk, &l.wv},
                       h_.data(), n, {q_.data(), k_.data(), v_.data()});

  const bool local = hp_.is_local_layer(il);
  const float query_scale = hp_.kq_scale();
  // Per token: biases, q/k norms, RoPE, capture, query scale, cache store. Tokens of one chunk
  // write distinct cache cells (a ring holds window + max_batch cells), so rows run in parallel.
  for_rows(pool_, n, [&](int32_t t) {
    float* q = q_.data() + sz(static_cast<int64_t>(t) * qd);
    float* k = k_.data() + sz(static_cast<int64_t>(t) * kvd);
    float* v = v_.data() + sz(static_cast<int64_t>(t) * kvd);
    if (!l.bq.empty()) {
      for (int32_t i = 0; i < qd; ++i) q[i] += l.bq[sz(i)];
      for (int32_t i = 0; i < kvd; ++i) k[i] += l.bk[sz(i)];
      for (int32_t i = 0; i < kvd; ++i) v[i] += l.bv[sz(i)];
    }
    if (!l.q_norm.empty()) {
      kernels::rms_norm_rows(q, hd, hp_.n_head, l.q_norm.data(), hd, hp_.rms_eps);
      kernels::rms_norm_rows(k, hd, hp_.n_head_kv, l.k_norm.data(), hd, hp_.rms_eps);
    }
    const float* a = angles_.data() + sz(static_cast<int64_t>(t) * 2 * hp_.rope_dims) +
                     (local ? hp_.rope_dims : 0);
    const kernels::RopeConfig& rope = local ? rope_local_ : rope_global_;
    kernels::rope_apply(rope, a, q, hp_.n_head, hd);
    kernels::rope_apply(rope, a, k, hp_.n_head_kv, hd);
    const BatchEntry& entry = chunk[sz(t)];
    if (capture != nullptr) {
      const int64_t T = capture->n_tokens;
      for (int32_t h = 0; h < hp_.n_head; ++h) {
        std::copy_n(q + h * hd, hd,
                    capture->queries + sz(((il * hp_.n_head + h) * T + entry.pos) * hd));
      }
      for (int32_t h = 0; h < hp_.n_head_kv; ++h) {
        std::copy_n(k + h * hd, hd,
                    capture->keys + sz(((il * hp_.n_head_kv + h) * T + entry.pos) * hd));
      }
    }
    if (hp_.arch->scale_query) {
      for (int32_t i = 0; i < qd; ++i) q[i] *= query_scale;
    }
    cache_.store(entry.seq, il, entry.pos, k, v);
  });

  attend_all(il, chunk);
  project(il, Projection::o, l.wo, att_.data(), n, o_.data());
  add_residual(n, l.post_attn_norm, l.ffn_norm.data());
}

void Decoder::add_residual(int32_t n, const std::vector<float>& post_norm, const float* next_norm) {
  const int32_t e = hp_.n_embd;
  for_rows(pool_, n, [&](int32_t t) {
    float* x = x_.data() + sz(int64_t{t} * e);
    float* o = o_.data() + sz(int64_t{t} * e);
    if (!post_norm.empty()) kernels::rms_norm_row(o, post_norm.data(), o, e, hp_.rms_eps);
    for (int32_t i = 0; i < e; ++i) x[i] += o[i];
    if (next_norm != nullptr) {
      kernels::rms_norm_row(x, next_norm, h_.data() + sz(int64_t{t} * e), e, hp_.rms_eps);
    }
  });
}

bool Decoder::attend_prompt_block(int32_t il, std::span<const BatchEntry> chunk, int32_t row0,
                                  bool any_size) {
  // Below this many tokens the per-query path is as fast (the cells' conversion to float is
  // shared by fewer queries).
  constexpr size_t kMinTokens = 16;
  // Tokens per work item: enough queries to amortise the conversion, enough items to balance
  // the threads (later blocks see more cells).
  constexpr int32_t kBlockTokens = 64;
  const int32_t hd = hp_.head_dim;
  if ((!any_size && chunk.size() < kMinTokens) || !kernels::attend_tokens_available(hd))
    return false;
  const int32_t seq = chunk[0].seq;
  for (const BatchEntry& e : chunk) {
    if (e.seq != seq) return false;
  }
  const int32_t last_pos = chunk.back().pos;
  const int32_t n_cells = cache_.view(seq, il, 0, last_pos).n_cells;
  const size_t per_thread = kernels::attend_tokens_scratch_floats(hd, n_cells) + 16;
  try {
    if (block_attn_scratch_.size() < per_thread * sz(pool_.size())) {
      block_attn_scratch_.resize(per_thread * sz(pool_.size()));
    }
    block_pos_.resize(chunk.size());
  } catch (const std::bad_alloc&) {
    return false;  // the per-query path needs no more memory
  }
  for (size_t t = 0; t < chunk.size(); ++t) block_pos_[t] = chunk[t].pos;

  struct Job {
    Decoder* self;
    int32_t il, seq, last_pos, n_blocks, n_items, row0;
    std::span<const BatchEntry> chunk;
    size_t per_thread;
    std::atomic<int32_t> next{0};
  } job{this, il, seq, last_pos, 0, 0, row0, chunk, per_thread};
  const int32_t n = static_cast<int32_t>(chunk.size());
  job.n_blocks = (n + kBlockTokens - 1) / kBlockTokens;
  job.n_items = job.n_blocks * hp_.n_head_kv;
  pool_.run([j = &job](int thread, int) {
    Decoder& d = *j->self;
    const HParams& hp = d.hp_;
    const int32_t hd = hp.head_dim, group = hp.n_head / hp.n_head_kv;
    const bool local = hp.is_local_layer(j->il);
    const float scale = hp.arch->scale_query ? 1.0f : hp.kq_scale();
    float* scratch = d.block_attn_scratch_.data() + sz(thread) * j->per_thread;
    scratch += (16 - reinterpret_cast<uintptr_t>(scratch) / sizeof(float) % 16) % 16;
    // Items in decreasing order of work: the last token block first.
    for (int32_t item = j->next++; item < j->n_items; item = j->next++) {
      const int32_t block = j->n_blocks - 1 - item / hp.n_head_kv;
      const int32_t kvh = item % hp.n_head_kv;
      const int32_t t0 = block * kBlockTokens;
      const int32_t t1 =
          std::min<int32_t>(t0 + kBlockTokens, static_cast<int32_t>(j->chunk.size()));
      const kernels::KvHeadView kv = d.cache_.view(j->seq, j->il, kvh, j->last_pos);
      const size_t off = sz(static_cast<int64_t>(t0 + j->row0) * hp.q_dim() + kvh * group * hd);
      kernels::attend_tokens({d.q_.data() + off, d.att_.data() + off, hp.q_dim(), t1 - t0, group,
                              d.block_pos_.data() + t0},
                             hd, kv, local ? hp.sliding_window : 0, scale, scratch);
    }
  });
  return true;
}

bool Decoder::attend_split(int32_t il, std::span<const BatchEntry> chunk, int32_t row0) {
  const int32_t hd = hp_.head_dim, n_kv = hp_.n_head_kv, group = hp_.n_head / hp_.n_head_kv;
  const int32_t n = static_cast<int32_t>(chunk.size());
  if (!kernels::attend_decode_supported(hd, cache_.view(chunk[0].seq, il, 0, chunk[0].pos))) {
    return false;
  }
  const size_t part_floats = kernels::attention_partial_floats(hd, group);
  const size_t per_thread = kernels::attend_decode_scratch_floats(hd, group);
  try {
    split_first_item_.resize(sz(n) + 1);
    int32_t items = 0;
    for (int32_t t = 0; t < n; ++t) {
      split_first_item_[sz(t)] = items;
      const int32_t cells = cache_.view(chunk[sz(t)].seq, il, 0, chunk[sz(t)].pos).n_cells;
      items += n_kv * ((cells + kernels::kDecodeBlockCells - 1) / kernels::kDecodeBlockCells);
    }
    split_first_item_[sz(n)] = items;
    if (split_partials_.size() < sz(items) * part_floats) {
      split_partials_.resize(sz(items) * part_floats);
    }
    if (split_scratch_.size() < per_thread * sz(pool_.size())) {
      split_scratch_.resize(per_thread * sz(pool_.size()));
    }
  } catch (const std::bad_alloc&) {
    return false;  // the per-query path needs no more memory
  }

  struct Job {
    Decoder* self;
    int32_t il;
    std::span<const BatchEntry> chunk;
    size_t part_floats, per_thread;
    int32_t row0;
    std::atomic<int32_t> next{0};
  } job{this, il, chunk, part_floats, per_thread, row0};
  pool_.run([j = &job](int thread, int) {
    Decoder& d = *j->self;
    const HParams& hp = d.hp_;
    const int32_t hd = hp.head_dim, group = hp.n_head / hp.n_head_kv;
    const bool local = hp.is_local_layer(j->il);
    const float scale = hp.arch->scale_query ? 1.0f : hp.kq_scale();
    float* scratch = d.split_scratch_.data() + sz(thread) * j->per_thread;
    const auto& first = d.split_first_item_;
    const int32_t n_items = first.back();
    int32_t t = 0;
    for (int32_t item = j->next++; item < n_items; item = j->next++) {
      while (first[sz(t) + 1] <= item) ++t;  // items are taken in increasing order
      while (first[sz(t)] > item) --t;
      const BatchEntry& entry = j->chunk[sz(t)];
      const int32_t n_cells = d.cache_.view(entry.seq, j->il, 0, entry.pos).n_cells;
      const int32_t n_blocks =
          (n_cells + kernels::kDecodeBlockCells - 1) / kernels::kDecodeBlockCells;
      const int32_t local_item = item - first[sz(t)];
      const int32_t kvh = local_item / n_blocks, block = local_item % n_blocks;
      const kernels::KvHeadView kv = d.cache_.view(entry.seq, j->il, kvh, entry.pos);
      const int32_t i0 = block * kernels::kDecodeBlockCells;
      const int32_t i1 = std::min(n_cells, i0 + kernels::kDecodeBlockCells);
      const kernels::DecodeQueries queries{
          d.q_.data() + sz(int64_t{j->row0 + t} * hp.q_dim() + int64_t{kvh} * group * hd), group,
          entry.pos, local ? hp.sliding_window : 0, scale};
      kernels::attend_decode_block(
          queries, hd, kv, i0, i1, scratch,
          kernels::attention_partial_at(d.split_partials_.data() + sz(item) * j->part_floats, hd,
                                        group));
    }
  });
  // Merge in block order, per token and KV head (a handful of vectors per block). A lone token
  // merges on the caller unless it is deep (a pool round trip costs more than a few blocks; at
  // depth 4096 a layer's partials are a few hundred KiB).
  constexpr int32_t kPoolMergeBlocks = 8;
  const int32_t merges = n * n_kv;
  const auto merge = [&](int32_t i) {
    const int32_t t = i / n_kv, kvh = i % n_kv;
    const int32_t items = split_first_item_[sz(t) + 1] - split_first_item_[sz(t)];
    const int32_t n_blocks = items / n_kv;
    const float* parts =
        split_partials_.data() + sz(split_first_item_[sz(t)] + kvh * n_blocks) * part_floats;
    kernels::attend_decode_merge(
        parts, n_blocks, group, hd,
        att_.data() + sz(int64_t{row0 + t} * hp_.q_dim() + int64_t{kvh} * group * hd));
  };
  const int32_t lone_token_blocks = split_first_item_[1] / n_kv;
  if (n == 1 && lone_token_blocks < kPoolMergeBlocks) {
    for (int32_t i = 0; i < merges; ++i) merge(i);
  } else {
    for_rows(pool_, merges, merge);
  }
  return true;
}

void Decoder::attend_all(int32_t il, std::span<const BatchEntry> chunk) {
  if (!fixed_paths_) {
    if (attend_prompt_block(il, chunk)) return;
    if (attend_split(il, chunk)) return;
    attend_queries(il, chunk, 0);
    return;
  }
  // Fixed paths: generated tokens through the split decode kernel (its result for a token does
  // not depend on the other tokens of the chunk), one query at a time where it does not apply;
  // each sequence's prompt rows with the blocked kernel at any block size (its per-query result
  // does not depend on the block), except on sliding-window layers, where the block's first
  // position shifts the cells' order: there the split kernel, per token as well.
  if (n_generated_ > 0) {
    const auto generated = chunk.first(sz(n_generated_));
    if (!attend_split(il, generated)) attend_queries(il, generated, 0);
  }
  const bool local = hp_.is_local_layer(il);
  for (size_t b = sz(n_generated_); b < chunk.size();) {
    size_t e = b + 1;
    while (e < chunk.size() && chunk[e].seq == chunk[b].seq) ++e;
    const auto segment = chunk.subspan(b, e - b);
    const auto row0 = static_cast<int32_t>(b);
    if (local ? !attend_split(il, segment, row0)
              : !attend_prompt_block(il, segment, row0, /*any_size=*/true)) {
      attend_queries(il, segment, row0);
    }
    b = e;
  }
}

void Decoder::attend_queries(int32_t il, std::span<const BatchEntry> rows, int32_t row0) {
  struct Job {
    Decoder* self;
    int32_t il;
    std::span<const BatchEntry> chunk;
    int32_t row0;
  } job{this, il, rows, row0};
  // One pointer captured: std::function keeps it inline, so no allocation per call.
  pool_.run([j = &job](int thread, int n_threads) {
    Decoder& d = *j->self;
    const HParams& hp = d.hp_;
    const int32_t hd = hp.head_dim;
    const int64_t total = static_cast<int64_t>(j->chunk.size()) * hp.n_head;
    const int64_t begin = total * thread / n_threads;
    const int64_t end = total * (thread + 1) / n_threads;
    float* scores = d.attn_tmp_.data() + sz(static_cast<int64_t>(thread) * (d.cache_.n_ctx() + hd));
    float* q_rounded = scores + d.cache_.n_ctx();
    const bool local = hp.is_local_layer(j->il);
    const kernels::AttentionMask base{0, local ? hp.sliding_window : 0};
    const float scale = hp.arch->scale_query ? 1.0f : hp.kq_scale();
    const int32_t group = hp.n_head / hp.n_head_kv;
    for (int64_t i = begin; i < end; ++i) {
      const int64_t r = i / hp.n_head;
      const int64_t t = r + j->row0;
      const int32_t h = static_cast<int32_t>(i % hp.n_head);
      const BatchEntry& entry = j->chunk[sz(r)];
      kernels::AttentionMask mask = base;
      mask.pos = entry.pos;
      const kernels::KvHeadView kv = d.cache_.view(entry.seq, j->il, h / group, entry.pos);
      const float* q = d.q_.data() + sz(t * hp.q_dim() + h * hd);
      float* out = d.att_.data() + sz(t * hp.q_dim() + h * hd);
      kernels::attend_head(q, hd, kv, mask, scale, scores, q_rounded, out);
    }
  });
}

void Decoder::ffn_block(int32_t il, int32_t n) {
  const LayerWeights& l = w_.layers[sz(il)];
  const int32_t ff = hp_.n_ff;
  // h = ffn_norm(x) was left by attention_block.
  project_shared_input(il, {Projection::gate, Projection::up}, {&l.gate, &l.up}, h_.data(), n,
                       {gate_.data(), up_.data()});
  const bool gelu = hp_.arch->activation == arch::Activation::gelu_tanh;
  for_rows(pool_, n, [&](int32_t t) {
    float* g = gate_.data() + sz(int64_t{t} * ff);
    const float* u = up_.data() + sz(int64_t{t} * ff);
    if (gelu) {
      kernels::geglu(g, u, g, ff);
    } else {
      kernels::swiglu(g, u, g, ff);
    }
  });
  project(il, Projection::down, l.down, gate_.data(), n, o_.data());
  // The next layer's input norm, fused into the residual pass (none after the last layer:
  // output() normalises only the rows that want logits).
  const float* next_norm = il + 1 < hp_.n_layer ? w_.layers[sz(il + 1)].attn_norm.data() : nullptr;
  add_residual(n, l.post_ffn_norm, next_norm);
}

void Decoder::output(std::span<const BatchEntry> chunk, float* logits) {
  const int32_t e = hp_.n_embd;
  int32_t n_out = 0;
  for (size_t t = 0; t < chunk.size(); ++t) {
    if (!chunk[t].logits) continue;
    kernels::rms_norm_row(x_.data() + t * sz(e), w_.output_norm.data(),
                          h_.data() + sz(static_cast<int64_t>(n_out) * e), e, hp_.rms_eps);
    ++n_out;
  }
  if (n_out == 0) return;
  // With fixed paths every logits row (a generated token's or a prompt's last) takes the
  // row-vector path, as a lone sequence's single row does — or, packed, the panel GEMM.
  if (const kernels::PackedWeight* packed = packed_for(w_.output)) {
    kernels::matmul_packed(pool_, *packed, h_.data(), w_.output.cols, n_out, logits, w_.output.rows,
                           act_scratch_.data());
    return;
  }
  kernels::matmul(pool_, w_.output, h_.data(), w_.output.cols, n_out, logits, w_.output.rows,
                  act_scratch_.data(),
                  fixed_paths_ ? kernels::MatmulPath::decode : kernels::MatmulPath::automatic);
}

}  // namespace inference::engine
