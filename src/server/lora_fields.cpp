// The LoRA scale lists of llama-server's API: a request's `lora` field and the body of
// POST /lora-adapters, both `[{"id": N, "scale": S}, …]`. As in llama-server, an adapter the
// list does not name gets scale 0 (the list says exactly which adapters are on).
#include <string>
#include <vector>

#include "server/request_parsing.hpp"

namespace inference::server {

namespace {

// The bound the native engine accepts (a larger scale is a typo, not an experiment).
constexpr double kMaxScale = 1000.0;

}  // namespace

std::vector<float> parse_lora_scales(const json& list, const std::string& path, size_t n_adapters) {
  if (path.empty() && !list.is_array())  // POST /lora-adapters: the body itself is the list
    throw bad_field("", "the body must be an array of {\"id\": N, \"scale\": S} objects, got " +
                            type_name(list));
  expect_array(list, path);
  std::vector<float> scales(n_adapters, 0.0f);
  std::vector<bool> seen(n_adapters, false);
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = index_path(path, i);
    const json& entry = expect_object(list[i], at);
    const std::string id_path = field_path(at, "id");
    if (n_adapters == 0)
      throw bad_field(id_path, "'" + id_path +
                                   "': this server has no LoRA adapters to choose from (start it "
                                   "with --lora PATH; merged adapters cannot be switched)");
    const auto id = get_integer(entry, "id", 0, static_cast<int64_t>(n_adapters) - 1, at);
    if (!id) throw bad_field(id_path, "'" + id_path + "' is required");
    const auto scale = get_number(entry, "scale", -kMaxScale, kMaxScale, at);
    if (!scale) {
      const std::string scale_path = field_path(at, "scale");
      throw bad_field(scale_path, "'" + scale_path + "' is required");
    }
    const auto index = static_cast<size_t>(*id);
    if (seen[index])
      throw bad_field(id_path, "'" + id_path + "': adapter " + std::to_string(*id) +
                                   " is listed more than once");
    seen[index] = true;
    scales[index] = static_cast<float>(*scale);
  }
  return scales;
}

std::vector<float> parse_lora_field(const json& body, const ParseLimits& limits) {
  const json* lora = find_field(body, "lora");
  if (!lora) return limits.adapter_scales;  // the server's current scales
  return parse_lora_scales(*lora, "lora", limits.adapter_scales.size());
}

}  // namespace inference::server
