#include "train/lora_trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <type_traits>

#include "arch/architecture.hpp"
#include "engine/model_files.hpp"
#include "engine/weights.hpp"
#include "inference/error.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/ops/rope.hpp"
#include "kernels/cpu/thread_pool.hpp"
#include "train/cross_entropy.hpp"
#include "train/fast_attention.hpp"
#include "train/fast_products.hpp"
#include "train/gated_activation.hpp"
#include "train/lora_products.hpp"
#include "train/train_math.hpp"

namespace inference::train {

using engine::Projection;

std::optional<Projection> parse_projection(std::string_view name) {
  // Plain names only (a dotted module path is a file's tensor name, not a target).
  if (name.find('.') != std::string_view::npos) return std::nullopt;
  return engine::parse_projection_name(name);
}

namespace {

using Clock = std::chrono::steady_clock;

// Adds the time from construction to destruction to a phase total.
class PhaseTimer {
 public:
  explicit PhaseTimer(double& total) : total_(total), start_(Clock::now()) {}
  ~PhaseTimer() { total_ += std::chrono::duration<double>(Clock::now() - start_).count(); }
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

 private:
  double& total_;
  Clock::time_point start_;
};

template <typename T>
void dequantize_rows(const kernels::WeightView& w, int64_t row0, int64_t rows, std::vector<T>& out,
                     std::vector<float>& tmp) {
  out.resize(sz(rows * w.cols));
  tmp.resize(sz(w.cols));
  for (int64_t r = 0; r < rows; ++r) {
    kernels::dequantize_weight_row(w, row0 + r, tmp.data());
    std::copy(tmp.begin(), tmp.end(), out.begin() + r * w.cols);
  }
}

}  // namespace

// Everything the backward pass of one layer needs from its forward pass.
template <typename T>
struct LoraTrainer<T>::LayerCache {
  std::vector<T> x_in, h1, r1, q_pre, k_pre, rq, rk, q, k, v, probs, att, o_pre, r_pa, x1, h2, r2,
      g, u, act, dact, d_pre, r_pf, x_out;
};

// Buffers a pass fills, kept between passes: sized once, their pages stay mapped, so a pass does
// not pay a page fault per 4 KiB of activations (several hundred MB per pass on a 0.5B model).
template <typename T>
struct LoraTrainer<T>::Scratch {
  std::vector<LayerCache> caches;  // one per layer (only x_in under gradient checkpointing)
  LayerCache work;                 // the layer recomputed under gradient checkpointing
  std::vector<T> f, o, dd, df, dg, du, dh2, dop, datt, dq, dk, dv, dq_pre, dk_pre, dh1;
  std::vector<T> x, dx, hf, rf, dhf, logits;
  std::vector<float> row_scale;
  LoraProductScratch lora;  // the LoRA products' intermediates (float path)
};

namespace {

// v resized to n elements, all zero; its capacity (and mapped pages) are reused.
template <typename T>
T* zeroed(std::vector<T>& v, int64_t n) {
  v.assign(sz(n), T(0));
  return v.data();
}

}  // namespace

template <typename T>
struct LoraTrainer<T>::Pass {
  std::span<const int32_t> tokens;
  int64_t n = 0;
  std::vector<float> angles_global, angles_local;  // n × rope_dims (cos, sin pairs)
  std::vector<float> scratch;
};

template <typename T>
LoraTrainer<T>::LoraTrainer(const std::filesystem::path& model, int32_t threads)
    : files_(engine::open_model_files(model)), hp_(files_->hparams()) {
  weights_ = std::make_unique<engine::ModelWeights>(engine::bind_weights(files_->tensors(), hp_));
  pool_ = std::make_unique<kernels::ThreadPool>(threads);
  base_ = std::make_unique<BaseProducts>(*pool_);
  scratch_ = std::make_unique<Scratch>();
}

template <typename T>
bool LoraTrainer<T>::fast() const noexcept {
  return std::is_same_v<T, float> && !reference_;
}

template <typename T>
void LoraTrainer<T>::set_exact_products(bool on) noexcept {
  base_->set_exact(on);
}

template <typename T>
size_t LoraTrainer<T>::transposed_weight_bytes() const noexcept {
  return base_->transposed_bytes();
}

template <typename T>
void LoraTrainer<T>::set_resident_weights(bool on) noexcept {
  base_->set_resident_panels(on);
}

template <typename T>
size_t LoraTrainer<T>::resident_weight_bytes() const noexcept {
  return base_->resident_bytes();
}

template <typename T>
LoraTrainer<T>::~LoraTrainer() = default;

template <typename T>
bool LoraTrainer<T>::qk_permuted() const noexcept {
  return !hp_.arch->rope_neox && !hp_.rope_neox;
}

template <typename T>
void LoraTrainer<T>::init(const LoraTrainConfig& config) {
  if (config.rank <= 0 || config.rank > 4096)
    throw Error(ErrorCode::invalid_argument, "LoRA rank must be in [1, 4096]");
  if (config.targets.empty()) throw Error(ErrorCode::invalid_argument, "no LoRA targets given");
  std::vector<Projection> targets;
  for (const auto& name : config.targets) {
    const auto p = parse_projection(name);
    if (!p)
      throw Error(ErrorCode::invalid_argument,
                  "unknown LoRA target '" + name +
                      "' (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)");
    targets.push_back(*p);
  }
  lora_ = {};
  lora_.rank = config.rank;
  lora_.alpha = config.alpha;
  lora_.scale = config.alpha / static_cast<float>(config.rank);
  lora_.targets = config.targets;
  lora_.layers.resize(sz(hp_.n_layer));
  std::mt19937_64 rng(config.seed);
  for (int32_t il = 0; il < hp_.n_layer; ++il) {
    for (Projection p : targets) {
      auto& slot = lora_.layers[sz(il)][static_cast<size_t>(p)];
      if (slot) continue;
      TrainMatrix<T> m;
      m.rank = config.rank;
      m.in = engine::projection_in(hp_, p);
      m.out = engine::projection_out(hp_, p);
      const double bound = 1.0 / std::sqrt(static_cast<double>(m.in));
      m.a.resize(sz(int64_t{m.rank} * m.in));
      for (T& a : m.a)
        a = static_cast<T>((static_cast<double>(rng() >> 11) * 0x1.0p-53 * 2.0 - 1.0) * bound);
      m.b.assign(sz(int64_t{m.out} * m.rank), T(0));
      m.grad_a.assign(m.a.size(), T(0));
      m.grad_b.assign(m.b.size(), T(0));
      m.m_a.assign(m.a.size(), T(0));
      m.v_a.assign(m.a.size(), T(0));
      m.m_b.assign(m.b.size(), T(0));
      m.v_b.assign(m.b.size(), T(0));
      slot = std::move(m);
    }
  }
}

template <typename T>
void LoraTrainer<T>::zero_grad() {
  for (auto& layer : lora_.layers) {
    for (auto& m : layer) {
      if (!m) continue;
      std::fill(m->grad_a.begin(), m->grad_a.end(), T(0));
      std::fill(m->grad_b.begin(), m->grad_b.end(), T(0));
    }
  }
}

template <typename T>
std::vector<T> LoraTrainer<T>::vec(const std::vector<float>& v) const {
  return std::vector<T>(v.begin(), v.end());
}

template <typename T>
const std::vector<T>& LoraTrainer<T>::dequantized(int32_t il, Projection p) {
  if (cached_layer_ != il || cached_projection_ != static_cast<int>(p)) {
    std::vector<float> tmp;
    const auto& w = engine::projection_weight(weights_->layers[sz(il)], p);
    dequantize_rows(w, 0, w.rows, cached_weight_, tmp);
    cached_layer_ = il;
    cached_projection_ = static_cast<int>(p);
  }
  return cached_weight_;
}

template <typename T>
void LoraTrainer<T>::project_forward(int32_t il, Projection p, const T* x, T* y, int64_t n) {
  const int64_t in = engine::projection_in(hp_, p), out = engine::projection_out(hp_, p);
  if constexpr (std::is_same_v<T, float>) {
    if (fast()) {
      {
        PhaseTimer timer(times_.base_forward);
        base_->forward(engine::projection_weight(weights_->layers[sz(il)], p), x, n, y);
      }
      if (lora_.layers.empty()) return;
      const auto& m = lora_.layers[sz(il)][static_cast<size_t>(p)];
      if (!m) return;
      PhaseTimer timer(times_.lora);
      lora_forward(*pool_, {m->a.data(), m->b.data(), m->rank, in, out, lora_.scale}, x, n, y,
                   scratch_->lora);
      return;
    }
  }
  const auto& w = dequantized(il, p);
  matmul_nt(*pool_, x, w.data(), y, n, in, out);
  if (lora_.layers.empty()) return;
  const auto& m = lora_.layers[sz(il)][static_cast<size_t>(p)];
  if (!m) return;
  std::vector<T> z(sz(n * m->rank));
  matmul_nt(*pool_, x, m->a.data(), z.data(), n, in, m->rank);
  for (T& v : z) v *= static_cast<T>(lora_.scale);
  matmul_nt(*pool_, z.data(), m->b.data(), y, n, m->rank, out, /*accumulate=*/true);
}

template <typename T>
void LoraTrainer<T>::project_backward(int32_t il, Projection p, const T* x, T* dy, T* dx,
                                      int64_t n) {
  const int64_t in = engine::projection_in(hp_, p), out = engine::projection_out(hp_, p);
  if constexpr (std::is_same_v<T, float>) {
    if (fast()) {
      // The LoRA part first: the base product then consumes dy.
      if (!lora_.layers.empty() && lora_.layers[sz(il)][static_cast<size_t>(p)]) {
        auto& m = lora_.layers[sz(il)][static_cast<size_t>(p)];
        PhaseTimer timer(times_.lora);
        lora_backward(*pool_, {m->a.data(), m->b.data(), m->rank, in, out, lora_.scale}, x, dy, n,
                      m->grad_a.data(), m->grad_b.data(), dx, scratch_->lora);
      }
      PhaseTimer timer(times_.base_backward);
      base_->backward_acc_consuming(engine::projection_weight(weights_->layers[sz(il)], p), dy, n,
                                    dx);
      return;
    }
  }
  const auto& w = dequantized(il, p);
  matmul_nn_acc(*pool_, dy, w.data(), dx, n, out, in);
  if (lora_.layers.empty()) return;
  auto& m = lora_.layers[sz(il)][static_cast<size_t>(p)];
  if (!m) return;
  const T s = static_cast<T>(lora_.scale);
  std::vector<T> z(sz(n * m->rank)), dz(sz(n * m->rank), T(0));
  matmul_nt(*pool_, x, m->a.data(), z.data(), n, in, m->rank);
  outer_acc(*pool_, dy, z.data(), m->grad_b.data(), n, out, m->rank, s);
  matmul_nn_acc(*pool_, dy, m->b.data(), dz.data(), n, out, m->rank);
  for (T& v : dz) v *= s;
  outer_acc(*pool_, dz.data(), x, m->grad_a.data(), n, m->rank, in, T(1));
  matmul_nn_acc(*pool_, dz.data(), m->a.data(), dx, n, m->rank, in);
}

template <typename T>
void LoraTrainer<T>::attention_forward_pass(int32_t il, LayerCache& c, int64_t n) {
  PhaseTimer timer(times_.attention);
  // Causal attention (with the sliding window on local layers).
  const int64_t QD = hp_.q_dim(), KVD = hp_.kv_dim();
  const int32_t H = hp_.n_head, HKV = hp_.n_head_kv, D = hp_.head_dim;
  const bool local = hp_.is_local_layer(il);
  if constexpr (std::is_same_v<T, float>) {
    if (fast()) {
      const AttentionShape shape{n, H, HKV, D, local ? hp_.sliding_window : 0, hp_.kq_scale()};
      c.probs.resize(sz(int64_t{H} * n * n));
      c.att.resize(sz(n * QD));
      attention_forward(*pool_, shape, c.q.data(), c.k.data(), c.v.data(), c.probs.data(),
                        c.att.data());
      return;
    }
  }
  // The reference: one head per work item.
  const T scale = static_cast<T>(hp_.kq_scale());
  const int32_t window = local ? hp_.sliding_window : 0;
  const int32_t group = H / HKV;
  c.probs.assign(sz(int64_t{H} * n * n), T(0));
  c.att.assign(sz(n * QD), T(0));
  pool_->parallel_for(H, [&](int64_t h0, int64_t h1) {
    for (int64_t h = h0; h < h1; ++h) {
      const int64_t g = h / group;
      for (int64_t t = 0; t < n; ++t) {
        T* p = &c.probs[sz((h * n + t) * n)];
        const T* q = &c.q[sz(t * QD + h * D)];
        const int64_t first = window > 0 ? std::max<int64_t>(0, t - window + 1) : 0;
        T max = -INFINITY;
        for (int64_t s = first; s <= t; ++s) {
          const T* k = &c.k[sz(s * KVD + g * D)];
          T dot = 0;
          for (int32_t i = 0; i < D; ++i) dot += q[i] * k[i];
          p[s] = dot * scale;
          max = std::max(max, p[s]);
        }
        T sum = 0;
        for (int64_t s = first; s <= t; ++s) sum += (p[s] = std::exp(p[s] - max));
        T* out = &c.att[sz(t * QD + h * D)];
        for (int64_t s = first; s <= t; ++s) {
          p[s] /= sum;
          const T* v = &c.v[sz(s * KVD + g * D)];
          for (int32_t i = 0; i < D; ++i) out[i] += p[s] * v[i];
        }
      }
    }
  });
}

template <typename T>
void LoraTrainer<T>::attention_backward_pass(int32_t il, LayerCache& c, int64_t n,
                                             const std::vector<T>& datt, std::vector<T>& dq,
                                             std::vector<T>& dk, std::vector<T>& dv) {
  PhaseTimer timer(times_.attention);
  const int64_t QD = hp_.q_dim(), KVD = hp_.kv_dim();
  const int32_t H = hp_.n_head, HKV = hp_.n_head_kv, D = hp_.head_dim;
  const bool local = hp_.is_local_layer(il);
  if constexpr (std::is_same_v<T, float>) {
    if (fast()) {
      const AttentionShape shape{n, H, HKV, D, local ? hp_.sliding_window : 0, hp_.kq_scale()};
      attention_backward(*pool_, shape, c.q.data(), c.k.data(), c.v.data(), c.probs.data(),
                         datt.data(), dq.data(), dk.data(), dv.data());
      return;
    }
  }
  const T scale = static_cast<T>(hp_.kq_scale());
  const int32_t window = local ? hp_.sliding_window : 0;
  const int32_t group = H / HKV;
  // Per KV head, so the heads sharing its keys and values accumulate into them in order.
  pool_->parallel_for(HKV, [&](int64_t g0, int64_t g1) {
    std::vector<T> dp(sz(n));
    for (int64_t g = g0; g < g1; ++g) {
      for (int64_t h = g * group; h < (g + 1) * group; ++h) {
        for (int64_t t = 0; t < n; ++t) {
          const T* p = &c.probs[sz((h * n + t) * n)];
          const T* dout = &datt[sz(t * QD + h * D)];
          const int64_t first = window > 0 ? std::max<int64_t>(0, t - window + 1) : 0;
          T dot_sum = 0;
          for (int64_t s = first; s <= t; ++s) {
            const T* v = &c.v[sz(s * KVD + g * D)];
            T d = 0;
            for (int32_t i = 0; i < D; ++i) d += dout[i] * v[i];
            dp[sz(s)] = d;
            dot_sum += d * p[s];
            T* dvr = &dv[sz(s * KVD + g * D)];
            for (int32_t i = 0; i < D; ++i) dvr[i] += p[s] * dout[i];
          }
          const T* q = &c.q[sz(t * QD + h * D)];
          T* dqr = &dq[sz(t * QD + h * D)];
          for (int64_t s = first; s <= t; ++s) {
            const T ds = p[s] * (dp[sz(s)] - dot_sum) * scale;
            if (ds == 0) continue;
            const T* k = &c.k[sz(s * KVD + g * D)];
            T* dkr = &dk[sz(s * KVD + g * D)];
            for (int32_t i = 0; i < D; ++i) {
              dqr[i] += ds * k[i];
              dkr[i] += ds * q[i];
            }
          }
        }
      }
    }
  });
}

template <typename T>
void LoraTrainer<T>::layer_forward(int32_t il, Pass& pass, LayerCache& c) {
  const engine::LayerWeights& l = weights_->layers[sz(il)];
  const int64_t n = pass.n, E = hp_.n_embd, QD = hp_.q_dim(), KVD = hp_.kv_dim(), F = hp_.n_ff;
  const int32_t H = hp_.n_head, HKV = hp_.n_head_kv, D = hp_.head_dim;
  const T eps = static_cast<T>(hp_.rms_eps);
  const auto attn_norm = vec(l.attn_norm);
  c.h1.resize(sz(n * E));
  c.r1.resize(sz(n));
  pool_->parallel_for(n, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t)
      c.r1[sz(t)] =
          rms_norm_forward(&c.x_in[sz(t * E)], attn_norm.data(), &c.h1[sz(t * E)], E, eps);
  });

  c.q_pre.resize(sz(n * QD));
  c.k_pre.resize(sz(n * KVD));
  c.v.resize(sz(n * KVD));
  project_forward(il, Projection::q, c.h1.data(), c.q_pre.data(), n);
  project_forward(il, Projection::k, c.h1.data(), c.k_pre.data(), n);
  project_forward(il, Projection::v, c.h1.data(), c.v.data(), n);
  // Biases, per-head norms and RoPE, one token per work item.
  c.q.resize(c.q_pre.size());
  c.k.resize(c.k_pre.size());
  const bool head_norms = !l.q_norm.empty();
  const auto qn = head_norms ? vec(l.q_norm) : std::vector<T>{};
  const auto kn = head_norms ? vec(l.k_norm) : std::vector<T>{};
  if (head_norms) {
    c.rq.resize(sz(n * H));
    c.rk.resize(sz(n * HKV));
  }
  const bool local = hp_.is_local_layer(il);
  const auto& angles = local ? pass.angles_local : pass.angles_global;
  pool_->parallel_for(n, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      T* qp = &c.q_pre[sz(t * QD)];
      T* kp = &c.k_pre[sz(t * KVD)];
      if (!l.bq.empty()) {
        T* vp = &c.v[sz(t * KVD)];
        for (int64_t i = 0; i < QD; ++i) qp[i] += l.bq[sz(i)];
        for (int64_t i = 0; i < KVD; ++i) kp[i] += l.bk[sz(i)];
        for (int64_t i = 0; i < KVD; ++i) vp[i] += l.bv[sz(i)];
      }
      T* q = &c.q[sz(t * QD)];
      T* k = &c.k[sz(t * KVD)];
      if (head_norms) {
        for (int32_t h = 0; h < H; ++h)
          c.rq[sz(t * H + h)] = rms_norm_forward(qp + h * D, qn.data(), q + h * D, D, eps);
        for (int32_t h = 0; h < HKV; ++h)
          c.rk[sz(t * HKV + h)] = rms_norm_forward(kp + h * D, kn.data(), k + h * D, D, eps);
      } else {
        std::copy_n(qp, QD, q);
        std::copy_n(kp, KVD, k);
      }
      const float* a = &angles[sz(t * hp_.rope_dims)];
      for (int32_t h = 0; h < H; ++h)
        rope_rotate(q + h * D, a, hp_.rope_dims, hp_.rope_neox, false);
      for (int32_t h = 0; h < HKV; ++h)
        rope_rotate(k + h * D, a, hp_.rope_dims, hp_.rope_neox, false);
    }
  });

  attention_forward_pass(il, c, n);

  c.o_pre.resize(sz(n * E));
  project_forward(il, Projection::o, c.att.data(), c.o_pre.data(), n);
  // out = in + post_norm(branch) (or in + branch without a post-norm), token-parallel; r keeps
  // each row's norm factor for the backward pass.
  const auto add_branch = [&](const std::vector<T>& post_norm, const std::vector<T>& branch,
                              std::vector<T>& r, const std::vector<T>& in, std::vector<T>& out) {
    out.resize(in.size());
    r.resize(sz(n));
    std::vector<T>& o = scratch_->o;  // the post-norm rows
    if (!post_norm.empty()) o.resize(sz(n * E));
    pool_->parallel_for(n, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const T* src = &branch[sz(t * E)];
        if (!post_norm.empty()) {
          r[sz(t)] = rms_norm_forward(src, post_norm.data(), &o[sz(t * E)], E, eps);
          src = &o[sz(t * E)];
        }
        const T* x = &in[sz(t * E)];
        T* y = &out[sz(t * E)];
        for (int64_t i = 0; i < E; ++i) y[i] = x[i] + src[i];
      }
    });
  };
  add_branch(vec(l.post_attn_norm), c.o_pre, c.r_pa, c.x_in, c.x1);

  const auto ffn_norm = vec(l.ffn_norm);
  c.h2.resize(sz(n * E));
  c.r2.resize(sz(n));
  pool_->parallel_for(n, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t)
      c.r2[sz(t)] = rms_norm_forward(&c.x1[sz(t * E)], ffn_norm.data(), &c.h2[sz(t * E)], E, eps);
  });
  c.g.resize(sz(n * F));
  c.u.resize(sz(n * F));
  project_forward(il, Projection::gate, c.h2.data(), c.g.data(), n);
  project_forward(il, Projection::up, c.h2.data(), c.u.data(), n);
  const bool gelu = hp_.arch->activation == arch::Activation::gelu_tanh;
  std::vector<T>& f = scratch_->f;
  f.resize(sz(n * F));
  // The activation's derivative is kept for the backward pass (one exp per element in all).
  c.act.resize(f.size());
  c.dact.resize(f.size());
  pool_->parallel_for(n * F, [&](int64_t i0, int64_t i1) {
    if constexpr (std::is_same_v<T, float>) {
      if (fast()) {
        gated_activation_forward(gelu, &c.g[sz(i0)], &c.u[sz(i0)], &c.act[sz(i0)], &c.dact[sz(i0)],
                                 &f[sz(i0)], i1 - i0);
        return;
      }
    }
    for (size_t i = sz(i0); i < sz(i1); ++i) {
      const T x = c.g[i];
      if (gelu) {
        c.act[i] = gelu_tanh(x);
        c.dact[i] = gelu_tanh_grad(x);
      } else {
        const T sig = T(1) / (T(1) + std::exp(-x));
        c.act[i] = x * sig;
        c.dact[i] = sig * (T(1) + x * (T(1) - sig));
      }
      f[i] = c.act[i] * c.u[i];
    }
  });
  c.d_pre.resize(sz(n * E));
  project_forward(il, Projection::down, f.data(), c.d_pre.data(), n);
  add_branch(vec(l.post_ffn_norm), c.d_pre, c.r_pf, c.x1, c.x_out);
}

