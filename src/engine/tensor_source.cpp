// engine/tensor_source.cpp — the GGUF tensor source.
#include "engine/tensor_source.hpp"

#include "formats/gguf.hpp"

namespace inference::engine {

std::optional<TensorRef> GgufTensorSource::find(std::string_view gguf_name) const {
  const formats::GgufTensor* t = file_.find_tensor(gguf_name);
  if (t == nullptr) return std::nullopt;
  return TensorRef{t->type, t->ne, t->data.data(), t->data.size()};
}

std::string GgufTensorSource::describe() const {
  return file_.path().string();
}

}  // namespace inference::engine
