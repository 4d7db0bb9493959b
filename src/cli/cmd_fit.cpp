// infer fit MODEL — would this model, at this context and number of parallel sequences, fit in
// memory? weights + KV cache (sliding-window layers keep only their window) + compute scratch,
// against --memory or MemAvailable. The formula is in formats/memory_estimate.hpp and
// docs/formats.md. Exit 0 whether or not it fits; the answer is printed (and "fits" in --json).
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "formats/display.hpp"
#include "formats/memory_estimate.hpp"
#include "formats/model_summary.hpp"
#include "inference/error.hpp"

namespace inference::cli {
namespace {

using formats::format_bytes;

struct FitArgs {
  std::string model;
  int64_t ctx = 0;
  int64_t slots = 1;
  int64_t batch = 512;
  int64_t threads = 0;
  std::string kv_type = "f16";
  std::string memory;
  bool json = false;
};

void setup_fit(CLI::App& root) {
  auto* cmd = root.add_subcommand("fit", "Estimate the memory a model needs and whether it fits");
  auto args = std::make_shared<FitArgs>();
  cmd->add_option("MODEL", args->model, "A .gguf file or a Safetensors model directory")
      ->required();
  cmd->add_option("--ctx", args->ctx, "Context tokens per slot (default: the model's)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  cmd->add_option("--slots", args->slots, "Concurrent sequences")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--batch", args->batch, "Tokens per forward pass while reading the prompt")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--threads", args->threads,
                  "Threads (each holds one attention row; default: all)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 16));
  cmd->add_option("--kv-type", args->kv_type, "KV cache element type")
      ->check(CLI::IsMember({"f16", "q8_0", "f32"}));
  cmd->add_option("--memory", args->memory,
                  "Memory to fit in (bytes, or 16G / 16GiB / 16GB; default: MemAvailable)")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            try {
              formats::parse_byte_size(text);
              return "";
            } catch (const Error& e) {
              return e.what();
            }
          },
          "BYTES"));
  cmd->add_flag("--json", args->json, "One JSON object (schema in docs/formats.md)");
  cmd->callback([args] {
    formats::ModelSummary model = formats::summarize_model(args->model);
    formats::FitOptions options{.context = args->ctx,
                                .slots = args->slots,
                                .kv_type = *formats::kv_cache_type_from_name(args->kv_type),
                                .batch = args->batch,
                                .threads = args->threads};
    formats::MemoryEstimate e = formats::estimate_memory(model, options);
    std::optional<uint64_t> memory;
    std::string source;
    if (!args->memory.empty()) {
      memory = formats::parse_byte_size(args->memory);
      source = "given";
    } else if ((memory = formats::available_memory_bytes())) {
      source = "MemAvailable";
    }
    std::optional<bool> fits;
    if (memory) fits = e.total_bytes <= *memory;

    if (args->json) {
      nlohmann::ordered_json out = {
          {"path", model.path.string()},
          {"architecture", model.architecture},
          {"file_type", model.file_type},
          {"context", e.context},
          {"slots", e.slots},
          {"batch", options.batch},
          {"threads", e.threads},
          {"kv_type", args->kv_type},
          {"n_layers", model.n_layers},
          {"sliding_layers", e.sliding_layers},
          {"sliding_window", model.sliding_window},
          {"weights_bytes", e.weights_bytes},
          {"kv_cache_bytes", e.kv_cache_bytes},
          {"scratch_bytes", e.scratch_bytes},
          {"total_bytes", e.total_bytes},
          {"memory_bytes", memory ? nlohmann::ordered_json(*memory) : nlohmann::ordered_json()},
          {"memory_source", source},
          {"fits", fits ? nlohmann::ordered_json(*fits) : nlohmann::ordered_json()}};
      std::cout << out.dump(2) << "\n";
      return;
    }
    auto row = [](const char* label, const std::string& value) {
      std::printf("%-10s %s\n", label, value.c_str());
    };
    auto bytes = [](uint64_t b) { return format_bytes(b) + " (" + std::to_string(b) + ")"; };
    row("model:", model.path.string() + " (" + model.architecture + ", " + model.file_type + ")");
    std::string context = std::to_string(e.context) + " tokens x " + std::to_string(e.slots) +
                          (e.slots == 1 ? " slot" : " slots") + ", KV " + args->kv_type;
    if (e.sliding_layers > 0) {
      context += "; " + std::to_string(e.sliding_layers) + " of " + std::to_string(model.n_layers) +
                 " layers keep a " + std::to_string(model.sliding_window) + "-token window";
    }
    row("context:", context);
    row("weights:", bytes(e.weights_bytes));
    row("KV cache:", bytes(e.kv_cache_bytes));
    row("scratch:", bytes(e.scratch_bytes));
    row("total:", bytes(e.total_bytes));
    if (!memory) {
      row("memory:", "unknown (pass --memory)");
      return;
    }
    row("memory:", bytes(*memory) + " " + source);
    if (*fits) {
      row("fits:", "yes (" + format_bytes(*memory - e.total_bytes) + " to spare)");
    } else {
      row("fits:", "no (" + format_bytes(e.total_bytes - *memory) + " short)");
    }
  });
}

const CommandRegistration kRegister{50, setup_fit};

}  // namespace
}  // namespace inference::cli
