// testing/generate_model.cpp — see generate_model.hpp.
#include "testing/generate_model.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <thread>
#include <vector>

#include "convert/file_type.hpp"
#include "convert/tensor_types.hpp"
#include "formats/gguf.hpp"
#include "inference/error.hpp"
#include "testing/random_weights.hpp"
#include "testing/row_encoder.hpp"
#include "testing/synthetic_vocab.hpp"

namespace inference::testing {
namespace {

// Standard deviation of random matmul weights: small enough that activations neither explode
// nor vanish over the shapes' depths, like a freshly initialised network.
constexpr float kWeightSigma = 0.02f;

// The Llama 3 RoPE frequency factors of Llama-3.2-1B (published rule; llama.cpp stores them as
// rope_freqs.weight, dividing each rotation frequency).
std::vector<float> llama3_rope_factors(const ModelShape& shape) {
  std::vector<float> factors;
  const double low_wavelen = kLlama3OriginalContext / kLlama3LowFreqFactor;
  const double high_wavelen = kLlama3OriginalContext / kLlama3HighFreqFactor;
  for (int64_t i = 0; i < shape.head_dim; i += 2) {
    const double freq = 1.0 / std::pow(shape.rope_theta, static_cast<double>(i) / shape.head_dim);
    const double wavelen = 2.0 * M_PI / freq;
    double factor = 1.0;
    if (wavelen > low_wavelen) {
      factor = kLlama3RopeFactor;
    } else if (wavelen >= high_wavelen) {
      const double smooth = (kLlama3OriginalContext / wavelen - kLlama3LowFreqFactor) /
                            (kLlama3HighFreqFactor - kLlama3LowFreqFactor);
      factor = 1.0 / ((1.0 - smooth) / kLlama3RopeFactor + smooth);
    }
    factors.push_back(static_cast<float>(factor));
  }
  return factors;
}

void write_hyperparameters(formats::GgufWriter& w, const ModelShape& s,
                           const convert::FileTypeRequest& type) {
  const std::string a(s.architecture);
  w.set_string("general.architecture", a);
  w.set_string("general.name", std::string(s.display_name));
  w.set_u32("general.file_type", type.general_file_type);
  w.set_u32("general.quantization_version", 2);
  w.set_u32(a + ".vocab_size", static_cast<uint32_t>(s.n_vocab));
  w.set_u32(a + ".context_length", static_cast<uint32_t>(s.n_ctx_train));
  w.set_u32(a + ".embedding_length", static_cast<uint32_t>(s.n_embd));
  w.set_u32(a + ".block_count", static_cast<uint32_t>(s.n_layer));
  w.set_u32(a + ".feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.set_u32(a + ".attention.head_count", static_cast<uint32_t>(s.n_head));
  w.set_u32(a + ".attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  w.set_u32(a + ".attention.key_length", static_cast<uint32_t>(s.head_dim));
  w.set_u32(a + ".attention.value_length", static_cast<uint32_t>(s.head_dim));
  w.set_f32(a + ".attention.layer_norm_rms_epsilon", s.rms_eps);
  w.set_f32(a + ".rope.freq_base", s.rope_theta);
  w.set_u32(a + ".rope.dimension_count", static_cast<uint32_t>(s.head_dim));
  if (s.sliding_window > 0) {
    w.set_u32(a + ".attention.sliding_window", static_cast<uint32_t>(s.sliding_window));
    w.set_f32(a + ".rope.freq_base_swa", s.rope_theta_swa);
  }
}

// Fills rows [begin, end) of tensor `index` with its initial values and encodes them.
void generate_rows(const TensorSpec& spec, uint64_t index, formats::GgmlType type, uint64_t seed,
                   int64_t begin, int64_t end, size_t row_bytes, std::byte* out,
                   const std::vector<float>& rope_factors) {
  std::vector<float> row(static_cast<size_t>(spec.ne[0]));
  for (int64_t r = begin; r < end; ++r) {
    switch (spec.role) {
      case TensorRole::norm:
        std::fill(row.begin(), row.end(), 1.0f);
        break;
      case TensorRole::rope_freqs:
        std::copy(rope_factors.begin(), rope_factors.end(), row.begin());
        break;
      default: {
        RowRng rng(seed, index, static_cast<uint64_t>(r));
        fill_normal(row, rng, kWeightSigma);
      }
    }
    encode_rows(type, row.data(), 1, spec.ne[0], out + static_cast<size_t>(r) * row_bytes);
  }
}

}  // namespace

GeneratedModel generate_model(const ModelShape& shape, const std::filesystem::path& out,
                              const GenerateModelOptions& o) {
  auto request = convert::parse_file_type(o.type);
  if (!request) {
    throw Error(
        ErrorCode::invalid_argument,
        "unknown file type '" + o.type + "' (F32, F16, BF16, Q8_0, Q4_0, Q4_K_M, Q5_K_M, Q6_K, …)");
  }
  const auto specs = model_tensors(shape);
  // The generator writes float rows, so every tensor starts as F32 to the type rules: the ones
  // they do not quantise (norms, biases, rope factors) stay F32, as in llama.cpp's files.
  std::vector<convert::TensorTypeInput> inputs;
  for (const auto& spec : specs) inputs.push_back({spec.name, spec.ne, formats::GgmlType::F32});
  const std::vector<formats::GgmlType> types =
      convert::choose_tensor_types(*request, /*pure=*/false, inputs);
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!row_encoder_supports(types[i])) {
      auto info = formats::ggml_type_info(types[i]);
      throw Error(ErrorCode::unsupported, "file type " + request->name + " needs " +
                                              std::string(info ? info->name : "?") + " tensors (" +
                                              specs[i].name +
                                              "), which this build's quantiser cannot write");
    }
  }

  formats::GgufWriter writer;
  write_hyperparameters(writer, shape, *request);
  if (!o.vocab_from.empty()) {
    copy_vocab(writer, formats::GgufFile::open(o.vocab_from), shape.n_vocab);
  } else {
    write_synthetic_vocab(writer, shape.n_vocab, pre_tokenizer_for(shape.architecture));
  }

  const int threads = o.threads > 0
                          ? o.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const auto rope_factors = llama3_rope_factors(shape);
  std::deque<std::vector<std::byte>> buffers;  // the writer borrows them until write()
  GeneratedModel result{request->name, specs.size(), 0};
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& spec = specs[i];
    const size_t row_bytes = *formats::ggml_row_bytes(types[i], static_cast<uint64_t>(spec.ne[0]));
    const int64_t rows = spec.rows();
    auto& buffer = buffers.emplace_back(row_bytes * static_cast<size_t>(rows));
    const int n = static_cast<int>(std::min<int64_t>(threads, rows));
    std::vector<std::thread> workers;
    for (int t = 1; t < n; ++t) {
      workers.emplace_back([&, t] {
        generate_rows(spec, i, types[i], o.seed, rows * t / n, rows * (t + 1) / n, row_bytes,
                      buffer.data(), rope_factors);
      });
    }
    generate_rows(spec, i, types[i], o.seed, 0, rows / n, row_bytes, buffer.data(), rope_factors);
    for (auto& w : workers) w.join();
    writer.add_tensor(spec.name, types[i], spec.ne, buffer, /*copy=*/false);
    result.parameters += static_cast<uint64_t>(spec.ne[0]) * static_cast<uint64_t>(rows);
    if (o.progress) o.progress(i + 1, specs.size());
  }
  writer.write(out);
  return result;
}

}  // namespace inference::testing
