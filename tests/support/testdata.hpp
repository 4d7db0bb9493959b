// Where the shared reference data lives, and small file helpers for tests.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace inference::test {

/// ../shared/testdata (or $INFERENCE_TESTDATA). Tests that need it call require_testdata().
std::filesystem::path testdata_dir();
/// The repository root.
std::filesystem::path source_dir();
/// Whole file as bytes/text; throws std::runtime_error naming the file on failure.
std::string read_file(const std::filesystem::path& path);
/// A fresh empty directory under the system temp dir, unique per call.
std::filesystem::path make_temp_dir(const std::string& prefix);

}  // namespace inference::test

/// Skips the current test with a clear message when the shared test data is absent.
#define INFERENCE_REQUIRE_TESTDATA()                                                         \
  do {                                                                                       \
    if (!std::filesystem::exists(::inference::test::testdata_dir())) {                       \
      GTEST_SKIP() << "shared test data not found at " << ::inference::test::testdata_dir(); \
    }                                                                                        \
  } while (0)
