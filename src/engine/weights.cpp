// engine/weights.cpp — binding tensors by role, with shape and type checks.
#include "engine/weights.hpp"

#include <cstring>
#include <string>

#include "inference/error.hpp"
#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/mlx_affine8.hpp"

namespace inference::engine {
namespace {

using formats::GgmlType;

class Binder {
 public:
  Binder(const TensorSource& source, HParams& hp) : source_(source), hp_(hp) {}

  std::optional<TensorRef> find(const std::string& name) {
    auto t = source_.find(name);
    if (t) {
      uint64_t n = 1;
      for (int64_t d : t->ne) n *= static_cast<uint64_t>(d);
      parameters_ += n;
    }
    return t;
  }

  TensorRef require(const std::string& name) {
    auto t = find(name);
    if (!t) fail(ErrorCode::invalid_model, "missing tensor " + name);
    return *t;
  }

  // A [rows x cols] matrix usable by matmul(): shape, type and byte size checked.
  kernels::WeightView matrix(const TensorRef& t, const std::string& name, int64_t cols,
                             int64_t rows) {
    if (t.ne.size() < 2 || t.ne[0] != cols || t.ne[1] != rows) {
      fail(ErrorCode::invalid_model, "tensor " + name + " has shape " + shape(t.ne) +
                                         ", expected [" + std::to_string(cols) + ", " +
                                         std::to_string(rows) + "]");
    }
    for (size_t i = 2; i < t.ne.size(); ++i) {
      if (t.ne[i] != 1) fail(ErrorCode::invalid_model, "tensor " + name + " is not 2-D");
    }
    if (!kernels::matmul_supported(t.type)) {
      auto info = formats::ggml_type_info(t.type);
      fail(ErrorCode::unsupported, "tensor " + name + " has type " +
                                       std::string(info ? info->name : "unknown") +
                                       ", which the CPU kernels do not support");
    }
    auto row_bytes = formats::ggml_row_bytes(t.type, static_cast<uint64_t>(cols));
    if (t.type == kernels::kMlxAffine8) {  // converted MLX weights: not a GGUF type
      row_bytes = cols % kernels::kMlxBlock == 0
                      ? std::optional<uint64_t>(kernels::mlx_affine8_row_bytes(cols))
                      : std::nullopt;
    }
    if (!row_bytes || *row_bytes * static_cast<uint64_t>(rows) > t.n_bytes) {
      fail(ErrorCode::invalid_model, "tensor " + name + " holds fewer bytes than its shape needs");
    }
    return {t.type, t.data, rows, cols, static_cast<size_t>(*row_bytes)};
  }

  kernels::WeightView matrix(const std::string& name, int64_t cols, int64_t rows) {
    return matrix(require(name), name, cols, rows);
  }

  // A vector of n floats (F32, F16 or BF16 storage), copied.
  std::vector<float> vec(const TensorRef& t, const std::string& name, int64_t n) {
    uint64_t count = 1;
    for (int64_t d : t.ne) count *= static_cast<uint64_t>(d);
    if (count != static_cast<uint64_t>(n)) {
      fail(ErrorCode::invalid_model, "tensor " + name + " has " + std::to_string(count) +
                                         " elements, expected " + std::to_string(n));
    }
    std::vector<float> out(static_cast<size_t>(n));
    const uint64_t elem = t.type == GgmlType::F32 ? 4 : 2;
    if (t.type != GgmlType::F32 && t.type != GgmlType::F16 && t.type != GgmlType::BF16) {
      fail(ErrorCode::unsupported, "tensor " + name + " must be F32, F16 or BF16");
    }
    if (t.n_bytes < count * elem) fail(ErrorCode::invalid_model, "tensor " + name + " truncated");
    for (int64_t i = 0; i < n; ++i) {
      if (t.type == GgmlType::F32) {
        std::memcpy(&out[static_cast<size_t>(i)], t.data + i * 4, 4);
      } else {
        uint16_t h;
        std::memcpy(&h, t.data + i * 2, 2);
        out[static_cast<size_t>(i)] =
            t.type == GgmlType::F16 ? kernels::fp16_to_fp32(h) : kernels::bf16_to_fp32(h);
      }
    }
    return out;
  }

  std::vector<float> vec(const std::string& name, int64_t n) { return vec(require(name), name, n); }

  std::vector<float> norm(const std::string& name, int64_t n) {
    auto w = vec(name, n);
    if (source_.norms_stored_minus_one()) {
      for (float& x : w) x += 1.0f;
    }
    return w;
  }

  std::vector<float> optional_vec(const std::string& name, int64_t n) {
    auto t = find(name);
    return t ? vec(*t, name, n) : std::vector<float>{};
  }

