// MLX grouped-affine quantised Safetensors directories: the micro qwen2 F32 test model is
// quantised here with MLX's affine rule (4 and 8 bits, groups of 32/64/128, F16/BF16 scales) and
// written as mlx-community lays it out; the engine must give
// (a) the logits of the same model with the dequantised weights stored as F32 (the conversion
//     is lossless, so only activation rounding differs),
// (b) logits close to the original model's, and
// (c) clear errors for malformed files.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "engine/engine.hpp"
#include "engine/model_files.hpp"
#include "engine/weights.hpp"
#include "formats/gguf.hpp"
#include "formats/safetensors.hpp"
#include "inference/error.hpp"
#include "kernels/cpu/fp16.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/mlx_affine8.hpp"
#include "support/hf_files.hpp"
#include "support/testdata.hpp"

namespace inference::engine {
namespace {

namespace fs = std::filesystem;
using formats::GgmlType;
using formats::SafetensorsDtype;
using nlohmann::json;

// A float tensor of the source model under its HF name: rows x cols (cols = 0: a vector).
struct Tensor {
  std::string name;
  int64_t rows = 0, cols = 0;
  std::vector<float> data;
};

// How to quantise one matrix, and deliberate defects for the error tests.
struct Recipe {
  int bits = 4;
  int group = 64;
  SafetensorsDtype scale_dtype = SafetensorsDtype::F16;
};

fs::path source_model() {
  return test::testdata_dir() / "models/qwen2/qwen2-F32.gguf";
}

// The source model: config numbers and float tensors (it has tied embeddings and no
// q/k permutation, so its GGUF tensors are the HF ones under other names).
struct SourceModel {
  json config;
  std::vector<Tensor> tensors;
};

SourceModel read_source() {
  auto file = formats::GgufFile::open(source_model());
  SourceModel m;
  int64_t vocab = 0;
  for (const formats::GgufTensor& t : file.tensors()) {
    EXPECT_EQ(t.type, GgmlType::F32) << t.name;
    Tensor out{test::hf_tensor_name(t.name, false), t.ne.size() > 1 ? t.ne[1] : t.ne[0],
               t.ne.size() > 1 ? t.ne[0] : 0, std::vector<float>(t.n_elements)};
    std::memcpy(out.data.data(), t.data.data(), t.n_elements * 4);
    if (t.name == "token_embd.weight") vocab = t.ne[1];
    m.tensors.push_back(std::move(out));
  }
  const int64_t heads = *file.arch_int("attention.head_count");
  m.config = {{"model_type", "qwen2"},
              {"hidden_size", *file.arch_int("embedding_length")},
              {"intermediate_size", *file.arch_int("feed_forward_length")},
              {"num_hidden_layers", *file.arch_int("block_count")},
              {"num_attention_heads", heads},
              {"num_key_value_heads", *file.arch_int("attention.head_count_kv")},
              {"max_position_embeddings", *file.arch_int("context_length")},
              {"rms_norm_eps", *file.arch_float("attention.layer_norm_rms_epsilon")},
              {"rope_theta", *file.arch_float("rope.freq_base")},
              {"vocab_size", vocab},
              {"tie_word_embeddings", true}};
  return m;
}

std::vector<std::byte> encode(const std::vector<float>& v, SafetensorsDtype dtype) {
  const size_t elem = dtype == SafetensorsDtype::F32 ? 4 : 2;
  std::vector<std::byte> out(v.size() * elem);
  for (size_t i = 0; i < v.size(); ++i) {
    if (elem == 4) {
      std::memcpy(out.data() + 4 * i, &v[i], 4);
    } else {
      const uint16_t h = dtype == SafetensorsDtype::F16 ? kernels::fp32_to_fp16(v[i])
                                                        : kernels::fp32_to_bf16(v[i]);
      std::memcpy(out.data() + 2 * i, &h, 2);
    }
  }
  return out;
}

float round_to(float x, SafetensorsDtype dtype) {
  if (dtype == SafetensorsDtype::F16) return kernels::fp16_to_fp32(kernels::fp32_to_fp16(x));
  if (dtype == SafetensorsDtype::BF16) return kernels::bf16_to_fp32(kernels::fp32_to_bf16(x));
  return x;
}

// MLX's affine rule for one matrix: per group, scale = (max - min) / (2^bits - 1) and
// bias = min (both in the scale dtype), q = round((w - bias) / scale) clamped to the range.
struct Quantised {
  std::vector<uint32_t> packed;       // rows x cols*bits/32
  std::vector<float> scales, biases;  // rows x cols/group, already rounded to the dtype
  std::vector<float> dequantised;     // scale * q + bias, in float, as MLX computes it
};

Quantised quantise(const Tensor& t, const Recipe& r) {
  Quantised out;
  const int64_t groups = t.cols / r.group, per_word = 32 / r.bits, levels = (1 << r.bits) - 1;
  out.packed.assign(static_cast<size_t>(t.rows * t.cols / per_word), 0);
  out.dequantised.resize(t.data.size());
  for (int64_t row = 0; row < t.rows; ++row) {
    for (int64_t g = 0; g < groups; ++g) {
      const float* w = t.data.data() + row * t.cols + g * r.group;
      float lo = w[0], hi = w[0];
      for (int j = 0; j < r.group; ++j) lo = std::min(lo, w[j]), hi = std::max(hi, w[j]);
      const float scale = round_to((hi - lo) / static_cast<float>(levels), r.scale_dtype);
      const float bias = round_to(lo, r.scale_dtype);
      out.scales.push_back(scale);
      out.biases.push_back(bias);
      for (int j = 0; j < r.group; ++j) {
        const int64_t col = g * r.group + j;
        const long q = std::clamp<long>(std::lround((w[j] - bias) / scale), 0, levels);
        out.packed[static_cast<size_t>((row * t.cols + col) / per_word)] |=
            static_cast<uint32_t>(q) << ((col % per_word) * r.bits);
        out.dequantised[static_cast<size_t>(row * t.cols + col)] =
            scale * static_cast<float>(q) + bias;
      }
    }
  }
  return out;
}

// Writes `m` as an MLX directory (`mlx/`, matrices quantised by `recipe_of`, which returns
// nullopt for a matrix kept in F32) and the same model with the dequantised weights as F32
// (`dequantised/`). `edit` may change the config or tensors before writing (error tests).
struct Written {
  fs::path mlx, dequantised;
  std::map<std::string, std::vector<float>> dequantised_weights;
};

using RecipeFn = std::function<std::optional<Recipe>(const std::string& hf_name)>;

struct TensorOut {
  std::string name;
  SafetensorsDtype dtype;
  std::vector<int64_t> shape;
  std::vector<std::byte> bytes;
};

Written write_models(const SourceModel& m, const fs::path& dir, const RecipeFn& recipe_of,
                     const json& quantization,
                     const std::function<void(json&, std::vector<TensorOut>&)>& edit = {}) {
  Written w{dir / "mlx", dir / "dequantised", {}};
  std::vector<TensorOut> mlx, plain;
  for (const Tensor& t : m.tensors) {
    const std::optional<Recipe> r = t.cols ? recipe_of(t.name) : std::nullopt;
    std::vector<int64_t> shape =
        t.cols ? std::vector<int64_t>{t.rows, t.cols} : std::vector<int64_t>{t.rows};
    if (!r) {
      mlx.push_back({t.name, SafetensorsDtype::F32, shape, encode(t.data, SafetensorsDtype::F32)});
      plain.push_back(mlx.back());
      continue;
    }
    Quantised q = quantise(t, *r);
    const std::string module = t.name.substr(0, t.name.size() - 7);  // strip ".weight"
    const int64_t groups = t.cols / r->group;
    mlx.push_back({t.name,
                   SafetensorsDtype::U32,
                   {t.rows, t.cols * r->bits / 32},
                   std::vector<std::byte>(
                       reinterpret_cast<const std::byte*>(q.packed.data()),
                       reinterpret_cast<const std::byte*>(q.packed.data()) + q.packed.size() * 4)});
    mlx.push_back(
        {module + ".scales", r->scale_dtype, {t.rows, groups}, encode(q.scales, r->scale_dtype)});
    mlx.push_back(
        {module + ".biases", r->scale_dtype, {t.rows, groups}, encode(q.biases, r->scale_dtype)});
    plain.push_back(
        {t.name, SafetensorsDtype::F32, shape, encode(q.dequantised, SafetensorsDtype::F32)});
    w.dequantised_weights[t.name] = std::move(q.dequantised);
  }
  json config = m.config;
  json mlx_config = config;
  mlx_config["quantization"] = quantization;
  mlx_config["quantization_config"] = quantization;
  if (edit) edit(mlx_config, mlx);
  auto write_dir = [](const fs::path& d, const json& cfg, const std::vector<TensorOut>& ts) {
    fs::create_directories(d);
    std::ofstream(d / "config.json") << cfg.dump(1);
    std::ofstream(d / "tokenizer.json") << test::tiny_tokenizer_json();
    formats::SafetensorsWriter writer;
    // A 2-byte tensor first: everything after it starts misaligned, as real files may.
    const uint16_t pad = 0;
    writer.add_tensor("model.unused_padding", SafetensorsDtype::BF16, {1},
                      std::as_bytes(std::span(&pad, 1)));
    for (const TensorOut& t : ts) writer.add_tensor(t.name, t.dtype, t.shape, t.bytes);
    writer.write(d / "model.safetensors");
  };
  write_dir(w.mlx, mlx_config, mlx);
  write_dir(w.dequantised, config, plain);
  return w;
}

std::vector<float> evaluate(const fs::path& model) {
  auto engine = Engine::load(model, {.context_length = 64, .threads = 2, .kv_cache_type = "f32"});
  std::vector<BatchEntry> batch;
  for (int i = 0; i < 16; ++i) batch.push_back({(i * 37 + 5) % 90, i, 0, true});
  std::vector<float> logits;
  engine->decode(Context::background(), batch, logits);
  return logits;
}

// Largest |a - b| relative to the largest |b|.
float relative_error(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float worst = 0, spread = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    worst = std::max(worst, std::abs(a[i] - b[i]));
    spread = std::max(spread, std::abs(b[i]));
  }
  EXPECT_GT(spread, 0.5f);  // the logits are not trivially small
  return worst / spread;
}

json quantization(const Recipe& r) {
  return {{"group_size", r.group}, {"bits", r.bits}};
}

// Every matrix quantised with `r` (the embedding too, as mlx-lm does).
void expect_matches_dequantised(const Recipe& r, float activation_tolerance,
                                float original_tolerance) {
  INFERENCE_REQUIRE_TESTDATA();
  const SourceModel m = read_source();
  const fs::path dir = test::make_temp_dir("mlx-model");
  const Written w = write_models(
      m, dir, [&](const std::string&) { return r; }, quantization(r));

  // The conversion is lossless: the weights the engine holds dequantise to MLX's values.
  auto files = open_model_files(w.mlx);
  for (const char* name : {"blk.1.ffn_down.weight", "blk.0.attn_q.weight"}) {
    auto ref = files->tensors().find(name);
    ASSERT_TRUE(ref.has_value()) << name;
    const std::string hf = test::hf_tensor_name(name, false);
    const std::vector<float>& expected = w.dequantised_weights.at(hf);
    const int64_t cols = ref->ne[0], rows = ref->ne[1];
    EXPECT_EQ(ref->type, r.bits == 4 ? GgmlType::Q4_1 : kernels::kMlxAffine8) << name;
    const size_t row_bytes = ref->n_bytes / static_cast<size_t>(rows);
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t i = 0; i < rows; ++i) {
      const std::byte* src = ref->data + i * row_bytes;
      if (ref->type == kernels::kMlxAffine8) {
        kernels::dequantize_row_mlx_affine8(src, row.data(), cols);
      } else {
        kernels::dequantize_row(ref->type, src, row.data(), cols);
      }
      for (int64_t j = 0; j < cols; ++j) {
        ASSERT_EQ(row[j], expected[i * cols + j]) << name << " row " << i << " col " << j;
      }
    }
  }
  EXPECT_NE(files->quantization().find("MLX affine " + std::to_string(r.bits) + "-bit"),
            std::string::npos)
      << files->quantization();
  // The same parameters as the float model (a tied 8-bit embedding is offered twice).
  HParams hp = files->hparams();
  auto plain = open_model_files(w.dequantised);
  HParams plain_hp = plain->hparams();
  EXPECT_EQ(bind_weights(files->tensors(), hp).parameter_count,
            bind_weights(plain->tensors(), plain_hp).parameter_count);
  files.reset();

