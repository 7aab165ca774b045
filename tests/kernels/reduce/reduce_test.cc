// ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare against a naive double reference
// that gathers each result's elements by multi-index, over every subset of axes.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include "softdpu/status.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using ir::OpType;
using testing::attr_int;
using testing::attr_ints;
using testing::in;
using testing::make_tensor;
using testing::random_tensor;
using testing::run_op;

constexpr OpType kAllReduces[] = {
    OpType::kReduceSum,       OpType::kReduceMean,     OpType::kReduceMax, OpType::kReduceMin,
    OpType::kReduceProd,      OpType::kReduceL1,       OpType::kReduceL2,  OpType::kReduceLogSum,
    OpType::kReduceLogSumExp, OpType::kReduceSumSquare};

double apply_ref(OpType op, const std::vector<double>& v) {
  const double n = static_cast<double>(v.size());
  double acc = 0;
  switch (op) {
    case OpType::kReduceSum:
      for (double x : v) acc += x;
      return acc;
    case OpType::kReduceMean:
      for (double x : v) acc += x;
      return acc / n;
    case OpType::kReduceMax:
      acc = -INFINITY;
      for (double x : v) acc = std::max(acc, x);
      return acc;
    case OpType::kReduceMin:
      acc = INFINITY;
      for (double x : v) acc = std::min(acc, x);
      return acc;
    case OpType::kReduceProd:
      acc = 1;
      for (double x : v) acc *= x;
      return acc;
    case OpType::kReduceL1:
      for (double x : v) acc += std::fabs(x);
      return acc;
    case OpType::kReduceL2:
      for (double x : v) acc += x * x;
      return std::sqrt(acc);
    case OpType::kReduceLogSum:
      for (double x : v) acc += x;
      return std::log(acc);
    case OpType::kReduceLogSumExp:
      for (double x : v) acc += std::exp(x);
      return std::log(acc);
    case OpType::kReduceSumSquare:
      for (double x : v) acc += x * x;
      return acc;
    default: return NAN;
  }
}

// Result values in row-major order of the kept dims (the same for keepdims 0 and 1).
std::vector<double> reduce_ref(OpType op, const Shape& shape, const std::vector<double>& x,
                               const std::vector<bool>& reduced) {
  Shape out_shape = shape;
  for (size_t d = 0; d < shape.size(); ++d) out_shape[d] = reduced[d] ? 1 : shape[d];
  std::vector<std::vector<double>> groups(shape_numel(out_shape));
  std::vector<int64_t> idx(shape.size(), 0);
  for (size_t lin = 0; lin < x.size(); ++lin) {
    int64_t o = 0;
    for (size_t d = 0; d < shape.size(); ++d) o = o * out_shape[d] + (reduced[d] ? 0 : idx[d]);
    groups[o].push_back(x[lin]);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  std::vector<double> out;
  for (const auto& g : groups) out.push_back(apply_ref(op, g));
  return out;
}

std::vector<double> to_double(const Tensor& t) {
  std::vector<double> v(t.numel());
  for (int64_t i = 0; i < t.numel(); ++i) {
    v[i] = t.dtype() == DType::kFloat64 ? t.data_as<double>()[i] : t.data_as<float>()[i];
  }
  return v;
}

Tensor input_for(OpType op, const Shape& shape, uint32_t seed) {
  // Positive inputs where the op needs them (log of the sum) or they keep products tame.
  if (op == OpType::kReduceLogSum) return random_tensor(shape, 0.1f, 1.0f, seed);
  if (op == OpType::kReduceProd) return random_tensor(shape, 0.6f, 1.5f, seed);
  return random_tensor(shape, -2.0f, 2.0f, seed);
}

Shape expected_shape(const Shape& shape, const std::vector<bool>& reduced, bool keepdims) {
  Shape s;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!reduced[d]) s.push_back(shape[d]);
    if (reduced[d] && keepdims) s.push_back(1);
  }
  return s;
}

void expect_close(const std::vector<double>& want, const Tensor& got, double tol,
                  const std::string& what) {
  std::vector<double> g = to_double(got);
  ASSERT_EQ(g.size(), want.size()) << what;
  for (size_t i = 0; i < g.size(); ++i) {
    ASSERT_NEAR(g[i], want[i], tol * (1 + std::fabs(want[i]))) << what << " at " << i;
  }
}

