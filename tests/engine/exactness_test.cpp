// Exactness against the reference engine: every micro model of testdata/models (and the model
// half of the e2e models, by token ids) evaluated with the reference's settings (F32 KV cache,
// whole sequence in one batch with logits everywhere, then the golden greedy tokens one at a
// time), compared with the README's tolerances. One test per model file.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/engine.hpp"
#include "inference/error.hpp"
#include "kernels/cpu/matmul.hpp"
#include "reference_logits.hpp"
#include "support/testdata.hpp"

namespace inference::engine {
namespace {

using nlohmann::json;
using test::Tolerance;
using test::Worst;

struct ModelCase {
  std::string id, dir, gguf, golden, ftype, arch;
  bool e2e = false;
};

// Names the case in test output (instead of gtest's byte dump).
void PrintTo(const ModelCase& c, std::ostream* os) {
  *os << c.id;
}

std::vector<ModelCase> model_cases() {
  std::vector<ModelCase> cases;
  std::ifstream in(test::testdata_dir() / "models" / "index.json");
  if (!in) return cases;  // the tests skip (INFERENCE_REQUIRE_TESTDATA) without the data
  json index = json::parse(in);
  for (const char* group : {"micro", "e2e"}) {
    for (const json& m : index[group]) {
      cases.push_back({m["id"], m["dir"], m["gguf"], m["golden"], m["ftype"], m["arch"],
                       std::string(group) == "e2e"});
    }
  }
  return cases;
}

std::vector<float> read_f32(const std::filesystem::path& path) {
  std::string bytes = test::read_file(path);
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

std::vector<std::pair<int32_t, double>> top_pairs(const json& top) {
  std::vector<std::pair<int32_t, double>> out;
  for (const json& p : top) out.emplace_back(p[0].get<int32_t>(), p[1].get<double>());
  return out;
}

class Exactness : public ::testing::TestWithParam<ModelCase> {
 protected:
  void SetUp() override {
    INFERENCE_REQUIRE_TESTDATA();
    const ModelCase& c = GetParam();
    const auto dir = test::testdata_dir() / "models" / c.dir;
    golden_ = json::parse(test::read_file(dir / c.golden));
    tol_ = test::tolerance_for(c.ftype, c.arch);
    if (kv_type_ == "q8_0") tol_ = test::q8_0_cache_tolerance(c.ftype);
    // The reference's settings: F32 KV cache (unless a subclass asks for another). One thread:
    // results do not depend on the thread count (rows are split, never sums), and one thread stays
    // fast on a loaded CI machine.
    ModelLoadOptions options{.context_length = golden_["settings"]["n_ctx"].get<int32_t>(),
                             .n_sequences = 1,
                             .threads = 1,
                             .kv_cache_type = kv_type_};
    engine_ = Engine::load(dir / c.gguf, options);
    ASSERT_EQ(engine_->n_vocab(),
              golden_.contains("n_vocab") ? golden_["n_vocab"].get<int32_t>() : engine_->n_vocab());
  }

  // Compares one of our rows with a golden top-20 (and margin) at `at`.
  void check_top(std::span<const float> row, const json& top, double margin,
                 const std::string& at) {
    auto ours = test::log_softmax(row);
    auto pairs = top_pairs(top);
    for (const auto& [id, lp] : pairs) {
      worst_.logprob_delta(std::abs(ours[static_cast<size_t>(id)] - lp), at);
    }
    worst_.kl_value(test::bucket_kl(pairs, ours), at);
    check_argmax(row, pairs.front().first, margin, at);
  }

  void check_argmax(std::span<const float> row, int32_t expected, double margin,
                    const std::string& at) {
    const int32_t got = test::argmax(row);
    if (got != expected && margin > tol_.margin) {
      worst_.argmax_failures.push_back(at + " (argmax " + std::to_string(got) + ", reference " +
                                       std::to_string(expected) + ", margin " +
                                       std::to_string(margin) + ")");
    }
  }

  // Feeds golden greedy tokens one at a time after a prompt of `n_prompt` tokens whose last
  // row is `last`; step k's row must predict greedy[k].
  void check_greedy(std::span<const float> last, int32_t n_prompt, const json& seq,
                    const std::string& name) {
    const auto greedy = seq["greedy"].get<std::vector<int32_t>>();
    const auto margins = seq["greedy_margin"].get<std::vector<double>>();
    const json* logprobs = seq.contains("greedy_logprob") ? &seq["greedy_logprob"] : nullptr;
    std::vector<float> row(last.begin(), last.end());
    for (size_t k = 0; k < greedy.size(); ++k) {
      const std::string at = name + " greedy step " + std::to_string(k);
      if (k > 0) {
        BatchEntry e{greedy[k - 1], n_prompt + static_cast<int32_t>(k) - 1, 0, true};
        engine_->decode(Context::background(), std::span(&e, 1), row);
      }
      if (logprobs != nullptr) {
        auto ours = test::log_softmax(row);
        worst_.logprob_delta(
            std::abs(ours[static_cast<size_t>(greedy[k])] - (*logprobs)[k].get<double>()), at);
      }
      check_argmax(row, greedy[k], margins[k], at);
    }
  }

  void run_micro() {
    const int32_t n_vocab = engine_->n_vocab();
    const auto dir = test::testdata_dir() / "models" / GetParam().dir;
    for (const json& seq : golden_["sequences"]) {
      const std::string name = seq["name"];
      const auto tokens = seq["tokens"].get<std::vector<int32_t>>();
      engine_->truncate_sequence(0, 0);
      std::vector<BatchEntry> batch;
      for (size_t i = 0; i < tokens.size(); ++i) {
        batch.push_back({tokens[i], static_cast<int32_t>(i), 0, true});
      }
      std::vector<float> logits;
      engine_->decode(Context::background(), batch, logits);
      ASSERT_EQ(logits.size(), tokens.size() * static_cast<size_t>(n_vocab));
      for (size_t i = 0; i < tokens.size(); ++i) {
        std::span<const float> row(logits.data() + i * n_vocab, static_cast<size_t>(n_vocab));
        check_top(row, seq["top"][i], seq["margin"][i].get<double>(),
                  name + " position " + std::to_string(i));
      }
      std::span<const float> last(logits.data() + (tokens.size() - 1) * n_vocab,
                                  static_cast<size_t>(n_vocab));
      const auto golden_last = read_f32(dir / seq["last_logits"].get<std::string>());
      ASSERT_EQ(golden_last.size(), static_cast<size_t>(n_vocab));
      full_kl_max_ = std::max(full_kl_max_, test::full_kl(golden_last, last));
      check_argmax(last, test::argmax(golden_last), seq["margin"].back().get<double>(),
                   name + " last row (full)");
      check_greedy(last, static_cast<int32_t>(tokens.size()), seq, name);
    }
  }

  void run_e2e() {
    const int32_t n_vocab = engine_->n_vocab();
    for (const char* group : {"text_prompts", "chat_prompts"}) {
      int index = 0;
      for (const json& p : golden_[group]) {
        const std::string name = std::string(group) + "[" + std::to_string(index++) + "]";
        const auto tokens = p["tokens"].get<std::vector<int32_t>>();
        engine_->truncate_sequence(0, 0);
        std::vector<BatchEntry> batch;
        for (size_t i = 0; i < tokens.size(); ++i) {
          batch.push_back({tokens[i], static_cast<int32_t>(i), 0, i + 1 == tokens.size()});
        }
        std::vector<float> logits;
        engine_->decode(Context::background(), batch, logits);
        ASSERT_EQ(logits.size(), static_cast<size_t>(n_vocab));
        check_top(logits, p["top_last"], p["greedy_margin"][0].get<double>(), name + " last");
        check_greedy(logits, static_cast<int32_t>(tokens.size()), p, name);
      }
    }
  }

  void report() {
    std::ostringstream line;
    line << GetParam().id << ": max |dlogprob| " << worst_.logprob << " (" << worst_.logprob_at
         << "), max KL " << worst_.kl << " (" << worst_.kl_at << "), mean KL " << worst_.mean_kl()
         << ", full-row KL at last positions " << full_kl_max_;
    std::cout << "[exactness] " << line.str() << "\n";
    RecordProperty("measured", line.str());
    EXPECT_LE(worst_.logprob, tol_.logprob) << line.str();
    EXPECT_LE(worst_.kl, tol_.max_kl) << line.str();
    EXPECT_LE(full_kl_max_, tol_.max_kl) << line.str();
    EXPECT_LE(worst_.mean_kl(), tol_.mean_kl) << line.str();
    for (const auto& f : worst_.argmax_failures) ADD_FAILURE() << "argmax differs at " << f;
  }

  std::string kv_type_ = "f32";
  json golden_;
  Tolerance tol_{};
  std::unique_ptr<Engine> engine_;
  Worst worst_;
  double full_kl_max_ = 0;
};

TEST_P(Exactness, MatchesReference) {
  if (GetParam().e2e) {
    run_e2e();
  } else {
    run_micro();
  }
  report();
}

std::string case_name(const ::testing::TestParamInfo<ModelCase>& info) {
  std::string name = info.param.id;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Models, Exactness, ::testing::ValuesIn(model_cases()), case_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Exactness);

// The same references on the AVX2 kernels (what a CPU without AVX-512 runs: AVX2 panel GEMM,
// dot products for decode, attention per query), where this CPU can force them.
class ExactnessOnAvx2 : public Exactness {
 protected:
  void SetUp() override {
    if (!kernels::force_simd_path("avx2")) GTEST_SKIP() << "this CPU cannot run the AVX2 path";
    Exactness::SetUp();
  }
  void TearDown() override { kernels::force_simd_path(""); }
};

TEST_P(ExactnessOnAvx2, MatchesReference) {
  if (GetParam().e2e) {
    run_e2e();
  } else {
    run_micro();
  }
  report();
}

INSTANTIATE_TEST_SUITE_P(Models, ExactnessOnAvx2, ::testing::ValuesIn(model_cases()), case_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ExactnessOnAvx2);

// The same references with a Q8_0 KV cache (--kv-type q8_0): keys and values rounded to 8 bits
// per element (scale per 32), so every model is held to the quantised tolerance
// (reference_logits.hpp, q8_0_cache_tolerance) instead of its file type's.
class ExactnessWithQ8Cache : public Exactness {
 protected:
  void SetUp() override {
    kv_type_ = "q8_0";
    try {
      Exactness::SetUp();
    } catch (const Error& e) {
      // A head size that is not a multiple of 32 cannot be stored as Q8_0 (the load says so).
      if (e.code() != ErrorCode::unsupported) throw;
      GTEST_SKIP() << e.what();
    }
  }
};

TEST_P(ExactnessWithQ8Cache, MatchesReference) {
  if (GetParam().e2e) {
    run_e2e();
  } else {
    run_micro();
  }
  report();
}

INSTANTIATE_TEST_SUITE_P(Models, ExactnessWithQ8Cache, ::testing::ValuesIn(model_cases()),
                         case_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ExactnessWithQ8Cache);

}  // namespace
}  // namespace inference::engine