  const std::vector<float> from_mlx = evaluate(w.mlx);
  const std::vector<float> from_dequantised = evaluate(w.dequantised);
  const std::vector<float> original = evaluate(source_model());
  EXPECT_LT(relative_error(from_mlx, from_dequantised), activation_tolerance);
  // Close to the original: the MLX model is as far from it as its dequantised weights are.
  EXPECT_LT(relative_error(from_mlx, original), original_tolerance);
  EXPECT_NEAR(relative_error(from_mlx, original), relative_error(from_dequantised, original),
              activation_tolerance);
  fs::remove_all(dir);
}

// 4-bit weights become Q4_1, multiplied against Q8_1-rounded activations: the logits differ
// from the float-activation ones by that rounding (1.5% of the logit range here); 4-bit
// quantisation itself moves this random micro model's logits by 23-31% of their range.
TEST(MlxSafetensors, FourBitGroup64MatchesDequantisedModel) {
  expect_matches_dequantised({4, 64, SafetensorsDtype::F16}, 0.03f, 0.4f);
}
TEST(MlxSafetensors, FourBitGroup32MatchesDequantisedModel) {
  expect_matches_dequantised({4, 32, SafetensorsDtype::F16}, 0.03f, 0.4f);
}
TEST(MlxSafetensors, FourBitGroup128Bf16ScalesMatchesDequantisedModel) {
  expect_matches_dequantised({4, 128, SafetensorsDtype::BF16}, 0.03f, 0.4f);
}
// 8-bit blocks multiply float activations: only float summation order differs (measured
// 7e-7 of the range); 8-bit quantisation moves the logits by 1.5-2.2%.
TEST(MlxSafetensors, EightBitGroup64Bf16ScalesMatchesDequantisedModel) {
  expect_matches_dequantised({8, 64, SafetensorsDtype::BF16}, 1e-5f, 0.03f);
}
TEST(MlxSafetensors, EightBitGroup32F32ScalesMatchesDequantisedModel) {
  expect_matches_dequantised({8, 32, SafetensorsDtype::F32}, 1e-5f, 0.03f);
}
TEST(MlxSafetensors, EightBitGroup128F16ScalesMatchesDequantisedModel) {
  expect_matches_dequantised({8, 128, SafetensorsDtype::F16}, 1e-5f, 0.03f);
}

