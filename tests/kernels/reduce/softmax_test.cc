// Softmax / LogSoftmax / Hardmax against a double-precision reference: every axis, opset 13
// (one axis) and opset 11 (coerced to 2-D) semantics, long and odd rows and strided axes on every
// ISA, large and very negative inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "softdpu/status.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using ir::OpType;
using testing::attr_int;
using testing::in;
using testing::make_tensor;
using testing::random_tensor;
using testing::run_op;

std::vector<double> soft_ref(OpType op, const Tensor& x, int axis, int64_t opset) {
  const Shape& s = x.shape();
  const int rank = static_cast<int>(s.size());
  if (axis < 0) axis += rank;
  int64_t outer = 1, n = 1, inner = 1;
  for (int d = 0; d < rank; ++d) {
    if (d < axis) {
      outer *= s[d];
    } else if (d == axis || opset < 13) {
      n *= s[d];
    } else {
      inner *= s[d];
    }
  }
  const float* xp = x.data_as<float>();
  std::vector<double> y(x.numel());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) { return (o * n + j) * inner + i; };
      double m = xp[at(0)];
      int64_t arg = 0;
      for (int64_t j = 1; j < n; ++j) {
        if (xp[at(j)] > m) {
          m = xp[at(j)];
          arg = j;
        }
      }
      double sum = 0;
      for (int64_t j = 0; j < n; ++j) sum += std::exp(xp[at(j)] - m);
      for (int64_t j = 0; j < n; ++j) {
        if (op == OpType::kSoftmax) y[at(j)] = std::exp(xp[at(j)] - m) / sum;
        if (op == OpType::kLogSoftmax) y[at(j)] = xp[at(j)] - m - std::log(sum);
        if (op == OpType::kHardmax) y[at(j)] = j == arg ? 1 : 0;
      }
    }
  }
  return y;
}

void expect_matches(OpType op, const Tensor& x, int axis, int64_t opset, int threads,
                    const std::string& what) {
  std::map<std::string, ir::Attribute> attrs{{"axis", attr_int(axis)}};
  const Tensor y = run_op(op, {in(x)}, attrs, 1, threads, opset)[0];
  ASSERT_EQ(y.shape(), x.shape());
  const std::vector<double> want = soft_ref(op, x, axis, opset);
  for (int64_t i = 0; i < y.numel(); ++i) {
    // The polynomial exp is good to ~2e-7 relative; sums add a few float roundings.
    ASSERT_NEAR(y.data_as<float>()[i], want[i], 2e-6 * (1 + std::fabs(want[i])))
        << ir::op_name(op) << " " << what << " at " << i;
  }
}

constexpr OpType kOps[] = {OpType::kSoftmax, OpType::kLogSoftmax, OpType::kHardmax};

TEST(ReduceSoftmax, EveryAxisBothOpsetSemantics) {
  const Tensor x = random_tensor({3, 4, 5}, -3, 3, 2);
  for (OpType op : kOps) {
    for (int64_t opset : {11, 13}) {
      for (int axis = -3; axis < 3; ++axis) {
        expect_matches(op, x, axis, opset, 1,
                       "axis " + std::to_string(axis) + " opset " + std::to_string(opset));
      }
    }
  }
}

TEST(ReduceSoftmax, DefaultAxisDependsOnOpset) {
  const Tensor x = random_tensor({2, 3, 4}, -1, 1, 3);
  for (OpType op : kOps) {
    const Tensor y13 = run_op(op, {in(x)}, {}, 1, 1, 13)[0];
    const Tensor y11 = run_op(op, {in(x)}, {}, 1, 1, 11)[0];
    const std::vector<double> w13 = soft_ref(op, x, -1, 13), w11 = soft_ref(op, x, 1, 11);
    for (int64_t i = 0; i < x.numel(); ++i) {
      EXPECT_NEAR(y13.data_as<float>()[i], w13[i], 1e-5);
      EXPECT_NEAR(y11.data_as<float>()[i], w11[i], 1e-5);
    }
  }
}

