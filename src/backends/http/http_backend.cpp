// The `http` backend: models served by OpenAI-compatible servers (vLLM, llama-server, Ollama,
// `infer serve`, hosted APIs) or the Anthropic Messages API, one server or a pool. Always
// available: whether a server answers is known only when a model is loaded. Registered by
// being linked in (this is an OBJECT library).
#include "backends/http/http_model.hpp"
#include "inference/backend.hpp"

namespace inference::http {
namespace {

class HttpBackend final : public Backend {
 public:
  std::string name() const override { return "http"; }
  bool available() const override { return true; }
  std::unique_ptr<TextModel> load_model(const std::filesystem::path& path,
                                        const LoadConfig& config) override {
    // The MODEL is a base URL, or a JSON file that describes a pool.
    std::string target = path.string();
    if (target.rfind("http://", 0) != 0 && target.rfind("https://", 0) != 0 &&
        path.extension() == ".json")
      return std::make_unique<HttpModel>(http_options("", read_pool_file(target, config)));
    return std::make_unique<HttpModel>(http_options(target, config));
  }
};

const BackendRegistration kRegister{std::make_shared<HttpBackend>()};

}  // namespace
}  // namespace inference::http