// mlx-lm's per-layer entries: one layer 8-bit with its own group size, one kept in float.
TEST(MlxSafetensors, PerLayerOverridesAreHonoured) {
  INFERENCE_REQUIRE_TESTDATA();
  const SourceModel m = read_source();
  const fs::path dir = test::make_temp_dir("mlx-overrides");
  const Recipe def{4, 64, SafetensorsDtype::F16};
  json q = quantization(def);
  q["model.layers.1.mlp.down_proj"] = {{"group_size", 32}, {"bits", 8}};
  q["model.layers.0.self_attn.v_proj"] = false;
  const Written w = write_models(
      m, dir,
      [&](const std::string& name) -> std::optional<Recipe> {
        if (name == "model.layers.1.mlp.down_proj.weight") {
          return Recipe{8, 32, SafetensorsDtype::BF16};
        }
        if (name == "model.layers.0.self_attn.v_proj.weight") return std::nullopt;
        return def;
      },
      q);
  auto files = open_model_files(w.mlx);
  EXPECT_EQ(files->tensors().find("blk.1.ffn_down.weight")->type, kernels::kMlxAffine8);
  EXPECT_EQ(files->tensors().find("blk.0.attn_v.weight")->type, GgmlType::F32);
  EXPECT_EQ(files->tensors().find("blk.0.ffn_down.weight")->type, GgmlType::Q4_1);
  EXPECT_NE(files->quantization().find("per-layer"), std::string::npos);
  files.reset();
  EXPECT_LT(relative_error(evaluate(w.mlx), evaluate(w.dequantised)), 0.03f);
  fs::remove_all(dir);
}