template <typename T>
void LoraTrainer<T>::layer_backward(int32_t il, Pass& pass, LayerCache& c, T* dx) {
  // On entry dx = dL/d(layer output); on exit dL/d(layer input).
  const engine::LayerWeights& l = weights_->layers[sz(il)];
  const int64_t n = pass.n, E = hp_.n_embd, QD = hp_.q_dim(), KVD = hp_.kv_dim(), F = hp_.n_ff;
  const int32_t H = hp_.n_head, HKV = hp_.n_head_kv, D = hp_.head_dim;
  Scratch& s = *scratch_;

  // The gradient into a residual branch: dx itself, or through the branch's output norm.
  const auto through_post_norm = [&](const std::vector<T>& post_norm, const std::vector<T>& pre,
                                     const std::vector<T>& r, std::vector<T>& out) {
    T* d = zeroed(out, n * E);
    pool_->parallel_for(n, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        if (post_norm.empty()) {
          std::copy_n(&dx[t * E], E, &d[t * E]);
        } else {
          rms_norm_backward(&pre[sz(t * E)], post_norm.data(), r[sz(t)], &dx[t * E], &d[t * E], E);
        }
      }
    });
  };

  // FFN: x_out = x1 + post_ffn(d_pre), d_pre = down(act(g) ⊙ u).
  through_post_norm(vec(l.post_ffn_norm), c.d_pre, c.r_pf, s.dd);
  s.f.resize(sz(n * F));
  T* df = zeroed(s.df, n * F);
  pool_->parallel_for(n * F, [&](int64_t i0, int64_t i1) {
    for (size_t i = sz(i0); i < sz(i1); ++i) s.f[i] = c.act[i] * c.u[i];
  });
  project_backward(il, Projection::down, s.f.data(), s.dd.data(), df, n);
  s.dg.resize(sz(n * F));
  s.du.resize(sz(n * F));
  pool_->parallel_for(n * F, [&](int64_t i0, int64_t i1) {
    for (size_t i = sz(i0); i < sz(i1); ++i) {
      s.dg[i] = df[i] * c.u[i] * c.dact[i];
      s.du[i] = df[i] * c.act[i];
    }
  });
  T* dh2 = zeroed(s.dh2, n * E);
  project_backward(il, Projection::gate, c.h2.data(), s.dg.data(), dh2, n);
  project_backward(il, Projection::up, c.h2.data(), s.du.data(), dh2, n);
  const auto ffn_norm = vec(l.ffn_norm);
  T* dx1 = dx;  // the residual passes dx through unchanged
  pool_->parallel_for(n, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t)
      rms_norm_backward(&c.x1[sz(t * E)], ffn_norm.data(), c.r2[sz(t)], &dh2[t * E], &dx1[t * E],
                        E);
  });

  // Attention: x1 = x_in + post_attn(o_pre), o_pre = o_proj(att).
  through_post_norm(vec(l.post_attn_norm), c.o_pre, c.r_pa, s.dop);
  zeroed(s.datt, n * QD);
  project_backward(il, Projection::o, c.att.data(), s.dop.data(), s.datt.data(), n);

  const bool local = hp_.is_local_layer(il);
  zeroed(s.dq, n * QD);
  zeroed(s.dk, n * KVD);
  zeroed(s.dv, n * KVD);
  attention_backward_pass(il, c, n, s.datt, s.dq, s.dk, s.dv);

  // RoPE and the per-head norms backwards, one token per work item.
  const bool head_norms = !l.q_norm.empty();
  const auto qn = head_norms ? vec(l.q_norm) : std::vector<T>{};
  const auto kn = head_norms ? vec(l.k_norm) : std::vector<T>{};
  if (head_norms) {
    zeroed(s.dq_pre, n * QD);
    zeroed(s.dk_pre, n * KVD);
  }
  const auto& angles = local ? pass.angles_local : pass.angles_global;
  pool_->parallel_for(n, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      T* dq = &s.dq[sz(t * QD)];
      T* dk = &s.dk[sz(t * KVD)];
      const float* a = &angles[sz(t * hp_.rope_dims)];
      for (int32_t h = 0; h < H; ++h)
        rope_rotate(dq + h * D, a, hp_.rope_dims, hp_.rope_neox, true);
      for (int32_t h = 0; h < HKV; ++h)
        rope_rotate(dk + h * D, a, hp_.rope_dims, hp_.rope_neox, true);
      if (!head_norms) continue;
      for (int32_t h = 0; h < H; ++h)
        rms_norm_backward(&c.q_pre[sz(t * QD + h * D)], qn.data(), c.rq[sz(t * H + h)], dq + h * D,
                          &s.dq_pre[sz(t * QD + h * D)], D);
      for (int32_t h = 0; h < HKV; ++h)
        rms_norm_backward(&c.k_pre[sz(t * KVD + h * D)], kn.data(), c.rk[sz(t * HKV + h)],
                          dk + h * D, &s.dk_pre[sz(t * KVD + h * D)], D);
    }
  });
  T* dq = head_norms ? s.dq_pre.data() : s.dq.data();
  T* dk = head_norms ? s.dk_pre.data() : s.dk.data();
  T* dh1 = zeroed(s.dh1, n * E);
  project_backward(il, Projection::q, c.h1.data(), dq, dh1, n);
  project_backward(il, Projection::k, c.h1.data(), dk, dh1, n);
  project_backward(il, Projection::v, c.h1.data(), s.dv.data(), dh1, n);
  const auto attn_norm = vec(l.attn_norm);
  pool_->parallel_for(n, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t)
      rms_norm_backward(&c.x_in[sz(t * E)], attn_norm.data(), c.r1[sz(t)], &dh1[t * E], &dx[t * E],
                        E);
  });
}

