#include "inference/version.hpp"

namespace inference {

std::string_view version() noexcept {
  return INFERENCE_VERSION;
}

}  // namespace inference
