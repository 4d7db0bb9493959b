#include <gtest/gtest.h>

#include <thread>

#include "inference/backend.hpp"
#include "support/recording_backend.hpp"

using namespace inference;
using inference::test::RecordingBackend;

namespace {

// Each test starts from an empty registry and restores nothing: the test binary links no real
// backend, so the registry holds only what these tests add.
class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& name : list_backends()) unregister_backend(name);
  }
  void TearDown() override { SetUp(); }
};

}  // namespace

TEST_F(RegistryTest, ListingIsSorted) {
  register_backend(std::make_shared<RecordingBackend>("zeta", true));
  register_backend(std::make_shared<RecordingBackend>("alpha", true));
  register_backend(std::make_shared<RecordingBackend>("native", true));
  EXPECT_EQ(list_backends(), (std::vector<std::string>{"alpha", "native", "zeta"}));
}

TEST_F(RegistryTest, RegisteringTheSameNameOverwrites) {
  auto first = std::make_shared<RecordingBackend>("native", false);
  auto second = std::make_shared<RecordingBackend>("native", true);
  register_backend(first);
  register_backend(second);
  EXPECT_EQ(list_backends().size(), 1u);
  EXPECT_EQ(get_backend("native"), second);
}

TEST_F(RegistryTest, DefaultPrefersGpuThenNativeThenExternal) {
  register_backend(std::make_shared<RecordingBackend>("http", true));
  register_backend(std::make_shared<RecordingBackend>("llama_server", true));
  register_backend(std::make_shared<RecordingBackend>("native", true));
  EXPECT_EQ(default_backend()->name(), "native");
  register_backend(std::make_shared<RecordingBackend>("cuda", true));
  EXPECT_EQ(default_backend()->name(), "cuda");
  EXPECT_EQ(backend_preference_order(),
            (std::vector<std::string>{"cuda", "native", "llama_server", "http"}));
}

TEST_F(RegistryTest, DefaultSkipsUnavailableBackends) {
  register_backend(std::make_shared<RecordingBackend>("cuda", false));
  register_backend(std::make_shared<RecordingBackend>("native", false));
  register_backend(std::make_shared<RecordingBackend>("http", true));
  EXPECT_EQ(default_backend()->name(), "http");
}

TEST_F(RegistryTest, UnknownBackendsComeAfterTheKnownOrder) {
  register_backend(std::make_shared<RecordingBackend>("custom", true));
  register_backend(std::make_shared<RecordingBackend>("http", true));
  EXPECT_EQ(backend_preference_order(), (std::vector<std::string>{"http", "custom"}));
  EXPECT_EQ(default_backend()->name(), "http");
}

TEST_F(RegistryTest, NoBackendsIsNotRegistered) {
  try {
    default_backend();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_registered);
  }
}

TEST_F(RegistryTest, AllUnavailableSaysWhyForEach) {
  register_backend(std::make_shared<RecordingBackend>("native", false));
  try {
    default_backend();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable);
    EXPECT_NE(std::string(e.what()).find("native: test backend marked unavailable"),
              std::string::npos);
  }
}

TEST_F(RegistryTest, ThreeDistinctLoadErrorsNameTheBackend) {
  auto failing = std::make_shared<RecordingBackend>("native", true);
  failing->fail_path = "/models/bad.gguf";
  register_backend(failing);
  register_backend(std::make_shared<RecordingBackend>("cuda", false));

  auto code_and_message = [](const LoadConfig& config, const std::string& path) {
    try {
      load_model(path, config);
    } catch (const Error& e) {
      return std::make_pair(e.code(), std::string(e.what()));
    }
    return std::make_pair(ErrorCode::ok, std::string());
  };

  auto [c1, m1] = code_and_message({.backend = "metal"}, "/models/a.gguf");
  EXPECT_EQ(c1, ErrorCode::not_registered);
  EXPECT_NE(m1.find("'metal'"), std::string::npos);

  auto [c2, m2] = code_and_message({.backend = "cuda"}, "/models/a.gguf");
  EXPECT_EQ(c2, ErrorCode::unavailable);
  EXPECT_NE(m2.find("'cuda'"), std::string::npos);

  auto [c3, m3] = code_and_message({.backend = "native"}, "/models/bad.gguf");
  EXPECT_EQ(c3, ErrorCode::invalid_model);
  EXPECT_NE(m3.find("'native'"), std::string::npos);
  EXPECT_NE(m3.find("/models/bad.gguf"), std::string::npos);
}

TEST_F(RegistryTest, LoadModelUsesDefaultBackendWhenNoneNamed) {
  register_backend(std::make_shared<RecordingBackend>("native", true));
  auto model = load_model("/models/x.gguf");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->model_type(), "script");
}

TEST_F(RegistryTest, ConcurrentRegisterAndLookupIsSafe) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto names = list_backends();
        EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
        for (const auto& n : names) (void)find_backend(n);
        try {
          (void)default_backend();
        } catch (const Error&) {
        }
      }
    });
  }
  for (int i = 0; i < 2000; ++i) {
    auto name = "b" + std::to_string(i % 17);
    register_backend(std::make_shared<RecordingBackend>(name, i % 2 == 0));
    if (i % 3 == 0) unregister_backend(name);
  }
  stop = true;
  for (auto& t : readers) t.join();
}
