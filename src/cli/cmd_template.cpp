// infer template (MODEL | --template FILE.jinja) --messages FILE.json — renders a conversation
// with a chat template exactly as Hugging Face's apply_chat_template would, and writes the
// prompt to stdout byte for byte (no newline added). MODEL: a GGUF file
// (tokenizer.chat_template, BOS/EOS token texts), a Hugging Face directory or its
// tokenizer_config.json / tokenizer.json. FILE.json: a list of messages, or an object with
// "messages", optional "tools", "add_generation_prompt" and any other template variables.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>

#include "chat/chat_template.hpp"
#include "cli/command.hpp"
#include "formats/gguf.hpp"
#include "inference/error.hpp"

namespace inference::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct TemplateOptions {
  std::string model;
  std::string template_file;
  std::string messages_file;
  std::string tools_file;
  std::string bos;
  std::string eos;
  bool add_generation_prompt = false;
};

// What a model says about its chat format.
struct ModelTemplate {
  std::string source;
  std::optional<std::string> bos;
  std::optional<std::string> eos;
};

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, path.string() + ": cannot open");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Json read_json(const fs::path& path) {
  Json json = Json::parse(read_text(path), nullptr, false);
  if (json.is_discarded()) {
    throw Error(ErrorCode::invalid_argument, path.string() + ": not valid JSON");
  }
  return json;
}

bool is_gguf(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::string_view(magic, 4) == "GGUF";
}

ModelTemplate from_gguf(const fs::path& path) {
  auto file = formats::GgufFile::open(path);
  ModelTemplate result;
  if (auto source = file.get_string("tokenizer.chat_template")) {
    result.source = std::string(*source);
  } else {
    std::string builtin = chat::ChatTemplate::builtin_name_for_architecture(file.architecture());
    if (builtin.empty()) {
      throw Error(ErrorCode::not_found,
                  path.string() +
                      ": no tokenizer.chat_template and no built-in template for "
                      "architecture '" +
                      file.architecture() + "'");
    }
    result.source = chat::ChatTemplate::builtin(builtin).source();
  }
  auto tokens = file.get_string_array("tokenizer.ggml.tokens");
  auto token_text = [&](const char* key) -> std::optional<std::string> {
    auto id = file.get_int(key);
    if (!id) return std::nullopt;
    if (*id < 0 || static_cast<uint64_t>(*id) >= tokens.size()) {
      throw Error(ErrorCode::invalid_model,
                  path.string() + ": " + key + " " + std::to_string(*id) + " is not a token id");
    }
    return std::string(tokens[static_cast<size_t>(*id)]);
  };
  result.bos = token_text("tokenizer.ggml.bos_token_id");
  result.eos = token_text("tokenizer.ggml.eos_token_id");
  return result;
}

// tokenizer_config.json special tokens are strings or AddedToken objects {"content": …}.
std::optional<std::string> config_token(const Json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    return (*it)["content"].get<std::string>();
  }
  throw Error(ErrorCode::invalid_model, std::string("tokenizer_config.json: ") + key +
                                            " is neither a string nor a token object");
}

ModelTemplate from_tokenizer_config(const fs::path& config_path) {
  Json config = read_json(config_path);
  if (!config.is_object()) {
    throw Error(ErrorCode::invalid_model, config_path.string() + ": not a JSON object");
  }
  ModelTemplate result;
  result.bos = config_token(config, "bos_token");
  result.eos = config_token(config, "eos_token");
  // A separate chat_template.jinja beside the config (newer transformers) takes precedence.
  fs::path jinja = config_path.parent_path() / "chat_template.jinja";
  if (fs::exists(jinja)) {
    result.source = read_text(jinja);
    return result;
  }
  auto it = config.find("chat_template");
  if (it == config.end() || it->is_null()) {
    throw Error(ErrorCode::not_found, config_path.string() + ": no chat_template");
  }
  if (it->is_string()) {
    result.source = it->get<std::string>();
    return result;
  }
  // Several named templates: [{"name": "default", "template": …}, …].
  if (it->is_array()) {
    for (const auto& entry : *it) {
      if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template") &&
          entry["template"].is_string()) {
        result.source = entry["template"].get<std::string>();
        return result;
      }
    }
  }
  throw Error(ErrorCode::invalid_model, config_path.string() +
                                            ": chat_template is neither a string nor a list with a "
                                            "\"default\" entry");
}

