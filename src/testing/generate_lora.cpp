#include "testing/generate_lora.hpp"

#include <cmath>
#include <span>

#include "formats/gguf.hpp"
#include "inference/error.hpp"
#include "testing/random_weights.hpp"

namespace inference::testing {

namespace {

struct Target {
  const char* hf;    // PEFT module name
  const char* gguf;  // llama.cpp tensor name
};

constexpr Target kTargets[] = {{"q_proj", "attn_q"},      {"k_proj", "attn_k"},
                               {"v_proj", "attn_v"},      {"o_proj", "attn_output"},
                               {"gate_proj", "ffn_gate"}, {"up_proj", "ffn_up"},
                               {"down_proj", "ffn_down"}};

// [in, out] of a projection for the shape.
std::pair<int64_t, int64_t> projection_dims(const ModelShape& s, std::string_view gguf) {
  const int64_t q = s.n_head * s.head_dim, kv = s.n_head_kv * s.head_dim;
  if (gguf == "attn_q") return {s.n_embd, q};
  if (gguf == "attn_k" || gguf == "attn_v") return {s.n_embd, kv};
  if (gguf == "attn_output") return {q, s.n_embd};
  if (gguf == "ffn_down") return {s.n_ff, s.n_embd};
  return {s.n_embd, s.n_ff};  // ffn_gate, ffn_up
}

std::span<const std::byte> bytes(const std::vector<float>& v) {
  return std::as_bytes(std::span(v));
}

}  // namespace

GeneratedLora generate_lora(const ModelShape& shape, const std::filesystem::path& out,
                            const GenerateLoraOptions& options) {
  if (options.rank < 1 || options.rank > 1024)
    throw Error(ErrorCode::invalid_argument,
                "gen-lora: rank must be between 1 and 1024, got " + std::to_string(options.rank));
  std::vector<const Target*> targets;
  for (const std::string& name : options.targets) {
    const Target* found = nullptr;
    for (const Target& t : kTargets)
      if (name == t.hf || name == t.gguf) found = &t;
    if (found == nullptr)
      throw Error(ErrorCode::invalid_argument,
                  "gen-lora: unknown target '" + name + "' (q_proj … down_proj)");
    targets.push_back(found);
  }
  formats::GgufWriter w;
  w.set_string("general.architecture", std::string(shape.architecture));
  w.set_string("general.type", "adapter");
  w.set_string("general.name", std::string(shape.display_name) + " random LoRA");
  w.set_string("adapter.type", "lora");
  w.set_f32("adapter.lora.alpha", options.alpha);
  GeneratedLora result;
  uint64_t tensor = 0;
  const int64_t r = options.rank;
  for (int64_t layer = 0; layer < shape.n_layer; ++layer) {
    for (const Target* t : targets) {
      const auto [in, out_dim] = projection_dims(shape, t->gguf);
      // A ~ Kaiming-like 1/sqrt(in); B small, so the update is a perturbation of the base.
      std::vector<float> a(static_cast<size_t>(r * in)), b(static_cast<size_t>(out_dim * r));
      for (int64_t row = 0; row < r; ++row) {
        RowRng rng(options.seed, tensor, static_cast<uint64_t>(row));
        fill_normal(std::span(a).subspan(static_cast<size_t>(row * in), static_cast<size_t>(in)),
                    rng, 1.0f / std::sqrt(static_cast<float>(in)));
      }
      ++tensor;
      for (int64_t row = 0; row < out_dim; ++row) {
        RowRng rng(options.seed, tensor, static_cast<uint64_t>(row));
        fill_normal(std::span(b).subspan(static_cast<size_t>(row * r), static_cast<size_t>(r)), rng,
                    0.01f);
      }
      ++tensor;
      const std::string base = "blk." + std::to_string(layer) + "." + t->gguf + ".weight";
      // ggml shapes: lora_a is [in, r] (r rows of in), lora_b is [r, out] (out rows of r).
      w.add_tensor(base + ".lora_a", formats::GgmlType::F32, {in, r}, bytes(a));
      w.add_tensor(base + ".lora_b", formats::GgmlType::F32, {r, out_dim}, bytes(b));
      result.n_tensors += 2;
      result.parameters += static_cast<uint64_t>(a.size() + b.size());
    }
  }
  w.write(out);
  return result;
}

}  // namespace inference::testing
