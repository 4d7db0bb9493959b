// infer info PATH — what a model file or directory is, from its headers alone (no tensor data
// is read): architecture, size, quantisation, shape, tokenizer; --tensors, --metadata, --json.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "formats/display.hpp"
#include "formats/model_summary.hpp"

namespace inference::cli {
namespace {

using formats::format_bytes;
using formats::format_count;

struct InfoOptions {
  std::string path;
  bool tensors = false;
  bool metadata = false;
  bool json = false;
};

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

nlohmann::ordered_json to_json(const formats::ModelSummary& s, const InfoOptions& options) {
  nlohmann::ordered_json out = {
      {"path", s.path.string()},
      {"format", s.format},
      {"architecture", s.architecture},
      {"name", s.name},
      {"parameter_count", s.parameter_count},
      {"file_type", s.file_type},
      {"context_length", s.context_length},
      {"n_layers", s.n_layers},
      {"n_embd", s.n_embd},
      {"n_ff", s.n_ff},
      {"n_heads", s.n_heads},
      {"n_kv_heads", s.n_kv_heads},
      {"head_dim", s.head_dim_k},
      {"vocab_size", s.vocab_size},
      {"sliding_window", s.sliding_window},
      {"tokenizer_model", s.tokenizer_model},
      {"has_chat_template", s.has_chat_template},
      {"size_bytes", s.size_bytes},
      {"weight_bytes", s.weight_bytes},
      {"n_tensors", s.tensors.size()},
  };
  if (s.format == "gguf") out["gguf_version"] = s.gguf_version;
  if (options.tensors) {
    auto& list = out["tensors"] = nlohmann::ordered_json::array();
    for (const auto& t : s.tensors) {
      list.push_back(
          {{"name", t.name}, {"type", t.type}, {"shape", t.shape}, {"bytes", t.n_bytes}});
    }
  }
  if (options.metadata) {
    auto& list = out["metadata"] = nlohmann::ordered_json::array();
    for (const auto& m : s.metadata) {
      list.push_back({{"key", m.key}, {"type", m.type}, {"value", m.value}});
    }
  }
  return out;
}

void print_text(const formats::ModelSummary& s, const InfoOptions& options) {
  auto row = [](const char* label, const std::string& value) {
    std::printf("%-16s %s\n", label, value.c_str());
  };
  auto number = [](int64_t v) { return v > 0 ? std::to_string(v) : std::string("unknown"); };
  row("path:", s.path.string());
  row("format:", s.format == "gguf" ? "GGUF v" + std::to_string(s.gguf_version) : "Safetensors");
  row("architecture:", s.architecture.empty() ? "unknown" : s.architecture);
  row("name:", s.name);
  row("parameters:",
      format_count(s.parameter_count) + " (" + std::to_string(s.parameter_count) + ")");
  row("file type:", s.file_type.empty() ? "unknown" : s.file_type);
  row("context length:", number(s.context_length));
  row("layers:", number(s.n_layers));
  row("embedding:", number(s.n_embd));
  row("heads:", number(s.n_heads) + " (kv " + number(s.n_kv_heads) + ", head size " +
                    number(s.head_dim_k) + ")");
  if (s.sliding_window > 0) {
    size_t sliding = 0;
    for (bool b : s.sliding_layers) sliding += b;
    row("sliding window:", std::to_string(s.sliding_window) + " tokens on " +
                               std::to_string(sliding) + " of " + std::to_string(s.n_layers) +
                               " layers");
  }
  row("vocab size:", number(s.vocab_size));
  row("tokenizer:", s.tokenizer_model.empty() ? "none" : s.tokenizer_model);
  row("chat template:", s.has_chat_template ? "yes" : "no");
  row("size on disk:",
      format_bytes(s.size_bytes) + " (" + std::to_string(s.size_bytes) + " bytes)");
  row("tensors:", std::to_string(s.tensors.size()) + " (" + format_bytes(s.weight_bytes) + ")");
  if (options.metadata) {
    std::printf("\nmetadata (%zu):\n", s.metadata.size());
    for (const auto& m : s.metadata) {
      std::printf("  %-40s %-16s %s\n", m.key.c_str(), m.type.c_str(), m.value.c_str());
    }
  }
  if (options.tensors) {
    std::printf("\ntensors (%zu):\n", s.tensors.size());
    for (const auto& t : s.tensors) {
      std::printf("  %-40s %-8s %-24s %s\n", t.name.c_str(), t.type.c_str(),
                  shape_text(t.shape).c_str(), std::to_string(t.n_bytes).c_str());
    }
  }
}

void setup_info(CLI::App& root) {
  auto* cmd = root.add_subcommand("info", "Describe a model file or directory (headers only)");
  auto options = std::make_shared<InfoOptions>();
  cmd->add_option("PATH", options->path, "A .gguf file, a .safetensors file or a model directory")
      ->required();
  cmd->add_flag("--tensors", options->tensors, "List every tensor: name, type, shape, bytes");
  cmd->add_flag("--metadata", options->metadata, "Dump every metadata key");
  cmd->add_flag("--json", options->json, "One JSON object (schema in docs/formats.md)");
  cmd->callback([options] {
    formats::ModelSummary summary = formats::summarize_model(options->path);
    if (options->json) {
      std::cout << to_json(summary, *options).dump(2) << "\n";
    } else {
      print_text(summary, *options);
    }
  });
}

const CommandRegistration kRegister{30, setup_info};

}  // namespace
}  // namespace inference::cli
