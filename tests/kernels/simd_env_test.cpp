// INFERENCE_SIMD caps the kernel path for the whole process. The choice is made once, so the
// test runs this same binary again with the variable set and reads the path it reports.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "kernels/cpu/matmul.hpp"

namespace inference::kernels {
namespace {

std::string path_with_env(const std::string& value) {
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string command =
      "INFERENCE_SIMD=" + value + " '" + self + "' --gtest_filter=SimdEnv.ReportPath 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "";
  std::string out;
  std::array<char, 256> buffer{};
  while (fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
  pclose(pipe);
  const auto at = out.find("simd-path=");
  if (at == std::string::npos) return "";
  return out.substr(at + 10, out.find('\n', at) - at - 10);
}

TEST(SimdEnv, ReportPath) {
  std::printf("simd-path=%s\n", simd_path_name());
}

TEST(SimdEnv, ScalarCanAlwaysBeForced) {
  EXPECT_EQ(path_with_env("scalar"), "scalar");
}

TEST(SimdEnv, UnknownNamesFallBackToTheBestPath) {
  EXPECT_EQ(path_with_env("sse9"), std::string(simd_path_name()));
}

TEST(SimdEnv, Avx2WhenTheCpuRunsIt) {
  const std::string best = simd_path_name();
  if (best == "scalar") GTEST_SKIP() << "no SIMD path on this CPU";
  EXPECT_EQ(path_with_env("avx2").substr(0, 4), "avx2");
}

}  // namespace
}  // namespace inference::kernels