// Every subset of axes of several shapes (axes as attribute; ReduceSum through its input at opset
// 13+), keepdims 0 and 1, every ISA, and negative spellings of the axes.
TEST(ReduceOps, EverySubsetOfAxesMatchesReference) {
  const Shape shapes[] = {{3, 4, 5}, {2, 3, 1, 5}, {7}, {2, 37}, {1, 1}};
  for (Isa isa : testing::supported_isas()) {
    ScopedIsa scoped(isa);
    for (OpType op : kAllReduces) {
      for (const Shape& shape : shapes) {
        const int rank = static_cast<int>(shape.size());
        const Tensor x = input_for(op, shape, 7);
        for (int mask = 0; mask < (1 << rank); ++mask) {
          std::vector<bool> reduced(rank);
          std::vector<int64_t> axes;
          for (int d = 0; d < rank; ++d) {
            reduced[d] = (mask >> d) & 1;
            if (reduced[d]) axes.push_back(d % 2 ? d - rank : d);  // mix negative axes in
          }
          if (axes.empty()) reduced.assign(rank, true);  // empty axes = all
          const std::vector<double> want = reduce_ref(op, shape, to_double(x), reduced);
          for (int keepdims = 0; keepdims <= 1; ++keepdims) {
            std::vector<testing::OpInput> inputs{in(x)};
            std::map<std::string, ir::Attribute> attrs{{"keepdims", attr_int(keepdims)}};
            if (op == OpType::kReduceSum) {
              inputs.push_back(
                  in(make_tensor<int64_t>({static_cast<int64_t>(axes.size())}, axes), true));
            } else if (!axes.empty()) {
              attrs["axes"] = attr_ints(axes);
            }
            const Tensor y = run_op(op, inputs, attrs)[0];
            const std::string what = std::string(ir::op_name(op)) + " " + shape_to_string(shape) +
                                     " mask " + std::to_string(mask) + " keepdims " +
                                     std::to_string(keepdims) + " " + isa_name(isa);
            EXPECT_EQ(y.shape(), expected_shape(shape, reduced, keepdims)) << what;
            expect_close(want, y, 2e-6, what);
          }
        }
      }
    }
  }
}

// Long and odd rows exercise the SIMD row kernels (full registers, masked tails), threaded too.
TEST(ReduceOps, LongRowsOnEveryIsaAndThreads) {
  for (Isa isa : testing::supported_isas()) {
    ScopedIsa scoped(isa);
    for (OpType op : kAllReduces) {
      for (int64_t n : {1, 5, 8, 15, 16, 17, 33, 64, 1003}) {
        const Shape shape{40, n};
        const Tensor x = input_for(op, shape, 3);
        const std::vector<double> want = reduce_ref(op, shape, to_double(x), {false, true});
        for (int threads : {1, 2}) {
          std::vector<testing::OpInput> inputs{in(x)};
          std::map<std::string, ir::Attribute> attrs{{"keepdims", attr_int(0)}};
          if (op == OpType::kReduceSum) {
            inputs.push_back(in(make_tensor<int64_t>({1}, {-1}), true));
          } else {
            attrs["axes"] = attr_ints({-1});
          }
          const Tensor y = run_op(op, inputs, attrs, 1, threads)[0];
          // float32 accumulation over up to 1003 terms.
          expect_close(want, y, op == OpType::kReduceProd ? 1e-4 : 1e-5,
                       std::string(ir::op_name(op)) + " n=" + std::to_string(n) + " " +
                           isa_name(isa) + " threads " + std::to_string(threads));
        }
      }
    }
  }
}

TEST(ReduceOps, Float64LogSumExpIsStableForLargeInputs) {
  Tensor x(DType::kFloat64, {2, 3});
  const double v[] = {1000, 1001, 1002, -1000, -1001, -1002};
  std::copy(v, v + 6, x.data_as<double>());
  const Tensor y = run_op(OpType::kReduceLogSumExp, {in(x)},
                          {{"axes", attr_ints({1})}, {"keepdims", attr_int(0)}})[0];
  ASSERT_EQ(y.dtype(), DType::kFloat64);
  const double tail = std::log(1 + std::exp(-1.0) + std::exp(-2.0));
  EXPECT_NEAR(y.data_as<double>()[0], 1002 + tail, 1e-12);
  EXPECT_NEAR(y.data_as<double>()[1], -1000 + tail, 1e-12);
}

TEST(ReduceOps, IntegerTypes) {
  const Tensor x32 = make_tensor<int32_t>({2, 3}, {1, -7, 3, 4, 5, -6});
  auto run = [](OpType op, const Tensor& x) {
    return run_op(op, {in(x)}, {{"axes", attr_ints({1})}, {"keepdims", attr_int(0)}})[0];
  };
  Tensor y = run(OpType::kReduceMax, x32);
  ASSERT_EQ(y.dtype(), DType::kInt32);
  EXPECT_EQ(y.data_as<int32_t>()[0], 3);
  EXPECT_EQ(y.data_as<int32_t>()[1], 5);
  y = run(OpType::kReduceMin, x32);
  EXPECT_EQ(y.data_as<int32_t>()[0], -7);
  y = run(OpType::kReduceProd, x32);
  EXPECT_EQ(y.data_as<int32_t>()[0], -21);
  EXPECT_EQ(y.data_as<int32_t>()[1], -120);
  y = run(OpType::kReduceMean, x32);  // integer division truncates toward zero
  EXPECT_EQ(y.data_as<int32_t>()[0], -1);
  EXPECT_EQ(y.data_as<int32_t>()[1], 1);
  y = run(OpType::kReduceL1, x32);
  EXPECT_EQ(y.data_as<int32_t>()[0], 11);
  y = run(OpType::kReduceSumSquare, x32);
  EXPECT_EQ(y.data_as<int32_t>()[1], 77);

  const Tensor x64 = make_tensor<int64_t>({2, 2}, {int64_t{1} << 40, 3, -5, 7});
  const Tensor s = run_op(OpType::kReduceSum, {in(x64), in(make_tensor<int64_t>({1}, {0}), true)},
                          {{"keepdims", attr_int(1)}})[0];
  ASSERT_EQ(s.shape(), (Shape{1, 2}));
  EXPECT_EQ(s.data_as<int64_t>()[0], (int64_t{1} << 40) - 5);
  EXPECT_EQ(s.data_as<int64_t>()[1], 10);

  const Tensor u8 = make_tensor<uint8_t>({4}, {3, 250, 7, 9});
  EXPECT_EQ(run_op(OpType::kReduceMax, {in(u8)}, {})[0].data_as<uint8_t>()[0], 250);
}

