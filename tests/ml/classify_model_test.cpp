// Classification with a real model (the e2e SPM model): batched classify() calls give the same
// labels and tokens as one prompt at a time, and every record keeps its bytes.
#include <gtest/gtest.h>

#include <sstream>

#include "inference/backend.hpp"
#include "ml/classifier.hpp"
#include "support/testdata.hpp"

namespace inference::ml {
namespace {

std::string corpus() {
  std::string c;
  const char* texts[] = {"How do I fix a segfault in my C++ code?",
                         "Write me a poem about rain",
                         "Is it wrong to lie to protect a friend?",
                         "hey what's up",
                         "Explain TCP congestion control",
                         "Tell a story about a dragon",
                         "Should AI have rights?",
                         "lol nice"};
  int i = 0;
  for (const char* t : texts) {
    c += "{\"id\": " + std::to_string(i) + ",  \"prompt\":" + nlohmann::json(t).dump() +
         ", \"x\": 1.50e0, \"domain\": \"casual\"}\n";
    if (i++ == 3) c += "{\"id\": 99, \"no_prompt\": true}\nnot json\n";
  }
  return c;
}

ClassifyReport run(TextModel& model, int batch, std::string& out_text,
                   const std::string& logprobs_field = "") {
  std::stringstream in(corpus()), out;
  ClassifyOptions o;
  o.batch_size = batch;
  o.logprobs_field = logprobs_field;
  auto r = classify_corpus(Context::background(), model, in, &out, o, "domain");
  out_text = out.str();
  return r;
}

TEST(ClassifyModel, BatchedEqualsOneByOneAndKeepsBytes) {
  INFERENCE_REQUIRE_TESTDATA();
  const auto path = test::testdata_dir() / "models/e2e/e2e-spm-mistral-Q4_K_M.gguf";
  auto model = load_model(path, {.backend = "native",
                                 .context_length = 256,
                                 .parallel_slots = 4,
                                 .threads = 1,
                                 .kv_cache_type = "f32"});
  std::string batched_out, single_out;
  const auto batched = run(*model, 4, batched_out);
  const auto single = run(*model, 1, single_out);
  EXPECT_EQ(batched.labels, single.labels);
  EXPECT_EQ(batched_out, single_out);
  EXPECT_EQ(batched.total, 9u);
  EXPECT_EQ(batched.classified, 8u);
  EXPECT_EQ(batched.skipped, 1u);
  EXPECT_EQ(batched.problems.size(), 1u);  // the malformed line

  // Every output record is the input line with only the label field added.
  std::stringstream in(corpus()), out(batched_out);
  std::string a, b;
  size_t labelled = 0;
  while (std::getline(in, a)) {
    if (a == "not json") continue;
    ASSERT_TRUE(std::getline(out, b));
    if (a.find("\"prompt\"") == std::string::npos) {
      EXPECT_EQ(a, b);
      continue;
    }
    ASSERT_TRUE(b.starts_with(a.substr(0, a.size() - 1) + ",\"domain_1b\":\"")) << b;
    const auto label = nlohmann::json::parse(b)["domain_1b"].get<std::string>();
    EXPECT_TRUE(label == "technical" || label == "creative" || label == "ethical" ||
                label == "casual" || label == "unknown");
    ++labelled;
  }
  EXPECT_EQ(labelled, 8u);
  size_t sum = 0;
  for (const auto& [k, v] : batched.per_label) sum += v;
  EXPECT_EQ(sum, 8u);

  // --logprobs-field adds an object of label log-probabilities (labels from the top 20 only).
  std::string with_lp;
  run(*model, 4, with_lp, "lp");
  std::stringstream lines(with_lp);
  for (std::string line; std::getline(lines, line);) {
    const auto j = nlohmann::json::parse(line);
    if (!j.contains("prompt")) continue;
    ASSERT_TRUE(j.contains("lp")) << line;
    ASSERT_TRUE(j["lp"].is_object());
    for (const auto& [label, lp] : j["lp"].items()) EXPECT_LE(lp.get<double>(), 0.0);
  }
}

}  // namespace
}  // namespace inference::ml
