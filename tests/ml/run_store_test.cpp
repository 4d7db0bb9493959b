#include <gtest/gtest.h>

#include "inference/error.hpp"
#include "ml/run_store.hpp"
#include "support/testdata.hpp"

namespace inference::ml {
namespace {

TEST(RunStore, ResumesAndNeverStoresTwice) {
  const auto dir = test::make_temp_dir("ml_run_store");
  {
    RunStore s(dir, "score", "fp1", false);
    s.put(0, "a");
    s.put(2, "c");
    s.put(2, "again");  // kept: the first result of an item wins
    EXPECT_EQ(s.meta_once("scored_at", "T1"), "T1");
  }
  RunStore s(dir, "score", "fp1", false);
  const auto items = s.load();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items.at(0), "a");
  EXPECT_EQ(items.at(2), "c");
  EXPECT_EQ(s.meta_once("scored_at", "T2"), "T1");
  std::filesystem::remove_all(dir);
}

TEST(RunStore, ChangedFingerprintIsRefusedUnlessRestart) {
  const auto dir = test::make_temp_dir("ml_run_store");
  { RunStore(dir, "score", "fp1", false).put(0, "a"); }
  try {
    RunStore s(dir, "score", "fp2", false);
    FAIL() << "a changed run was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("--restart"), std::string::npos);
  }
  EXPECT_THROW(RunStore(dir, "classify", "fp1", false), Error);
  RunStore s(dir, "score", "fp2", true);
  EXPECT_EQ(s.count(), 0u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace inference::ml
