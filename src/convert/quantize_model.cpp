// convert/quantize_model.cpp — see quantize_model.hpp.
#include "convert/quantize_model.hpp"

#include <atomic>
#include <deque>
#include <optional>
#include <vector>

#include "convert/file_type.hpp"
#include "convert/hf_to_gguf.hpp"
#include "convert/tensor_types.hpp"
#include "formats/ggml_types.hpp"
#include "formats/gguf.hpp"
#include "inference/error.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/quantize.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace inference::convert {
namespace {

using formats::GgmlType;

bool is_quantized(GgmlType type) {
  const auto info = formats::ggml_type_info(type);
  return info && info->quantized;
}

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

}  // namespace

QuantizeResult quantize_model(const std::filesystem::path& in, const std::filesystem::path& out,
                              const QuantizeOptions& options, const QuantizeProgress& progress) {
  const auto target = parse_quantize_type(options.type);
  if (!target) {
    throw Error(ErrorCode::invalid_argument, "quantize: unknown or unsupported type '" +
                                                 options.type + "' (" +
                                                 std::string(kQuantizeTypeNames) + ")");
  }
  formats::GgufWriter writer;
  std::optional<formats::GgufFile> gguf_in;
  std::optional<HfToGguf> hf_in;
  std::error_code ec;
  if (std::filesystem::is_directory(in, ec)) {
    hf_in.emplace(in);
    hf_in->set_metadata(writer);
  } else {
    gguf_in.emplace(formats::GgufFile::open(in));
    // Like llama-quantize: every key is kept, and the two it sets move to the end.
    for (const auto& [key, value] : gguf_in->metadata()) {
      if (key != "general.quantization_version" && key != "general.file_type") {
        writer.set(key, value);
      }
    }
  }
  const std::vector<formats::GgufTensor>& tensors = hf_in ? hf_in->tensors() : gguf_in->tensors();
  std::vector<TensorTypeInput> inputs;
  uint64_t total_bytes = 0;
  for (const auto& t : tensors) {
    inputs.push_back({t.name, t.ne, t.type});
    total_bytes += t.n_bytes;
  }
  const std::vector<GgmlType> types = choose_tensor_types(*target, options.pure, inputs);
  writer.set_u32("general.quantization_version", 2);
  writer.set_u32("general.file_type", target->general_file_type);

  kernels::ThreadPool pool(options.threads);
  std::deque<std::vector<std::byte>> converted;  // owned until write(); deque: stable storage
  QuantizeResult result{target->name, 0, 0, tensors.size()};
  uint64_t done_bytes = 0;
  for (const size_t i : llama_order(inputs)) {
    const formats::GgufTensor& t = tensors[i];
    if (progress) progress(done_bytes, total_bytes, t.name);
    const GgmlType type = types[i];
    if (type != t.type && is_quantized(t.type) && !options.allow_requantize) {
      throw Error(ErrorCode::unsupported,
                  "quantize: tensor '" + t.name +
                      "' is already quantised; requantising loses precision (use "
                      "--allow-requantize to do it anyway)");
    }
    if (type == t.type) {
      writer.add_tensor(t.name, t.type, t.ne, t.data, /*copy=*/false);
      result.out_bytes += t.n_bytes;
    } else {
      converted.push_back(convert_tensor(pool, t, type));
      writer.add_tensor(t.name, type, t.ne, converted.back(), /*copy=*/false);
      result.out_bytes += converted.back().size();
    }
    result.in_bytes += t.n_bytes;
    done_bytes += t.n_bytes;
  }
  if (progress) progress(total_bytes, total_bytes, "writing " + out.string());
  writer.write(out);
  return result;
}

}  // namespace inference::convert