// BF16 scales below fp16's range cannot become Q4_1 exactly: the tensor is kept in 8-bit blocks
// with float32 scales instead, still lossless.
TEST(MlxSafetensors, FourBitScalesBeyondFp16StayExact) {
  INFERENCE_REQUIRE_TESTDATA();
  SourceModel m = read_source();
  const std::string tiny = "model.layers.0.mlp.up_proj.weight";
  for (Tensor& t : m.tensors) {
    if (t.name == tiny) {
      for (float& x : t.data) x *= 1e-7f;  // scales ~1e-9: fp16 subnormals cannot hold them
    }
  }
  const fs::path dir = test::make_temp_dir("mlx-tiny-scales");
  const Recipe r{4, 64, SafetensorsDtype::BF16};
  const Written w = write_models(
      m, dir, [&](const std::string&) { return r; }, quantization(r));
  auto files = open_model_files(w.mlx);
  auto ref = files->tensors().find("blk.0.ffn_up.weight");
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(ref->type, kernels::kMlxAffine8);
  const int64_t cols = ref->ne[0];
  std::vector<float> row(static_cast<size_t>(cols));
  kernels::dequantize_row_mlx_affine8(ref->data, row.data(), cols);
  for (int64_t j = 0; j < cols; ++j) EXPECT_EQ(row[j], w.dequantised_weights.at(tiny)[j]) << j;
  EXPECT_EQ(files->tensors().find("blk.0.ffn_gate.weight")->type, GgmlType::Q4_1);
  files.reset();
  EXPECT_LT(relative_error(evaluate(w.mlx), evaluate(w.dequantised)), 0.03f);
  fs::remove_all(dir);
}

