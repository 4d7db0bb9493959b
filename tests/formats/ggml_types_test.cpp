// The ggml type table: ids, names, block sizes, row sizes, file-type names.
#include <gtest/gtest.h>

#include "formats/ggml_types.hpp"

namespace inference::formats {
namespace {

TEST(GgmlTypes, KnownTypesHaveTheirPublishedBlockLayout) {
  struct Row {
    uint32_t id;
    const char* name;
    uint32_t block;
    uint32_t bytes;
  };
  const Row rows[] = {{0, "F32", 1, 4},         {1, "F16", 1, 2},         {2, "Q4_0", 32, 18},
                      {3, "Q4_1", 32, 20},      {6, "Q5_0", 32, 22},      {7, "Q5_1", 32, 24},
                      {8, "Q8_0", 32, 34},      {10, "Q2_K", 256, 84},    {11, "Q3_K", 256, 110},
                      {12, "Q4_K", 256, 144},   {13, "Q5_K", 256, 176},   {14, "Q6_K", 256, 210},
                      {15, "Q8_K", 256, 292},   {16, "IQ2_XXS", 256, 66}, {20, "IQ4_NL", 32, 18},
                      {23, "IQ4_XS", 256, 136}, {30, "BF16", 1, 2},       {39, "MXFP4", 32, 17}};
  for (const auto& row : rows) {
    auto info = ggml_type_info(row.id);
    ASSERT_TRUE(info.has_value()) << row.name;
    EXPECT_EQ(info->name, row.name);
    EXPECT_EQ(info->block_size, row.block) << row.name;
    EXPECT_EQ(info->type_size, row.bytes) << row.name;
    EXPECT_EQ(ggml_type_from_name(row.name), info->type);
  }
  EXPECT_EQ(ggml_type_from_name("q4_k"), GgmlType::Q4_K);
  EXPECT_FALSE(ggml_type_from_name("Q4_K_M").has_value());
}

TEST(GgmlTypes, RemovedAndUnknownIdsAreRejected) {
  for (uint32_t id : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 40u, 1000u, 0xffffffffu}) {
    EXPECT_FALSE(ggml_type_info(id).has_value()) << id;
  }
}

TEST(GgmlTypes, RowBytesChecksBlocksAndOverflow) {
  EXPECT_EQ(ggml_row_bytes(GgmlType::Q4_K, 512), 288u);
  EXPECT_EQ(ggml_row_bytes(GgmlType::F32, 3), 12u);
  EXPECT_FALSE(ggml_row_bytes(GgmlType::Q4_K, 100).has_value());
  EXPECT_FALSE(ggml_row_bytes(GgmlType::F32, UINT64_MAX / 2).has_value());
}

TEST(GgmlTypes, FileTypeNames) {
  EXPECT_EQ(file_type_name(15), "Q4_K - Medium");
  EXPECT_EQ(file_type_name(17), "Q5_K - Medium");
  EXPECT_EQ(file_type_name(0), "all F32");
  EXPECT_EQ(file_type_name(7), "Q8_0");
  EXPECT_EQ(file_type_name(32), "BF16");
  EXPECT_EQ(file_type_name(5), "");
  EXPECT_EQ(file_type_for_tensor_type(GgmlType::Q4_K), 15u);
  EXPECT_FALSE(file_type_for_tensor_type(GgmlType::I32).has_value());
}

}  // namespace
}  // namespace inference::formats
