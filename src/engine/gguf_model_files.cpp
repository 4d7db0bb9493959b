// engine/gguf_model_files.cpp — ModelFiles over one GGUF file (mapped once; weights in place).
#include <string>

#include "engine/model_files.hpp"
#include "formats/gguf.hpp"
#include "inference/error.hpp"

namespace inference::engine {
namespace {

class GgufModelFiles final : public ModelFiles {
 public:
  explicit GgufModelFiles(const std::filesystem::path& path)
      : file_(formats::GgufFile::open(path)), source_(file_) {
    if (auto tmpl = file_.get_string("tokenizer.chat_template")) chat_template_ = *tmpl;
  }

  HParams hparams() const override { return hparams_from_gguf(file_); }
  const TensorSource& tensors() const override { return source_; }
  std::unique_ptr<tokenizer::Tokenizer> load_tokenizer() const override {
    return tokenizer::Tokenizer::from_gguf(file_);
  }
  const std::string& chat_template() const override { return chat_template_; }
  std::string name() const override {
    if (auto name = file_.get_string("general.name")) return std::string(*name);
    return file_.path().stem().string();
  }
  std::string quantization() const override { return formats::gguf_file_type_name(file_); }
  uint64_t file_size() const override { return file_.file_size(); }
  void release_pages(const void* p, size_t n) const noexcept override { file_.release_pages(p, n); }
  bool is_mapped(const void* p) const noexcept override { return file_.is_mapped(p); }

 private:
  formats::GgufFile file_;
  GgufTensorSource source_;
  std::string chat_template_;
};

}  // namespace

std::unique_ptr<ModelFiles> open_gguf_model(const std::filesystem::path& path) {
  return std::make_unique<GgufModelFiles>(path);
}

std::unique_ptr<ModelFiles> open_model_files(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw Error(ErrorCode::not_found, path.string() + ": no such file or directory");
  }
  if (std::filesystem::is_directory(path, ec)) return open_safetensors_model(path);
  return open_gguf_model(path);
}

}  // namespace inference::engine
