// infer quantize IN OUT TYPE — rewrites a GGUF model (or a Hugging Face Safetensors directory)
// with its weights in another block format.
//
// Which tensor gets which type follows llama.cpp's published llama-quantize rules (without an
// importance matrix), so a Q4_K_M written here has the same tensor types as llama.cpp's:
// - only 2-D weights are quantised; norms, biases, rope factors, gating tensors keep their type;
// - the output matrix (token_embd when the model ties it) gets Q6_K in every quantised type but
//   Q8_0 (Q8_0 when its rows are not a multiple of the base type's block);
// - the _M mixes promote attn_v and ffn_down to Q6_K on the first and last eighth of the layers
//   and every third layer in between (use_more_bits), fused attn_qkv to Q5_K/Q6_K;
// - rows not a multiple of 256 fall back from Q4_K/Q5_K/Q6_K to Q5_0/Q5_1/Q8_0 (F16 if even
//   that does not fit).
// --pure turns the rules off (every weight gets TYPE, fallbacks still apply). The blocks come
// from the kernels' reference quantisers, which reproduce llama-quantize bit for bit. All
// metadata is kept; general.quantization_version and general.file_type are set.
// IN may also be a Hugging Face Safetensors directory: its tensors and metadata are first put
// in GGUF form (cli/hf_quantize_input.cpp), then the same rules apply.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/hf_quantize_input.hpp"
#include "formats/ggml_types.hpp"
#include "formats/gguf.hpp"
#include "inference/error.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/quantize.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace inference::cli {
namespace {

using formats::GgmlType;

struct QuantizeOptions {
  std::string in;
  std::string out;
  std::string type;
  bool pure = false;
  bool allow_requantize = false;
  int threads = 0;
};

/// The requested file type: a base tensor type, and whether it is one of the _M mixes.
struct Target {
  std::string name;
  GgmlType base = GgmlType::F16;
  bool medium_mix = false;
  uint32_t file_type = 1;  // llama.cpp's LLAMA_FTYPE numbering
};

std::optional<Target> parse_target(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (text == "Q4_K_M") return Target{text, GgmlType::Q4_K, true, 15};
  if (text == "Q5_K_M") return Target{text, GgmlType::Q5_K, true, 17};
  const auto type = formats::ggml_type_from_name(text);
  if (!type || !kernels::quantize_supported(*type)) return std::nullopt;
  const auto file_type = formats::file_type_for_tensor_type(*type);
  if (!file_type) return std::nullopt;
  return Target{text, *type, false, *file_type};
}

bool is_quantized(GgmlType type) {
  const auto info = formats::ggml_type_info(type);
  return info && info->quantized;
}

uint32_t block_size(GgmlType type) {
  const auto info = formats::ggml_type_info(type);
  return info ? info->block_size : 1;
}

bool contains(const std::string& s, const char* part) {
  return s.find(part) != std::string::npos;
}

/// llama.cpp's selection of the tensors it quantises at all.
bool should_quantize(const formats::GgufTensor& t) {
  const std::string& n = t.name;
  if (n.size() < 6 || n.compare(n.size() - 6, 6, "weight") != 0) return false;
  if (t.ne.size() < 2) return false;
  for (const char* keep : {"_norm.weight", "ffn_gate_inp.weight", "altup", "laurel",
                           "per_layer_model_proj", "ssm_conv1d.weight", "attn_rel_b.weight"}) {
    if (contains(n, keep)) return false;
  }
  return n != "position_embd.weight" && n != "token_types.weight";
}

/// First and last eighth of the layers, and every third one in between (llama.cpp).
bool use_more_bits(int i_layer, int n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

/// Counters of the mix rules, in tensor order (as llama.cpp counts them).
struct MixState {
  bool has_output = false;
  int n_attn_v = 0, i_attn_v = 0;
  int n_ffn_down = 0, i_ffn_down = 0;
};

GgmlType choose_type(const Target& target, bool pure, const formats::GgufTensor& t, MixState& mix) {
  GgmlType type = target.base;
  if (!pure && is_quantized(target.base)) {
    const std::string& n = t.name;
    if (n == "output.weight" || (!mix.has_output && n == "token_embd.weight")) {
      if (t.ne[0] % block_size(type) != 0) {
        type = GgmlType::Q8_0;
      } else if (type != GgmlType::Q8_0) {
        type = GgmlType::Q6_K;
      }
    } else if (contains(n, "attn_v.weight")) {
      if (target.medium_mix && use_more_bits(mix.i_attn_v, mix.n_attn_v)) type = GgmlType::Q6_K;
      ++mix.i_attn_v;
    } else if (contains(n, "ffn_down")) {
      if (target.medium_mix && use_more_bits(mix.i_ffn_down, mix.n_ffn_down)) {
        type = GgmlType::Q6_K;
      }
      ++mix.i_ffn_down;
    } else if (contains(n, "attn_qkv.weight") && target.medium_mix) {
      type = target.base == GgmlType::Q4_K ? GgmlType::Q5_K : GgmlType::Q6_K;
    }
  }
  if (t.ne[0] % block_size(type) != 0) {
    switch (type) {
      case GgmlType::Q4_K:
        type = GgmlType::Q5_0;
        break;
      case GgmlType::Q5_K:
        type = GgmlType::Q5_1;
        break;
      case GgmlType::Q6_K:
        type = GgmlType::Q8_0;
        break;
      default:
        throw Error(ErrorCode::unsupported,
                    "quantize: tensor '" + t.name + "' has rows of " + std::to_string(t.ne[0]) +
                        " elements, not a multiple of the " + target.name + " block size");
    }
    if (t.ne[0] % block_size(type) != 0) type = GgmlType::F16;
  }
  return type;
}

/// The tensors in llama.cpp's order (its loader's map): by layer number ("blk.N." prefix;
/// tensors outside the layers first), then by name. llama-quantize writes and counts them in
/// this order, so the output matches its files and the mix counters see the same sequence.
std::vector<const formats::GgufTensor*> llama_order(const std::vector<formats::GgufTensor>& ts) {
  auto layer_of = [](const std::string& name) {
    int layer = -1;
    if (name.rfind("blk.", 0) == 0) {
      const size_t end = name.find('.', 4);
      if (end != std::string::npos && end > 4 && name.find_first_not_of("0123456789", 4) == end &&
          end - 4 < 9) {
        layer = std::stoi(name.substr(4, end - 4));
      }
    }
    return layer;
  };
  std::vector<const formats::GgufTensor*> order;
  for (const auto& t : ts) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [&](const auto* a, const auto* b) {
    const int la = layer_of(a->name), lb = layer_of(b->name);
    return la != lb ? la < lb : a->name < b->name;
  });
  return order;
}

/// Draws "[=====>    ]  45% name" on stderr (only when it is a terminal).
class ProgressBar {
 public:
  explicit ProgressBar(uint64_t total) : total_(total), enabled_(isatty(STDERR_FILENO) != 0) {}
  void update(uint64_t done, const std::string& label) {
    if (!enabled_) return;
    const int width = 30;
    const double f = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
    const int filled = static_cast<int>(f * width);
    std::string bar(static_cast<size_t>(filled), '=');
    if (filled < width) bar += '>';
    bar.resize(width, ' ');
    std::fprintf(stderr, "\r[%s] %3d%% %-48.48s", bar.c_str(), static_cast<int>(f * 100),
                 label.c_str());
    std::fflush(stderr);
  }
  void finish() {
    if (enabled_) std::fprintf(stderr, "\n");
  }

