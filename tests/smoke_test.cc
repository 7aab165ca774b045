#include <gtest/gtest.h>

#include "ir/op_type.h"

TEST(OpList, NamesRoundTrip) {
  using softdpu::ir::OpType;
  for (int i = 0; i < static_cast<int>(OpType::kCount); ++i) {
    auto op = static_cast<OpType>(i);
    auto back = softdpu::ir::op_from_name(softdpu::ir::op_name(op));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(static_cast<int>(*back), i);
  }
  EXPECT_FALSE(softdpu::ir::op_from_name("NoSuchOp").has_value());
}
