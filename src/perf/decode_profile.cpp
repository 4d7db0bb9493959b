// perf/decode_profile.cpp — see decode_profile.hpp.
#include "perf/decode_profile.hpp"

#include <algorithm>
#include <chrono>
#include <map>

#include "engine/generation/sampler.hpp"
#include "inference/error.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/ops/activations.hpp"
#include "kernels/cpu/ops/attention.hpp"
#include "kernels/cpu/ops/rms_norm.hpp"
#include "kernels/cpu/ops/rope.hpp"
#include "perf/model_traffic.hpp"
#include "perf/resident_views.hpp"
#include "testing/random_weights.hpp"

namespace inference::perf {
namespace {

using Clock = std::chrono::steady_clock;

double us_since(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

// Mean microseconds of fn() over reps calls, after one warm-up call.
template <typename Fn>
double mean_us(int reps, const Fn& fn) {
  fn();
  const auto start = Clock::now();
  for (int r = 0; r < reps; ++r) fn();
  return us_since(start) / reps;
}

struct Matmul {
  kernels::WeightView w;
  std::string name;  // tensor kind
};

int64_t need(const formats::GgufFile& file, std::string_view key) {
  const auto v = file.arch_int(key);
  if (!v || *v <= 0) {
    throw Error(ErrorCode::invalid_model,
                "decode profile: the model has no " + std::string(key) + " metadata");
  }
  return *v;
}

std::string type_name(formats::GgmlType type) {
  const auto info = formats::ggml_type_info(type);
  return info ? std::string(info->name) : "type " + std::to_string(static_cast<int>(type));
}

}  // namespace

DecodeProfile profile_decode(const formats::GgufFile& file, const ResidentTensors& tensors,
                             kernels::ThreadPool& pool, int reps) {
  const int64_t n_layer = need(file, "block_count");
  const int64_t n_embd = need(file, "embedding_length");
  const int64_t n_head = need(file, "attention.head_count");
  const int64_t n_head_kv = file.arch_int("attention.head_count_kv").value_or(n_head);
  const int64_t head_dim = file.arch_int("attention.key_length").value_or(n_embd / n_head);
  const int64_t n_ff = need(file, "feed_forward_length");
  const bool tied = file.find_tensor("output.weight") == nullptr;

  DecodeProfile profile;
  profile.reps = reps;

  // The weight matmuls, in file order (the order a pass reads them), grouped by type.
  std::vector<Matmul> matmuls;
  int64_t max_cols = 0, max_rows = 0, n_vocab = 0;
  size_t scratch_bytes = 0;
  for (const auto& t : file.tensors()) {
    if (t.ne.size() != 2) continue;
    const bool embedding = t.name == "token_embd.weight";
    if (embedding) n_vocab = t.ne[1];
    if ((embedding && !tied) || !kernels::matmul_supported(t.type)) continue;
    matmuls.push_back({tensors.view(t), embedding ? "output" : tensor_kind(t.name)});
    max_cols = std::max(max_cols, t.ne[0]);
    max_rows = std::max(max_rows, t.ne[1]);
    scratch_bytes = std::max(scratch_bytes, kernels::activation_scratch_bytes(t.type, t.ne[0], 1));
  }
  if (matmuls.empty() || n_vocab == 0) {
    throw Error(ErrorCode::invalid_model, "decode profile: no weight matrices to multiply");
  }
  std::vector<float> x(static_cast<size_t>(max_cols));
  testing::RowRng rng(11, 0, 0);
  testing::fill_normal(x, rng, 1.0f);
  std::vector<float> y(static_cast<size_t>(std::max(max_rows, n_vocab)));
  std::vector<std::byte> scratch(scratch_bytes);
  auto run = [&](const kernels::WeightView& w) {
    kernels::matmul(pool, w, x.data(), w.cols, 1, y.data(), w.rows, scratch.data());
  };

  // From memory: whole passes over every weight, each tensor timed.
  std::map<std::string, DecodeOp> by_type;
  std::map<std::string, const Matmul*> smallest;
  for (int r = -1; r < reps; ++r) {
    for (const Matmul& m : matmuls) {
      const auto start = Clock::now();
      run(m.w);
      const double us = us_since(start);
      if (r < 0) continue;
      DecodeOp& op = by_type["matmul " + type_name(m.w.type)];
      op.us_per_token += us / reps;
      if (r == 0) {
        op.bytes_per_token += static_cast<uint64_t>(m.w.rows) * m.w.row_bytes;
        op.calls_per_token += 1;
        const Matmul*& s = smallest["matmul " + type_name(m.w.type)];
        if (s == nullptr || m.w.rows * m.w.row_bytes < s->w.rows * s->w.row_bytes) s = &m;
      }
    }
  }
  // Hot: the type's smallest tensor (most likely to fit in cache) over and over.
  for (auto& [name, op] : by_type) {
    const Matmul& m = *smallest[name];
    op.hot_tensor_bytes = static_cast<uint64_t>(m.w.rows) * m.w.row_bytes;
    const double us = mean_us(std::max(20, reps * 10), [&] { run(m.w); });
    op.hot_gb_per_second = static_cast<double>(op.hot_tensor_bytes) / (us * 1e3);
    op.name = name;
    profile.ops.push_back(op);
  }

  // Attention at depth 0: every head attends to one cached position (F16 K/V), one pool job
  // per layer as the decoder does.
  {
    const int64_t q_dim = n_head * head_dim, kv_dim = n_head_kv * head_dim;
    std::vector<uint16_t> kv(static_cast<size_t>(2 * kv_dim), 0x3c00);  // F16 1.0
    const int32_t cell_pos = 0;
    std::vector<float> q(static_cast<size_t>(q_dim), 0.5f), out(static_cast<size_t>(q_dim));
    const int threads = pool.size();
    std::vector<float> tmp(static_cast<size_t>(threads * (1 + head_dim + 16)));
    auto one_layer = [&] {
      pool.run([&](int thread, int n_threads) {
        float* scores = tmp.data() + static_cast<size_t>(thread) * (1 + head_dim + 16);
        for (int64_t h = n_head * thread / n_threads; h < n_head * (thread + 1) / n_threads; ++h) {
          const int64_t kvh = h / (n_head / n_head_kv);
          const kernels::KvHeadView view{kv.data() + kvh * head_dim,
                                         kv.data() + kv_dim + kvh * head_dim,
                                         true,
                                         kv_dim,
                                         &cell_pos,
                                         1,
                                         0};
          kernels::attend_head(q.data() + h * head_dim, static_cast<int32_t>(head_dim), view,
                               {0, 0}, 0.125f, scores, scores + 1, out.data() + h * head_dim);
        }
      });
    };
    DecodeOp op{"attention (depth 0)", 0, 0, n_layer, 0, 0};
    op.us_per_token = mean_us(reps, [&] {
      for (int64_t l = 0; l < n_layer; ++l) one_layer();
    });
    op.bytes_per_token = static_cast<uint64_t>(n_layer) * kv.size() * sizeof(uint16_t);
    profile.ops.push_back(op);
  }

  // Per-row work the decoder does on the calling thread for a single token.
  {
    std::vector<float> a(static_cast<size_t>(n_embd)), b(a.size()), w(a.size(), 1.0f);
    testing::fill_normal(a, rng, 1.0f);
    // Two norms and two residual adds per layer, the output norm.
    DecodeOp op{"rms_norm + residual add", 0, 0, 2 * n_layer + 1, 0, 0};
    op.us_per_token = mean_us(reps, [&] {
      for (int64_t l = 0; l < n_layer; ++l) {
        for (int k = 0; k < 2; ++k) {
          for (int64_t i = 0; i < n_embd; ++i)
            a[static_cast<size_t>(i)] += 1e-6f * b[static_cast<size_t>(i)];
          kernels::rms_norm_row(a.data(), w.data(), b.data(), n_embd, 1e-6f);
        }
      }
      kernels::rms_norm_row(a.data(), w.data(), b.data(), n_embd, 1e-6f);
    });
    profile.ops.push_back(op);
  }
  {
    const kernels::RopeConfig rope{static_cast<int32_t>(head_dim), 10000.0f, 1.0f, nullptr, true};
    std::vector<float> angles(static_cast<size_t>(2 * head_dim));
    std::vector<float> q(static_cast<size_t>(n_head * head_dim), 0.5f);
    DecodeOp op{"rope (angles + q, k)", 0, 0, 2 * n_layer + 1, 0, 0};
    op.us_per_token = mean_us(reps, [&] {
      kernels::rope_angles(rope, 7, angles.data());
      for (int64_t l = 0; l < n_layer; ++l) {
        kernels::rope_apply(rope, angles.data(), q.data(), static_cast<int32_t>(n_head),
                            static_cast<int32_t>(head_dim));
        kernels::rope_apply(rope, angles.data(), q.data(), static_cast<int32_t>(n_head_kv),
                            static_cast<int32_t>(head_dim));
      }
    });
    profile.ops.push_back(op);
  }
  {
    std::vector<float> g(static_cast<size_t>(n_ff)), u(g.size());
    testing::fill_normal(g, rng, 1.0f);
    testing::fill_normal(u, rng, 1.0f);
    std::vector<float> out(g.size());
    DecodeOp op{"gated activation", 0, 0, n_layer, 0, 0};
    op.us_per_token = mean_us(reps, [&] {
      for (int64_t l = 0; l < n_layer; ++l) kernels::swiglu(g.data(), u.data(), out.data(), n_ff);
    });
    profile.ops.push_back(op);
  }
  {
    // Greedy sampling: the engine's arg max of the logits (what `infer bench` and temperature 0
    // pay).
    std::vector<float> logits(static_cast<size_t>(n_vocab));
    testing::fill_normal(logits, rng, 1.0f);
    volatile size_t best_index = 0;
    DecodeOp op{"sampling (greedy arg max)", 0, 0, 1, 0, 0};
    op.us_per_token =
        mean_us(reps, [&] { best_index = static_cast<size_t>(generation::argmax(logits)); });
    op.bytes_per_token = logits.size() * sizeof(float);
    profile.ops.push_back(op);
  }

  // Hand-offs: an empty job, times the jobs a token makes — per layer q/k/v (one when they
  // share an activation format, which kernels::matmul_shared_input fuses), attention, o,
  // gate/up (likewise), down; then the output matrix.
  profile.pool_run_us = mean_us(std::max(200, reps * 100), [&] { pool.run([](int, int) {}); });
  auto runs_for = [&](std::initializer_list<const char*> kinds) {
    std::vector<formats::GgmlType> formats;
    for (const char* k : kinds) {
      const auto* t = file.find_tensor(std::string("blk.0.") + k + ".weight");
      if (t != nullptr) formats.push_back(kernels::activation_type(t->type));
    }
    const bool shared = std::all_of(formats.begin(), formats.end(),
                                    [&](formats::GgmlType f) { return f == formats[0]; });
    return shared ? int64_t{1} : static_cast<int64_t>(formats.size());
  };
  profile.pool_runs_per_token = n_layer * (runs_for({"attn_q", "attn_k", "attn_v"}) + 1 + 1 +
                                           runs_for({"ffn_gate", "ffn_up"}) + 1) +
                                1;
  DecodeOp sync{"thread pool hand-offs", 0, 0, profile.pool_runs_per_token, 0, 0};
  sync.us_per_token = profile.pool_run_us * static_cast<double>(profile.pool_runs_per_token);
  profile.ops.push_back(sync);

  for (const DecodeOp& op : profile.ops) profile.total_us_per_token += op.us_per_token;
  return profile;
}

}  // namespace inference::perf
