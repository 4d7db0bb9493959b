#include "ml/model_ref.hpp"

#include "inference/backend.hpp"

namespace inference::ml {

bool is_url(const std::string& ref) {
  return ref.starts_with("http://") || ref.starts_with("https://");
}

std::unique_ptr<TextModel> load_model_ref(const std::string& ref, LoadConfig config) {
  if (is_url(ref)) {
    if (config.backend.empty()) config.backend = "http";
    if (config.endpoints.empty()) config.endpoints.push_back(ref);
  }
  return load_model(ref, config);
}

}  // namespace inference::ml