template <typename T>
void LoraTrainer<T>::check_tokens(std::span<const int32_t> tokens) const {
  if (tokens.empty()) throw Error(ErrorCode::invalid_argument, "a training sequence is empty");
  for (int32_t id : tokens) {
    if (id < 0 || id >= hp_.n_vocab)
      throw Error(ErrorCode::invalid_argument, "token id " + std::to_string(id) + " out of range");
  }
}

template <typename T>
double LoraTrainer<T>::run(std::span<const int32_t> tokens, std::span<const uint8_t> mask,
                           double grad_scale, bool backward, std::vector<float>* logits_out) {
  check_tokens(tokens);
  PhaseTimer whole(times_.total);
  Pass pass;
  pass.tokens = tokens;
  pass.n = static_cast<int64_t>(tokens.size());
  const int64_t n = pass.n, E = hp_.n_embd, V = hp_.n_vocab;
  const float* factors = weights_->rope_freqs.empty() ? nullptr : weights_->rope_freqs.data();
  const kernels::RopeConfig global{hp_.rope_dims, hp_.rope_base, hp_.rope_freq_scale, factors,
                                   hp_.rope_neox};
  const kernels::RopeConfig local{hp_.rope_dims, hp_.rope_base_swa, 1.0f, factors, hp_.rope_neox};
  pass.angles_global.resize(sz(n * hp_.rope_dims));
  pass.angles_local.resize(sz(n * hp_.rope_dims));
  for (int64_t t = 0; t < n; ++t) {
    kernels::rope_angles(global, static_cast<int32_t>(t),
                         &pass.angles_global[sz(t * hp_.rope_dims)]);
    kernels::rope_angles(local, static_cast<int32_t>(t), &pass.angles_local[sz(t * hp_.rope_dims)]);
  }

  Scratch& scratch = *scratch_;
  // Embedding.
  std::vector<T>& x = scratch.x;
  x.resize(sz(n * E));
  {
    std::vector<float> row(sz(E));
    const auto& e = weights_->token_embd;
    const float scale = std::sqrt(static_cast<float>(E));
    for (int64_t t = 0; t < n; ++t) {
      kernels::dequantize_weight_row(e, tokens[sz(t)], row.data());
      for (int64_t i = 0; i < E; ++i)
        x[sz(t * E + i)] = hp_.arch->embedding_scale ? row[sz(i)] * scale : row[sz(i)];
    }
  }
  // Every layer keeps its whole forward state for the backward pass, unless there is none (one
  // work cache serves all layers) or gradient checkpointing recomputes it from the layer's
  // input, the only thing then kept per layer.
  const bool keep_layers = backward && !checkpointing_;
  const bool recompute = backward && checkpointing_;
  auto& caches = scratch.caches;
  caches.resize(sz(hp_.n_layer));
  const auto cache_for = [&](int32_t il) -> LayerCache& {
    return keep_layers ? caches[sz(il)] : scratch.work;
  };
  for (int32_t il = 0; il < hp_.n_layer; ++il) {
    if (!keep_layers && !caches[sz(il)].h1.empty()) caches[sz(il)] = LayerCache{};
    if (recompute) caches[sz(il)].x_in.assign(x.begin(), x.end());
    LayerCache& c = cache_for(il);
    c.x_in.assign(x.begin(), x.end());
    layer_forward(il, pass, c);
    x.assign(c.x_out.begin(), c.x_out.end());
  }

  // Output: which rows need logits (targets with mask set, or every row for logits_out).
  auto output_start = Clock::now();
  const auto output_done = [&] {
    times_.output += std::chrono::duration<double>(Clock::now() - output_start).count();
  };
  std::vector<int64_t> rows;
  for (int64_t t = 0; t < n; ++t) {
    if (logits_out != nullptr || (t + 1 < n && mask[sz(t + 1)] != 0)) rows.push_back(t);
  }
  const int64_t m = static_cast<int64_t>(rows.size());
  const auto out_norm = vec(weights_->output_norm);
  const T eps = static_cast<T>(hp_.rms_eps);
  std::vector<T>& hf = scratch.hf;
  std::vector<T>& rf = scratch.rf;
  hf.resize(sz(m * E));
  rf.resize(sz(m));
  pool_->parallel_for(m, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j)
      rf[sz(j)] =
          rms_norm_forward(&x[sz(rows[sz(j)] * E)], out_norm.data(), &hf[sz(j * E)], E, eps);
  });
  std::vector<T>& logits = scratch.logits;
  logits.resize(sz(m * V));
  const auto& wout = weights_->output;
  constexpr int64_t kBlock = 1024;
  std::vector<float> tmp;
  if constexpr (std::is_same_v<T, float>) {
    if (fast() && m > 0) base_->forward(wout, hf.data(), m, logits.data());
  }
  for (int64_t v0 = 0; v0 < V && !fast(); v0 += kBlock) {
    const int64_t rows_in_block = std::min(kBlock, V - v0);
    dequantize_rows(wout, v0, rows_in_block, output_rows_, tmp);
    std::vector<T> block(sz(m * rows_in_block));
    matmul_nt(*pool_, hf.data(), output_rows_.data(), block.data(), m, E, rows_in_block);
    for (int64_t j = 0; j < m; ++j)
      std::copy_n(&block[sz(j * rows_in_block)], rows_in_block, &logits[sz(j * V + v0)]);
  }
  if (logits_out != nullptr) logits_out->assign(logits.begin(), logits.end());

  // Masked cross-entropy; dlogits = (softmax − onehot)·grad_scale on the trained rows.
  // Rows in parallel; each row's exponentials are computed once, in T, and summed in double.
  std::vector<double> row_loss(sz(m), 0.0);
  std::vector<float>& row_scale = scratch.row_scale;  // the float path's dlogits row factors
  row_scale.assign(sz(m), 1.0f);
  pool_->parallel_for(m, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      const int64_t t = rows[sz(j)];
      T* row = &logits[sz(j * V)];
      if (t + 1 >= n || mask[sz(t + 1)] == 0) {
        std::fill_n(row, V, T(0));
        continue;
      }
      if constexpr (std::is_same_v<T, float>) {
        if (fast()) {
          const auto ce = cross_entropy_row(row, V, tokens[sz(t + 1)],
                                            static_cast<float>(grad_scale), backward);
          row_loss[sz(j)] = ce.loss;
          row_scale[sz(j)] = ce.scale;
          continue;
        }
      }
      const T max = *std::max_element(row, row + V);
      const int32_t target = tokens[sz(t + 1)];
      const T target_logit = row[target] - max;
      double sum = 0;
      for (int64_t v = 0; v < V; ++v) sum += static_cast<double>(row[v] = std::exp(row[v] - max));
      row_loss[sz(j)] = std::log(sum) - static_cast<double>(target_logit);
      if (backward) {
        const double k = grad_scale / sum;
        for (int64_t v = 0; v < V; ++v) row[v] = static_cast<T>(static_cast<double>(row[v]) * k);
        row[target] -= static_cast<T>(grad_scale);
      }
    }
  });
  double total = 0;
  for (double l : row_loss) total += l;
  output_done();
  if (!backward) return total;
  output_start = Clock::now();

  // dh = dlogits · Wout, then through the output norm into dx.
  std::vector<T>& dhf = scratch.dhf;
  zeroed(dhf, m * E);
  if constexpr (std::is_same_v<T, float>) {
    if (fast() && m > 0) base_->backward_acc(wout, logits.data(), m, dhf.data(), row_scale.data());
  }
  for (int64_t v0 = 0; v0 < V && !fast(); v0 += kBlock) {
    const int64_t rows_in_block = std::min(kBlock, V - v0);
    dequantize_rows(wout, v0, rows_in_block, output_rows_, tmp);
    std::vector<T> block(sz(m * rows_in_block));
    for (int64_t j = 0; j < m; ++j)
      std::copy_n(&logits[sz(j * V + v0)], rows_in_block, &block[sz(j * rows_in_block)]);
    matmul_nn_acc(*pool_, block.data(), output_rows_.data(), dhf.data(), m, rows_in_block, E);
  }
  T* dx = zeroed(scratch.dx, n * E);
  pool_->parallel_for(m, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j)
      rms_norm_backward(&x[sz(rows[sz(j)] * E)], out_norm.data(), rf[sz(j)], &dhf[sz(j * E)],
                        &dx[rows[sz(j)] * E], E);
  });
  output_done();
  for (int32_t il = hp_.n_layer - 1; il >= 0; --il) {
    LayerCache& c = cache_for(il);
    if (recompute) {
      c.x_in.assign(caches[sz(il)].x_in.begin(), caches[sz(il)].x_in.end());
      layer_forward(il, pass, c);
    }
    layer_backward(il, pass, c, dx);
  }
  return total;
}

template <typename T>
double LoraTrainer<T>::accumulate(std::span<const int32_t> tokens, std::span<const uint8_t> mask,
                                  double grad_scale) {
  if (tokens.size() != mask.size())
    throw Error(ErrorCode::invalid_argument, "tokens and mask differ in length");
  return run(tokens, mask, grad_scale, true, nullptr);
}

template <typename T>
double LoraTrainer<T>::loss(std::span<const int32_t> tokens, std::span<const uint8_t> mask) {
  if (tokens.size() != mask.size())
    throw Error(ErrorCode::invalid_argument, "tokens and mask differ in length");
  return run(tokens, mask, 0.0, false, nullptr);
}

template <typename T>
std::vector<float> LoraTrainer<T>::logits(std::span<const int32_t> tokens) {
  std::vector<uint8_t> mask(tokens.size(), 0);
  std::vector<float> out;
  run(tokens, mask, 0.0, false, &out);
  return out;
}

template class LoraTrainer<float>;
template class LoraTrainer<double>;

}  // namespace inference::train