 private:
  uint64_t total_;
  bool enabled_;
};

/// Converts one tensor to `type`, rows split across the pool.
std::vector<std::byte> convert_tensor(kernels::ThreadPool& pool, const formats::GgufTensor& t,
                                      GgmlType type) {
  const int64_t cols = t.ne[0];
  const auto rows = static_cast<int64_t>(t.n_rows());
  const auto in_row = formats::ggml_row_bytes(t.type, static_cast<uint64_t>(cols));
  const auto out_row = formats::ggml_row_bytes(type, static_cast<uint64_t>(cols));
  if (!in_row || !out_row) {
    throw Error(ErrorCode::invalid_model, "quantize: tensor '" + t.name + "' has bad row size");
  }
  std::vector<std::byte> out(*out_row * static_cast<uint64_t>(rows));
  struct Job {
    const formats::GgufTensor* t;
    GgmlType type;
    int64_t cols;
    uint64_t in_row, out_row;
    std::byte* out;
    std::atomic<bool> failed{false};
  } job{&t, type, cols, *in_row, *out_row, out.data()};
  Job* j = &job;
  pool.parallel_for(rows, [j](int64_t r0, int64_t r1) {
    try {
      std::vector<float> row(static_cast<size_t>(j->cols));
      for (int64_t r = r0; r < r1; ++r) {
        kernels::dequantize_row(j->t->type,
                                j->t->data.data() + static_cast<uint64_t>(r) * j->in_row,
                                row.data(), j->cols);
        kernels::quantize_row(j->type, row.data(), j->out + static_cast<uint64_t>(r) * j->out_row,
                              j->cols);
      }
    } catch (...) {
      j->failed = true;  // kernels never throw for supported types; keep the pool alive anyway
    }
  });
  if (job.failed) {
    throw Error(ErrorCode::unsupported, "quantize: cannot convert tensor '" + t.name + "'");
  }
  return out;
}

void run_quantize(const QuantizeOptions& opt) {
  const auto target = parse_target(opt.type);
  if (!target) {
    throw ExitRequest{kUsage, "quantize: unknown or unsupported type '" + opt.type +
                                  "' (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, "
                                  "Q6_K, Q4_K_M, Q5_K_M)"};
  }
  formats::GgufWriter writer;
  std::optional<formats::GgufFile> gguf_in;
  std::optional<HfQuantizeInput> hf_in;
  std::error_code ec;
  if (std::filesystem::is_directory(opt.in, ec)) {
    hf_in.emplace(opt.in);
    hf_in->set_metadata(writer);
  } else {
    gguf_in.emplace(formats::GgufFile::open(opt.in));
    // Like llama-quantize: every key is kept, and the two it sets move to the end.
    for (const auto& [key, value] : gguf_in->metadata()) {
      if (key != "general.quantization_version" && key != "general.file_type") {
        writer.set(key, value);
      }
    }
  }
  const std::vector<formats::GgufTensor>& tensors = hf_in ? hf_in->tensors() : gguf_in->tensors();
  MixState mix;
  uint64_t total_bytes = 0;
  for (const auto& t : tensors) {
    if (t.name == "output.weight") mix.has_output = true;
    if (contains(t.name, "attn_v.weight")) ++mix.n_attn_v;
    if (contains(t.name, "ffn_down")) ++mix.n_ffn_down;
    total_bytes += t.n_bytes;
  }
  writer.set_u32("general.quantization_version", 2);
  writer.set_u32("general.file_type", target->file_type);

  kernels::ThreadPool pool(opt.threads);
  ProgressBar progress(total_bytes);
  std::deque<std::vector<std::byte>> converted;  // owned until write(); deque: stable storage
  uint64_t done_bytes = 0, in_bytes = 0, out_bytes = 0;
  for (const formats::GgufTensor* tp : llama_order(tensors)) {
    const formats::GgufTensor& t = *tp;
    progress.update(done_bytes, t.name);
    GgmlType type = t.type;
    if (should_quantize(t)) type = choose_type(*target, opt.pure, t, mix);
    if (type != t.type && is_quantized(t.type) && !opt.allow_requantize) {
      throw Error(ErrorCode::unsupported,
                  "quantize: tensor '" + t.name +
                      "' is already quantised; requantising loses precision (use "
                      "--allow-requantize to do it anyway)");
    }
    if (type == t.type) {
      writer.add_tensor(t.name, t.type, t.ne, t.data, /*copy=*/false);
      out_bytes += t.n_bytes;
    } else {
      converted.push_back(convert_tensor(pool, t, type));
      writer.add_tensor(t.name, type, t.ne, converted.back(), /*copy=*/false);
      out_bytes += converted.back().size();
    }
    in_bytes += t.n_bytes;
    done_bytes += t.n_bytes;
  }
  progress.update(total_bytes, "writing " + opt.out);
  writer.write(opt.out);
  progress.finish();
  std::fprintf(stderr, "quantize: %s -> %s (%s): %.1f MiB -> %.1f MiB, %zu tensors\n",
               opt.in.c_str(), opt.out.c_str(), target->name.c_str(),
               static_cast<double>(in_bytes) / (1 << 20),
               static_cast<double>(out_bytes) / (1 << 20), tensors.size());
}

void setup_quantize(CLI::App& root) {
  auto opt = std::make_shared<QuantizeOptions>();
  auto* cmd = root.add_subcommand(
      "quantize",
      "Write a GGUF model (from a GGUF or a Safetensors directory) with its weights in another "
      "format (llama.cpp's rules)");
  cmd->add_option("IN", opt->in,
                  "Input GGUF, or Hugging Face directory (config.json, *.safetensors, "
                  "tokenizer.json), with F32, F16 or BF16 weights")
      ->required();
  cmd->add_option("OUT", opt->out, "Output GGUF")->required();
  cmd->add_option("TYPE", opt->type,
                  "F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, Q4_K_M, Q5_K_M")
      ->required();
  cmd->add_flag("--pure", opt->pure,
                "Every weight gets TYPE (no Q6_K output, no _M promotions; fallbacks still apply)");
  cmd->add_flag("--allow-requantize", opt->allow_requantize,
                "Allow converting tensors that are already quantised");
  cmd->add_option("-t,--threads", opt->threads, "Threads (default: one per physical core)");
  cmd->callback([opt] { run_quantize(*opt); });
}

const CommandRegistration kRegister{70, setup_quantize};

}  // namespace
}  // namespace inference::cli
