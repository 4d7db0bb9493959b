// testing/model_shapes.cpp — see model_shapes.hpp.
#include "testing/model_shapes.hpp"

#include <algorithm>

#include "inference/error.hpp"

namespace inference::testing {

const ModelShape* find_model_shape(std::string_view name) {
  auto it = std::find_if(kModelShapes.begin(), kModelShapes.end(),
                         [&](const ModelShape& s) { return s.name == name; });
  return it == kModelShapes.end() ? nullptr : &*it;
}

std::string model_shape_names() {
  std::string names;
  for (const auto& s : kModelShapes) names += (names.empty() ? "" : ", ") + std::string(s.name);
  return names;
}

std::vector<TensorSpec> model_tensors(const ModelShape& shape) {
  const arch::Architecture* a = arch::find(shape.architecture);
  if (a == nullptr) {
    throw Error(ErrorCode::unsupported, "shape " + std::string(shape.name) + ": architecture '" +
                                            std::string(shape.architecture) +
                                            "' is not in the architecture table");
  }
  arch::TensorShapeParams p;
  p.n_embd = shape.n_embd;
  p.n_layer = shape.n_layer;
  p.n_head = shape.n_head;
  p.n_head_kv = shape.n_head_kv;
  p.head_dim = shape.head_dim;
  p.n_ff = shape.n_ff;
  p.n_vocab = shape.n_vocab;
  p.tied = shape.tied;
  p.rope_freqs = shape.llama3_rope;
  return arch::tensor_list(*a, p);
}

}  // namespace inference::testing