ModelTemplate load_model_template(const fs::path& model) {
  if (!fs::exists(model)) throw Error(ErrorCode::not_found, model.string() + ": no such file");
  if (fs::is_directory(model)) return from_tokenizer_config(model / "tokenizer_config.json");
  if (is_gguf(model)) return from_gguf(model);
  if (model.filename() == "tokenizer.json") {
    return from_tokenizer_config(model.parent_path() / "tokenizer_config.json");
  }
  return from_tokenizer_config(model);
}

void run_template(const TemplateOptions& o) {
  if (o.model.empty() == o.template_file.empty()) {
    throw ExitRequest{kUsage, "template: give either MODEL or --template FILE.jinja"};
  }
  ModelTemplate model;
  if (!o.template_file.empty()) {
    model.source = read_text(o.template_file);
  } else {
    model = load_model_template(o.model);
  }
  if (!o.bos.empty()) model.bos = o.bos;
  if (!o.eos.empty()) model.eos = o.eos;

  Json input = read_json(o.messages_file);
  Json variables = Json::object();
  Json extra = Json::object();
  if (input.is_array()) {
    variables["messages"] = input;
  } else if (input.is_object() && input.contains("messages") && input["messages"].is_array()) {
    for (auto it = input.begin(); it != input.end(); ++it) {
      if (it.key() == "messages" || it.key() == "tools" || it.key() == "add_generation_prompt") {
        continue;
      }
      extra[it.key()] = it.value();
    }
    variables["messages"] = input["messages"];
  } else {
    throw Error(ErrorCode::invalid_argument,
                o.messages_file + ": expected a list of messages or an object with \"messages\"");
  }
  // The variables of Hugging Face's apply_chat_template, then the file's own.
  Json tools = input.is_object() && input.contains("tools") ? input["tools"] : Json();
  if (!o.tools_file.empty()) tools = read_json(o.tools_file);
  variables["tools"] = tools;
  variables["documents"] = nullptr;
  bool add_generation_prompt = o.add_generation_prompt;
  if (!add_generation_prompt && input.is_object() && input.contains("add_generation_prompt")) {
    const Json& flag = input["add_generation_prompt"];
    if (!flag.is_boolean()) {
      throw Error(ErrorCode::invalid_argument,
                  o.messages_file + ": add_generation_prompt must be true or false");
    }
    add_generation_prompt = flag.get<bool>();
  }
  variables["add_generation_prompt"] = add_generation_prompt;
  if (model.bos) variables["bos_token"] = *model.bos;
  if (model.eos) variables["eos_token"] = *model.eos;
  for (auto it = extra.begin(); it != extra.end(); ++it) variables[it.key()] = it.value();

  auto tmpl = chat::ChatTemplate::from_jinja(model.source);
  std::string prompt = tmpl.render_variables(variables);
  std::cout.write(prompt.data(), static_cast<std::streamsize>(prompt.size()));
  std::cout.flush();
}

void setup_template(CLI::App& root) {
  auto o = std::make_shared<TemplateOptions>();
  auto* cmd = root.add_subcommand("template", "Render a conversation with a chat template");
  cmd->add_option("MODEL", o->model,
                  "GGUF file, Hugging Face model directory, tokenizer_config.json or "
                  "tokenizer.json");
  cmd->add_option("--template", o->template_file, "Jinja template file (instead of MODEL)");
  cmd->add_option("--messages", o->messages_file,
                  "JSON file: a list of messages, or {\"messages\": [...], \"tools\": [...], "
                  "\"add_generation_prompt\": bool, other variables...}")
      ->required();
  cmd->add_flag("--add-generation-prompt", o->add_generation_prompt,
                "End with the opening of the assistant's turn");
  cmd->add_option("--bos", o->bos, "BOS token text passed as bos_token (overrides the model's)");
  cmd->add_option("--eos", o->eos, "EOS token text passed as eos_token (overrides the model's)");
  cmd->add_option("--tools", o->tools_file, "JSON file with the tool definitions (a list)");
  cmd->callback([o] { run_template(*o); });
}

const CommandRegistration kRegister{62, setup_template};

}  // namespace
}  // namespace inference::cli