TEST(ReduceOps, EmptyAxesInputNoopAndReduceAll) {
  const Tensor x = random_tensor({3, 2, 2}, -1, 1, 5);
  const Tensor empty(DType::kInt64, {0});
  // noop_with_empty_axes = 1: identity.
  Tensor y = run_op(OpType::kReduceSum, {in(x), in(empty, true)},
                    {{"keepdims", attr_int(1)}, {"noop_with_empty_axes", attr_int(1)}})[0];
  ASSERT_EQ(y.shape(), x.shape());
  EXPECT_EQ(testing::max_abs_diff(x, y), 0.0f);
  // Default: empty axes reduce everything; an empty tensor needs no constant data.
  y = run_op(OpType::kReduceSum, {in(x), in(empty, false)}, {{"keepdims", attr_int(0)}})[0];
  EXPECT_EQ(y.shape(), Shape{});
  double sum = 0;
  for (int i = 0; i < 12; ++i) sum += x.data_as<float>()[i];
  EXPECT_NEAR(y.data_as<float>()[0], sum, 1e-5);
  // Omitted axes input behaves the same.
  y = run_op(OpType::kReduceSum, {in(x)}, {{"keepdims", attr_int(1)}})[0];
  EXPECT_EQ(y.shape(), (Shape{1, 1, 1}));
}

TEST(ReduceOps, ZeroLengthAxisGivesEmptySetValues) {
  const Tensor x(DType::kFloat32, {2, 0, 3});
  auto run = [&](OpType op) {
    return run_op(op, {in(x)}, {{"axes", attr_ints({1})}, {"keepdims", attr_int(0)}})[0];
  };
  EXPECT_EQ(run(OpType::kReduceMax).shape(), (Shape{2, 3}));
  EXPECT_EQ(run(OpType::kReduceProd).data_as<float>()[0], 1.0f);
  EXPECT_EQ(run(OpType::kReduceL2).data_as<float>()[5], 0.0f);
  EXPECT_EQ(run(OpType::kReduceMax).data_as<float>()[0], -INFINITY);
  EXPECT_TRUE(std::isnan(run(OpType::kReduceMean).data_as<float>()[0]));
  EXPECT_EQ(run(OpType::kReduceLogSumExp).data_as<float>()[0], -INFINITY);
  // Reducing a kept zero-length dim leaves nothing to compute.
  const Tensor y = run_op(OpType::kReduceMean, {in(x)}, {{"axes", attr_ints({2})}})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 0, 1}));
}

StatusCode error_code(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return StatusCode::kOk;
}

TEST(ReduceOps, InvalidModelsAreRejectedInPrepare) {
  const Tensor x = random_tensor({2, 3});
  EXPECT_EQ(error_code([&] {
              run_op(OpType::kReduceMean, {in(x)}, {{"axes", attr_ints({2})}});
            }),
            StatusCode::kInvalidModel);
  EXPECT_EQ(error_code([&] {
              run_op(OpType::kReduceMean, {in(x)}, {{"axes", attr_ints({-3})}});
            }),
            StatusCode::kInvalidModel);
  EXPECT_EQ(error_code([&] {
              run_op(OpType::kReduceMax, {in(x)}, {{"axes", attr_ints({1, -1})}});
            }),
            StatusCode::kInvalidModel);
  // Axes from a run-time input cannot plan a static shape.
  EXPECT_EQ(error_code([&] {
              run_op(OpType::kReduceSum, {in(x), in(make_tensor<int64_t>({1}, {1}), false)}, {});
            }),
            StatusCode::kNeedsConstant);
  EXPECT_EQ(error_code([&] {
              run_op(OpType::kReduceSum, {in(x), in(random_tensor({1}), true)}, {});
            }),
            StatusCode::kInvalidModel);
  // int8 sums are not supported (only max/min take 8-bit types); bool never.
  EXPECT_EQ(error_code([&] { run_op(OpType::kReduceSum, {in(Tensor(DType::kInt8, {2}))}, {}); }),
            StatusCode::kUnsupported);
  EXPECT_EQ(error_code([&] { run_op(OpType::kReduceMax, {in(Tensor(DType::kBool, {2}))}, {}); }),
            StatusCode::kUnsupported);
  try {
    run_op(OpType::kReduceL2, {in(x)}, {{"axes", attr_ints({5})}});
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("axis 5 is out of range for rank 2"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace softdpu
