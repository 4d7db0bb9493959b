// infer gen-model — writes a random-weight GGUF model of a named real shape (Llama-3.2-1B,
// Gemma-3-1B, Qwen2.5-0.5B, tiny test shapes) with complete metadata and llama.cpp tensor names,
// so benchmarks and tests can use real shapes without downloading weights.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <iostream>
#include <thread>

#include "cli/command.hpp"
#include "cli/model_shapes.hpp"
#include "cli/random_weights.hpp"
#include "cli/row_encoder.hpp"
#include "cli/synthetic_vocab.hpp"
#include "cli/tensor_type_mix.hpp"
#include "formats/gguf.hpp"
#include "inference/error.hpp"

namespace inference::cli {
namespace {

struct GenModelOptions {
  std::string shape;
  std::string type = "F16";
  std::string out;
  std::string vocab_from;
  uint64_t seed = 1;
  int threads = 0;
};

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
                           const FileTypeRequest& type) {
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

void run_gen_model(const GenModelOptions& o) {
  const ModelShape* shape = find_model_shape(o.shape);
  if (shape == nullptr) {
    throw ExitRequest{
        kUsage, "gen-model: unknown shape '" + o.shape + "' (known: " + model_shape_names() + ")"};
  }
  auto request = parse_file_type(o.type);
  if (!request) {
    throw ExitRequest{kUsage, "gen-model: unknown --type '" + o.type +
                                  "' (F32, F16, BF16, Q8_0, Q4_0, Q4_K_M, Q5_K_M, Q6_K, …)"};
  }
  if (o.out.empty()) throw ExitRequest{kUsage, "gen-model: --out FILE is required"};
  if (o.threads < 0) throw ExitRequest{kUsage, "gen-model: --threads must be >= 0"};

  const auto specs = model_tensors(*shape);
  std::vector<formats::GgmlType> types;
  for (const auto& spec : specs) {
    types.push_back(tensor_type_for(*request, spec, shape->n_layer, shape->tied));
    if (!row_encoder_supports(types.back())) {
      auto info = formats::ggml_type_info(types.back());
      throw Error(ErrorCode::unsupported, "gen-model: --type " + request->name + " needs " +
                                              std::string(info ? info->name : "?") + " tensors (" +
                                              spec.name +
                                              "), which this build's quantiser cannot write");
    }
  }

  formats::GgufWriter writer;
  write_hyperparameters(writer, *shape, *request);
  if (!o.vocab_from.empty()) {
    copy_vocab(writer, formats::GgufFile::open(o.vocab_from), shape->n_vocab);
  } else {
    write_synthetic_vocab(writer, shape->n_vocab, pre_tokenizer_for(shape->architecture));
  }

  const int threads = o.threads > 0
                          ? o.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const auto rope_factors = llama3_rope_factors(*shape);
  const bool progress = isatty(STDERR_FILENO) != 0;
  std::deque<std::vector<std::byte>> buffers;  // the writer borrows them until write()
  uint64_t params = 0;
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
    params += static_cast<uint64_t>(spec.ne[0]) * static_cast<uint64_t>(rows);
    if (progress) std::fprintf(stderr, "\rgen-model: %zu/%zu tensors", i + 1, specs.size());
  }
  if (progress) std::fprintf(stderr, "\n");
  writer.write(o.out);
  std::cout << "wrote " << o.out << ": " << shape->name << " " << request->name << ", "
            << specs.size() << " tensors, " << params << " parameters, "
            << std::filesystem::file_size(o.out) << " bytes\n";
}

void setup_gen_model(CLI::App& root) {
  auto* cmd = root.add_subcommand(
      "gen-model", "Write a random-weight GGUF model of a named shape (for benchmarks and tests)");
  auto o = std::make_shared<GenModelOptions>();
  cmd->add_option("--shape", o->shape, "Shape: " + model_shape_names())->required();
  cmd->add_option("--type", o->type, "File type: F32, F16, BF16, Q8_0, Q4_K_M, … (default F16)");
  cmd->add_option("--out", o->out, "Output .gguf file")->required();
  cmd->add_option("--seed", o->seed, "Random seed (default 1)");
  cmd->add_option("--vocab-from", o->vocab_from,
                  "Copy the tokenizer from this GGUF (its size must match the shape's vocab)");
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all)");
  cmd->callback([o] { run_gen_model(*o); });
}

const CommandRegistration kRegister{80, setup_gen_model};

}  // namespace
}  // namespace inference::cli