  [[noreturn]] void fail(ErrorCode code, const std::string& what) const {
    throw Error(code, source_.describe() + ": " + what);
  }

  uint64_t parameters() const { return parameters_; }

 private:
  static std::string shape(const std::vector<int64_t>& ne) {
    std::string s = "[";
    for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
    return s + "]";
  }

  const TensorSource& source_;
  HParams& hp_;
  uint64_t parameters_ = 0;
};

}  // namespace

ModelWeights bind_weights(const TensorSource& source, HParams& hp) {
  Binder b(source, hp);
  ModelWeights w;
  const arch::Architecture& arch = *hp.arch;

  TensorRef embd = b.require("token_embd.weight");
  if (embd.ne.size() < 2 || embd.ne[1] <= 0 || embd.ne[1] > (1 << 24)) {
    b.fail(ErrorCode::invalid_model, "token_embd.weight has an invalid shape");
  }
  hp.n_vocab = static_cast<int32_t>(embd.ne[1]);
  hp.validate(source.describe());
  w.token_embd = b.matrix(embd, "token_embd.weight", hp.n_embd, hp.n_vocab);
  w.output_norm = b.norm("output_norm.weight", hp.n_embd);
  if (auto out = source.output_repeats_embedding() ? source.find("output.weight")
                                                   : b.find("output.weight")) {
    w.output = b.matrix(*out, "output.weight", hp.n_embd, hp.n_vocab);
  } else {
    w.output = w.token_embd;  // tied embeddings
  }
  w.rope_freqs = b.optional_vec("rope_freqs.weight", hp.rope_dims / 2);

  const int64_t e = hp.n_embd, q = hp.q_dim(), kv = hp.kv_dim(), ff = hp.n_ff;
  w.layers.resize(static_cast<size_t>(hp.n_layer));
  for (int32_t il = 0; il < hp.n_layer; ++il) {
    LayerWeights& l = w.layers[static_cast<size_t>(il)];
    const std::string p = "blk." + std::to_string(il) + ".";
    l.attn_norm = b.norm(p + "attn_norm.weight", e);
    l.wq = b.matrix(p + "attn_q.weight", e, q);
    l.wk = b.matrix(p + "attn_k.weight", e, kv);
    l.wv = b.matrix(p + "attn_v.weight", e, kv);
    l.wo = b.matrix(p + "attn_output.weight", q, e);
    if (arch.qkv_bias) {
      l.bq = b.vec(p + "attn_q.bias", q);
      l.bk = b.vec(p + "attn_k.bias", kv);
      l.bv = b.vec(p + "attn_v.bias", kv);
    }
    if (arch.qk_norm) {
      l.q_norm = b.norm(p + "attn_q_norm.weight", hp.head_dim);
      l.k_norm = b.norm(p + "attn_k_norm.weight", hp.head_dim);
    }
    if (arch.post_norms) {
      l.post_attn_norm = b.norm(p + "post_attention_norm.weight", e);
      l.post_ffn_norm = b.norm(p + "post_ffw_norm.weight", e);
    }
    l.ffn_norm = b.norm(p + "ffn_norm.weight", e);
    l.gate = b.matrix(p + "ffn_gate.weight", e, ff);
    l.up = b.matrix(p + "ffn_up.weight", e, ff);
    l.down = b.matrix(p + "ffn_down.weight", ff, e);
  }
  w.parameter_count = b.parameters();
  return w;
}

std::vector<kernels::WeightView*> multiplied_matrices(ModelWeights& w) {
  std::vector<kernels::WeightView*> all = {&w.output};
  for (LayerWeights& l : w.layers)
    for (auto* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.gate, &l.up, &l.down}) all.push_back(m);
  return all;
}

uint64_t weight_bytes_per_token(const ModelWeights& w) {
  auto matrix = [](const kernels::WeightView& v) {
    return static_cast<uint64_t>(v.rows) * v.row_bytes;
  };
  auto floats = [](const std::vector<float>& v) { return v.size() * sizeof(float); };
  const bool tied = w.output.data == w.token_embd.data;
  uint64_t bytes = matrix(w.output) + (tied ? 0 : w.token_embd.row_bytes) + floats(w.output_norm) +
                   floats(w.rope_freqs);
  for (const LayerWeights& l : w.layers) {
    for (const auto* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.gate, &l.up, &l.down}) bytes += matrix(*m);
    for (const auto* v : {&l.attn_norm, &l.bq, &l.bk, &l.bv, &l.q_norm, &l.k_norm,
                          &l.post_attn_norm, &l.ffn_norm, &l.post_ffn_norm}) {
      bytes += floats(*v);
    }
  }
  return bytes;
}

}  // namespace inference::engine