// --- malformed directories: a clear Error naming what is wrong, never a crash ---------------

TensorOut* find_out(std::vector<TensorOut>& ts, const std::string& name) {
  for (TensorOut& t : ts) {
    if (t.name == name) return &t;
  }
  ADD_FAILURE() << "no tensor " << name;
  static TensorOut none;
  return &none;
}

void remove_out(std::vector<TensorOut>& ts, const std::string& name) {
  std::erase_if(ts, [&](const TensorOut& t) { return t.name == name; });
}

void expect_load_error(const std::string& label,
                       const std::function<void(json&, std::vector<TensorOut>&)>& edit,
                       ErrorCode code, const std::string& message_part) {
  SCOPED_TRACE(label);
  const SourceModel m = read_source();
  const fs::path dir = test::make_temp_dir("mlx-bad");
  const Recipe r{4, 64, SafetensorsDtype::F16};
  const Written w = write_models(
      m, dir, [&](const std::string&) { return r; }, quantization(r), edit);
  try {
    Engine::load(w.mlx, {.context_length = 64, .threads = 1});
    ADD_FAILURE() << "loaded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(message_part), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

const std::string kDown = "model.layers.1.mlp.down_proj";

TEST(MlxSafetensors, MalformedFilesGiveClearErrors) {
  INFERENCE_REQUIRE_TESTDATA();
  auto config = [](const char* key, json value) {
    return [key, value](json& c, std::vector<TensorOut>&) {
      c["quantization"][key] = value;
      c["quantization_config"][key] = value;
    };
  };
  expect_load_error("3 bits", config("bits", 3), ErrorCode::unsupported, "3-bit");
  expect_load_error("group 16", config("group_size", 16), ErrorCode::unsupported, "group size 16");
  expect_load_error("mxfp4", config("mode", "mxfp4"), ErrorCode::unsupported, "mxfp4");
  expect_load_error(
      "override 2 bits",
      [](json& c, std::vector<TensorOut>&) {
        c["quantization"][kDown] = {{"group_size", 64}, {"bits", 2}};
      },
      ErrorCode::unsupported, kDown);
  expect_load_error(
      "override disagrees with the file",
      [](json& c, std::vector<TensorOut>&) {
        c["quantization"][kDown] = {{"group_size", 64}, {"bits", 8}};
      },
      ErrorCode::invalid_model, kDown + ".scales has shape");
  expect_load_error(
      "override says float",
      [](json& c, std::vector<TensorOut>&) { c["quantization"][kDown] = false; },
      ErrorCode::invalid_model, "is false");
  expect_load_error(
      "no quantization in config",
      [](json& c, std::vector<TensorOut>&) {
        c.erase("quantization");
        c.erase("quantization_config");
      },
      ErrorCode::invalid_model, "config.json has no quantization");
  expect_load_error(
      "scales one group short",
      [](json&, std::vector<TensorOut>& ts) {
        TensorOut* t = find_out(ts, kDown + ".scales");
        t->shape[1] -= 1;
        t->bytes.resize(static_cast<size_t>(t->shape[0] * t->shape[1] * 2));
      },
      ErrorCode::invalid_model, kDown + ".scales has shape");
  expect_load_error(
      "biases missing",
      [](json&, std::vector<TensorOut>& ts) { remove_out(ts, kDown + ".biases"); },
      ErrorCode::invalid_model, "no .biases");
  expect_load_error(
      "packed weight without companions",
      [](json&, std::vector<TensorOut>& ts) {
        remove_out(ts, kDown + ".biases");
        remove_out(ts, kDown + ".scales");
      },
      ErrorCode::invalid_model, "U32 (packed)");
  expect_load_error(
      "weight not U32",
      [](json&, std::vector<TensorOut>& ts) {
        find_out(ts, kDown + ".weight")->dtype = SafetensorsDtype::I32;
      },
      ErrorCode::invalid_model, "dtype I32");
  expect_load_error(
      "scales of an integer type",
      [](json&, std::vector<TensorOut>& ts) {
        TensorOut* t = find_out(ts, kDown + ".scales");
        t->dtype = SafetensorsDtype::I16;
      },
      ErrorCode::invalid_model, "dtype I16");
  expect_load_error(
      "NaN scale",
      [](json&, std::vector<TensorOut>& ts) {
        const uint16_t nan = 0x7e00;
        std::memcpy(find_out(ts, kDown + ".scales")->bytes.data() + 6, &nan, 2);
      },
      ErrorCode::invalid_model, "not finite");
  expect_load_error(
      "packed columns do not match the model",
      [](json&, std::vector<TensorOut>& ts) {
        // An up projection with half its input columns: consistent with its own scales, wrong
        // for the model.
        for (const char* part : {".weight", ".scales", ".biases"}) {
          TensorOut* t = find_out(ts, "model.layers.0.mlp.up_proj" + std::string(part));
          t->shape[1] /= 2;
          t->bytes.resize(t->bytes.size() / 2);
        }
      },
      ErrorCode::invalid_model, "ffn_up.weight has shape");
}

}  // namespace
}  // namespace inference::engine
