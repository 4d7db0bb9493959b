#include "e2e_golden.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "support/testdata.hpp"

namespace inference::test {
namespace {

std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

E2ePrompt read_prompt(const nlohmann::json& j, bool chat) {
  E2ePrompt p;
  p.chat = chat;
  if (chat) {
    for (const auto& m : j.at("messages")) p.messages.push_back({m.at("role"), m.at("content")});
    p.add_generation_prompt = j.value("add_generation_prompt", true);
    p.rendered = j.at("rendered");
  } else {
    p.prompt = j.at("prompt");
  }
  p.add_special = j.at("add_special");
  p.parse_special = j.at("parse_special");
  p.tokens = j.at("tokens").get<std::vector<int32_t>>();
  for (const auto& pair : j.at("top_last"))
    p.top_last.emplace_back(pair.at(0).get<int32_t>(), pair.at(1).get<float>());
  p.greedy = j.at("greedy").get<std::vector<int32_t>>();
  p.greedy_margin = j.at("greedy_margin").get<std::vector<float>>();
  p.greedy_text = from_hex(j.at("greedy_text_hex"));
  return p;
}

}  // namespace

std::vector<E2eGolden> load_e2e_goldens() {
  const auto dir = testdata_dir() / "models" / "e2e";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (name.ends_with(".golden.json")) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<E2eGolden> goldens;
  for (const auto& file : files) {
    const auto j = nlohmann::json::parse(read_file(file));
    E2eGolden g;
    g.model = dir / j.at("model").get<std::string>();
    g.n_ctx = j.at("settings").at("n_ctx");
    for (const auto& p : j.at("text_prompts")) g.prompts.push_back(read_prompt(p, false));
    for (const auto& p : j.at("chat_prompts")) g.prompts.push_back(read_prompt(p, true));
    goldens.push_back(std::move(g));
  }
  return goldens;
}

size_t greedy_steps_to_compare(const std::vector<float>& margins, float tolerance) {
  size_t n = 0;
  while (n < margins.size() && margins[n] >= tolerance) ++n;
  return n;
}

}  // namespace inference::test
