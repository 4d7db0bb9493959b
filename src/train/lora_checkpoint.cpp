#include "train/lora_checkpoint.hpp"

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "formats/safetensors.hpp"
#include "inference/error.hpp"

namespace inference::train {
namespace {

namespace fs = std::filesystem;
using engine::Projection;

std::string hf_module(Projection p) {
  switch (p) {
    case Projection::q:
      return "self_attn.q_proj";
    case Projection::k:
      return "self_attn.k_proj";
    case Projection::v:
      return "self_attn.v_proj";
    case Projection::o:
      return "self_attn.o_proj";
    case Projection::gate:
      return "mlp.gate_proj";
    case Projection::up:
      return "mlp.up_proj";
    case Projection::down:
      return "mlp.down_proj";
  }
  return "";
}

std::span<const std::byte> bytes(const std::vector<float>& v) {
  return std::as_bytes(std::span(v));
}

void write_text_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(ErrorCode::backend, "cannot write " + tmp.string());
    out << text;
    if (!out.flush()) throw Error(ErrorCode::backend, "cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

template <typename Fn>
void each_matrix(const TrainableLora<float>& lora, Fn&& fn) {
  for (size_t il = 0; il < lora.layers.size(); ++il) {
    for (int p = 0; p < engine::kProjections; ++p) {
      if (const auto& m = lora.layers[il][static_cast<size_t>(p)])
        fn(il, static_cast<Projection>(p), *m);
    }
  }
}

std::string state_name(size_t il, Projection p, const char* what) {
  return "layers." + std::to_string(il) + "." + engine::projection_name(p) + "." + what;
}

}  // namespace

void save_peft_adapter(const TrainableLora<float>& lora, const engine::HParams& hp,
                       bool qk_permuted, const std::string& base_model, const fs::path& dir) {
  fs::create_directories(dir);
  formats::SafetensorsWriter writer;
  writer.set_metadata("format", "pt");
  each_matrix(lora, [&](size_t il, Projection p, const TrainMatrix<float>& m) {
    const std::string name =
        "base_model.model.model.layers." + std::to_string(il) + "." + hf_module(p);
    writer.add_tensor(name + ".lora_A.weight", formats::SafetensorsDtype::F32, {m.rank, m.in},
                      bytes(m.a));
    std::vector<float> b = m.b;
    if (qk_permuted && (p == Projection::q || p == Projection::k)) {
      engine::permute_qk_rows(b, p == Projection::q ? hp.n_head : hp.n_head_kv, hp.head_dim, m.rank,
                              /*to_gguf=*/false);
    }
    writer.add_tensor(name + ".lora_B.weight", formats::SafetensorsDtype::F32, {m.out, m.rank},
                      bytes(b));
  });
  writer.write(dir / "adapter_model.safetensors");
  nlohmann::ordered_json config = {{"peft_type", "LORA"},
                                   {"task_type", "CAUSAL_LM"},
                                   {"r", lora.rank},
                                   {"lora_alpha", lora.alpha},
                                   {"lora_dropout", 0.0},
                                   {"bias", "none"},
                                   {"target_modules", lora.targets},
                                   {"use_rslora", false},
                                   {"base_model_name_or_path", base_model}};
  write_text_atomically(dir / "adapter_config.json", config.dump(2) + "\n");
}

void save_checkpoint(const TrainableLora<float>& lora, const engine::HParams& hp, bool qk_permuted,
                     const std::string& base_model, const TrainerState& state,
                     const fs::path& dir) {
  const fs::path tmp = dir.string() + ".partial-" + std::to_string(std::random_device{}());
  fs::remove_all(tmp);
  save_peft_adapter(lora, hp, qk_permuted, base_model, tmp);
  formats::SafetensorsWriter writer;
  each_matrix(lora, [&](size_t il, Projection p, const TrainMatrix<float>& m) {
    const std::vector<int64_t> a_shape{m.rank, m.in}, b_shape{m.out, m.rank};
    writer.add_tensor(state_name(il, p, "a"), formats::SafetensorsDtype::F32, a_shape, bytes(m.a));
    writer.add_tensor(state_name(il, p, "b"), formats::SafetensorsDtype::F32, b_shape, bytes(m.b));
    writer.add_tensor(state_name(il, p, "m_a"), formats::SafetensorsDtype::F32, a_shape,
                      bytes(m.m_a));
    writer.add_tensor(state_name(il, p, "v_a"), formats::SafetensorsDtype::F32, a_shape,
                      bytes(m.v_a));
    writer.add_tensor(state_name(il, p, "m_b"), formats::SafetensorsDtype::F32, b_shape,
                      bytes(m.m_b));
    writer.add_tensor(state_name(il, p, "v_b"), formats::SafetensorsDtype::F32, b_shape,
                      bytes(m.v_b));
  });
  writer.write(tmp / "optimizer.safetensors");
  nlohmann::json json = {{"step", state.step},
                         {"total_steps", state.total_steps},
                         {"config_hash", std::to_string(state.config_hash)},
                         {"last_loss", state.last_loss}};
  write_text_atomically(tmp / "trainer_state.json", json.dump(2) + "\n");
  fs::remove_all(dir);
  fs::rename(tmp, dir);
}

std::optional<fs::path> latest_checkpoint(const fs::path& out_dir) {
  std::optional<fs::path> best;
  std::error_code ec;
  if (!fs::is_directory(out_dir, ec)) return best;
  for (const auto& entry : fs::directory_iterator(out_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("checkpoint-") || name.find(".partial") != std::string::npos) continue;
    if (!fs::exists(entry.path() / "trainer_state.json")) continue;
    if (!best || name > best->filename().string()) best = entry.path();
  }
  return best;
}

TrainerState load_checkpoint(const fs::path& dir, TrainableLora<float>& lora) {
  std::ifstream in(dir / "trainer_state.json");
  auto json = nlohmann::json::parse(in, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("step"))
    throw Error(ErrorCode::invalid_model,
                (dir / "trainer_state.json").string() + " is not a trainer state");
  TrainerState state;
  state.step = json.value("step", int64_t{0});
  state.total_steps = json.value("total_steps", int64_t{0});
  state.config_hash = std::stoull(json.value("config_hash", std::string("0")));
  state.last_loss = json.value("last_loss", 0.0);
  const auto file = formats::SafetensorsFile::open(dir / "optimizer.safetensors");
  for (size_t il = 0; il < lora.layers.size(); ++il) {
    for (int p = 0; p < engine::kProjections; ++p) {
      auto& m = lora.layers[il][static_cast<size_t>(p)];
      if (!m) continue;
      auto restore = [&](const char* what, std::vector<float>& into) {
        const std::string name = state_name(il, static_cast<Projection>(p), what);
        const auto* t = file.find(name);
        if (t == nullptr || t->dtype != formats::SafetensorsDtype::F32 ||
            t->n_elements != into.size())
          throw Error(ErrorCode::invalid_model,
                      (dir / "optimizer.safetensors").string() + ": '" + name +
                          "' is missing or has another shape (was the run started with other "
                          "--rank/--targets?)");
        std::memcpy(into.data(), t->data.data(), into.size() * sizeof(float));
      };
      restore("a", m->a);
      restore("b", m->b);
      restore("m_a", m->m_a);
      restore("v_a", m->v_a);
      restore("m_b", m->m_b);
      restore("v_b", m->v_b);
    }
  }
  return state;
}

}  // namespace inference::train
