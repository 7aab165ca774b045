// PlanStats::weight_bytes_read / weight_working_set (the traffic `softdpu bench --json` divides by
// latency): a recurrent weight is read once per time step, an embedding table only in the rows
// gathered. Expected values come from the tensor sizes the tests build, not from softdpu.
#include <gtest/gtest.h>

#include "softdpu/session.h"
#include "support/model_builder.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using testing::ModelBuilder;

std::unique_ptr<Session> plan(const std::string& bytes) {
  std::unique_ptr<Session> s;
  Status st = Session::load_from_bytes(bytes, ".", &s);
  EXPECT_TRUE(st) << st.message();
  if (!s) return nullptr;
  PlanOptions opt;
  st = s->plan(opt);
  EXPECT_TRUE(st) << st.message();
  return s;
}

TEST(WeightTraffic, LstmReadsRecurrentWeightsEveryStep) {
  const int64_t seq = 7, in = 16, hidden = 24;
  ModelBuilder m;
  m.input("x", DType::kFloat32, {seq, 1, in}).output("y", DType::kFloat32, {seq, 1, 1, hidden});
  m.initializer("W", testing::random_tensor({1, 4 * hidden, in}, -0.3f, 0.3f, 1));
  m.initializer("R", testing::random_tensor({1, 4 * hidden, hidden}, -0.3f, 0.3f, 2));
  m.initializer("B", testing::random_tensor({1, 8 * hidden}, -0.1f, 0.1f, 3));
  ModelBuilder::set_int(m.node("LSTM", {"x", "W", "R", "B"}, {"y"}, "lstm"), "hidden_size", hidden);
  auto s = plan(m.bytes());
  ASSERT_NE(s, nullptr);
  const size_t w = 4 * hidden * in * 4, r = 4 * hidden * hidden * 4, b = 8 * hidden * 4;
  EXPECT_EQ(s->stats().weight_bytes, w + r + b);
  EXPECT_EQ(s->stats().weight_bytes_read, w + seq * r + b);
  EXPECT_EQ(s->stats().weight_working_set, w + r + b);
}

TEST(WeightTraffic, GatherFromConstantTableReadsOnlyGatheredRows) {
  const int64_t vocab = 100, dim = 8, tokens = 5, out = 3;
  ModelBuilder m;
  m.input("ids", DType::kInt64, {tokens}).output("y", DType::kFloat32, {tokens, out});
  m.initializer("table", testing::random_tensor({vocab, dim}, -1.f, 1.f, 4));
  m.initializer("w", testing::random_tensor({dim, out}, -1.f, 1.f, 5));
  m.node("Gather", {"table", "ids"}, {"e"}, "embed");
  m.node("MatMul", {"e", "w"}, {"y"}, "proj");
  auto s = plan(m.bytes());
  ASSERT_NE(s, nullptr);
  const size_t table = vocab * dim * 4, rows = tokens * dim * 4, w = dim * out * 4;
  EXPECT_EQ(s->stats().weight_bytes, table + w);
  EXPECT_EQ(s->stats().weight_bytes_read, rows + w);
  EXPECT_EQ(s->stats().weight_working_set, rows + w);  // no recurrent layer: everything touched
}

}  // namespace
}  // namespace softdpu
