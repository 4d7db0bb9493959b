#include <gtest/gtest.h>

#include "inference/error.hpp"

using namespace inference;

TEST(Error, StatusDefaultsToOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_FALSE(s);
  EXPECT_EQ(s.to_string(), "ok");
}

TEST(Error, CodeNamesAreStableAndDistinct) {
  EXPECT_EQ(to_string(ErrorCode::not_found), "not_found");
  EXPECT_EQ(to_string(ErrorCode::deadline_exceeded), "deadline_exceeded");
  EXPECT_NE(to_string(ErrorCode::not_registered), to_string(ErrorCode::unavailable));
}

TEST(Error, ExceptionCarriesCodeAndMessage) {
  try {
    throw Error(ErrorCode::invalid_model, "model.gguf: bad magic at offset 0");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_model);
    EXPECT_STREQ(e.what(), "model.gguf: bad magic at offset 0");
    EXPECT_EQ(e.status().to_string(), "invalid_model: model.gguf: bad magic at offset 0");
  }
}