TEST(ReduceSoftmax, RowsAndStridedAxesOnEveryIsa) {
  for (Isa isa : testing::supported_isas()) {
    ScopedIsa scoped(isa);
    for (OpType op : {OpType::kSoftmax, OpType::kLogSoftmax}) {
      for (int64_t n : {1, 3, 8, 15, 16, 17, 33, 1003}) {
        const Tensor rows = random_tensor({5, n}, -10, 10, 9);
        expect_matches(op, rows, -1, 13, 1, "rows n=" + std::to_string(n) + " " + isa_name(isa));
      }
      for (int64_t inner : {2, 7, 8, 17, 64, 100}) {
        const Tensor x = random_tensor({2, 19, inner}, -10, 10, 10);
        expect_matches(op, x, 1, 13, 1,
                       "strided inner=" + std::to_string(inner) + " " + isa_name(isa));
      }
      const Tensor big = random_tensor({64, 257}, -5, 5, 12);
      expect_matches(op, big, 1, 13, 2, std::string("threads ") + isa_name(isa));
      expect_matches(op, big, 0, 13, 2, std::string("threads strided ") + isa_name(isa));
    }
  }
}

TEST(ReduceSoftmax, LargeAndVeryNegativeInputs) {
  for (Isa isa : testing::supported_isas()) {
    ScopedIsa scoped(isa);
    const Tensor x = make_tensor<float>(
        {2, 20}, {1000, 1001, 1002, 1003, 0, 0, 0, 0,   0,    0,    0,      0,      0,      0,
                  0,    0,    0,    0,    0, 0, 0, -50, -100, -200, -87.5f, -88.5f, -1e30f, -3e38f,
                  3,    4,    5,    6,    7, 8, 9, 10,  11,   12,   13,     14});
    for (OpType op : {OpType::kSoftmax, OpType::kLogSoftmax}) {
      const Tensor y = run_op(op, {in(x)}, {{"axis", attr_int(1)}})[0];
      const std::vector<double> want = soft_ref(op, x, 1, 13);
      for (int64_t i = 0; i < x.numel(); ++i) {
        ASSERT_TRUE(std::isfinite(y.data_as<float>()[i])) << i << " " << isa_name(isa);
        ASSERT_NEAR(y.data_as<float>()[i], want[i], 1e-6 * (1 + std::fabs(want[i])))
            << ir::op_name(op) << " " << isa_name(isa) << " at " << i;
      }
    }
  }
}

TEST(ReduceSoftmax, Float64) {
  Tensor x(DType::kFloat64, {2, 3});
  const double v[] = {1, 2, 3, -1, 0, 1000};
  std::copy(v, v + 6, x.data_as<double>());
  const Tensor y = run_op(OpType::kSoftmax, {in(x)}, {})[0];
  ASSERT_EQ(y.dtype(), DType::kFloat64);
  const double s = std::exp(-2.0) + std::exp(-1.0) + 1;
  EXPECT_NEAR(y.data_as<double>()[0], std::exp(-2.0) / s, 1e-15);
  EXPECT_NEAR(y.data_as<double>()[5], 1.0, 1e-15);
  const Tensor l = run_op(OpType::kLogSoftmax, {in(x)}, {})[0];
  EXPECT_NEAR(l.data_as<double>()[2], -std::log(s), 1e-15);
  const Tensor h = run_op(OpType::kHardmax, {in(x)}, {})[0];
  EXPECT_EQ(h.data_as<double>()[2], 1.0);
  EXPECT_EQ(h.data_as<double>()[1], 0.0);
}

TEST(ReduceSoftmax, HardmaxPicksFirstOfTies) {
  const Tensor x = make_tensor<float>({1, 4}, {3, 7, 7, 1});
  const Tensor y = run_op(OpType::kHardmax, {in(x)}, {})[0];
  const float want[] = {0, 1, 0, 0};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(y.data_as<float>()[i], want[i]);
}

TEST(ReduceSoftmax, Errors) {
  auto code = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return e.code();
    }
    return StatusCode::kOk;
  };
  EXPECT_EQ(code([] {
              run_op(OpType::kSoftmax, {in(Tensor(DType::kInt32, {2, 3}))}, {});
            }),
            StatusCode::kUnsupported);
  EXPECT_EQ(code([] {
              run_op(OpType::kSoftmax, {in(random_tensor({2, 3}))}, {{"axis", attr_int(2)}});
            }),
            StatusCode::kInvalidModel);
  EXPECT_EQ(code([] { run_op(OpType::kLogSoftmax, {in(random_tensor({}))}, {}); }),
            StatusCode::kInvalidModel);
  // Zero-size inputs are fine and produce nothing.
  EXPECT_EQ(run_op(OpType::kSoftmax, {in(Tensor(DType::kFloat32, {0, 3}))}, {})[0].numel(), 0);
}

}  // namespace
}  // namespace softdpu
