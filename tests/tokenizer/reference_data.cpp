#include "reference_data.hpp"

#include <map>
#include <mutex>
#include <sstream>

#include "support/testdata.hpp"

namespace inference::test {

std::vector<std::string> read_inp(const std::string& path) {
  const std::string all = read_file(path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> tests;
  size_t pos = 0;
  for (size_t hit; (hit = all.find(sep, pos)) != std::string::npos; pos = hit + sep.size()) {
    tests.push_back(all.substr(pos, hit - pos));
  }
  return tests;
}

std::vector<std::vector<int32_t>> read_out(const std::string& path) {
  std::istringstream in(read_file(path));
  std::vector<std::vector<int32_t>> lines;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::vector<int32_t> ids;
    for (int32_t id; ls >> id;) ids.push_back(id);
    lines.push_back(std::move(ids));
  }
  return lines;
}

const tokenizer::Tokenizer& cached_tokenizer(const std::string& relative) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<tokenizer::Tokenizer>> cache;
  std::lock_guard lock(mutex);
  auto& slot = cache[relative];
  if (!slot) slot = tokenizer::Tokenizer::load(testdata_dir() / relative);
  return *slot;
}

std::string ids_to_string(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += " " + std::to_string(id);
  return s;
}

const std::vector<std::string>& vocab_files() {
  static const std::vector<std::string> files = {
      "ggml-vocab-llama-spm.gguf",      "peer-vocab-llama3.2.gguf", "ggml-vocab-qwen2.gguf",
      "ggml-vocab-gpt-2.gguf",          "ggml-vocab-phi-3.gguf",    "ggml-vocab-deepseek-llm.gguf",
      "ggml-vocab-deepseek-coder.gguf", "ggml-vocab-falcon.gguf",   "ggml-vocab-mpt.gguf",
      "ggml-vocab-starcoder.gguf",      "ggml-vocab-refact.gguf",   "ggml-vocab-gpt-neox.gguf",
      "peer-vocab-gemma3.gguf",
  };
  return files;
}

}  // namespace inference::test
