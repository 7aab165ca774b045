// ArgMax / ArgMin against a naive reference: every axis (also negative), keepdims, first or last
// index among ties, several element types.
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "softdpu/status.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using ir::OpType;
using testing::attr_int;
using testing::in;
using testing::make_tensor;
using testing::run_op;

template <typename T>
std::vector<int64_t> arg_ref(const std::vector<T>& x, const Shape& s, int axis, bool max,
                             bool last) {
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= s[d];
  for (size_t d = axis + 1; d < s.size(); ++d) inner *= s[d];
  const int64_t n = s[axis];
  std::vector<int64_t> out;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      int64_t best = 0;
      for (int64_t j = 1; j < n; ++j) {
        const T v = x[(o * n + j) * inner + i], b = x[(o * n + best) * inner + i];
        const bool wins = max ? (v > b || (last && v == b)) : (v < b || (last && v == b));
        if (wins) best = j;
      }
      out.push_back(best);
    }
  }
  return out;
}

// Small integers so that ties are frequent and select_last_index matters.
template <typename T>
void check_type(DType dtype) {
  const Shape shapes[] = {{5}, {3, 4}, {2, 3, 70}, {2, 1, 3}};
  std::mt19937 rng(11);
  for (const Shape& s : shapes) {
    Tensor x(dtype, s);
    std::vector<T> v(x.numel());
    for (auto& e : v) e = static_cast<T>(rng() % 4);
    std::copy(v.begin(), v.end(), x.data_as<T>());
    const int rank = static_cast<int>(s.size());
    for (int axis = -rank; axis < rank; ++axis) {
      const int a = axis < 0 ? axis + rank : axis;
      for (OpType op : {OpType::kArgMax, OpType::kArgMin}) {
        for (int last = 0; last <= 1; ++last) {
          for (int keep = 0; keep <= 1; ++keep) {
            const Tensor y = run_op(op, {in(x)},
                                    {{"axis", attr_int(axis)},
                                     {"keepdims", attr_int(keep)},
                                     {"select_last_index", attr_int(last)}})[0];
            Shape want_shape = s;
            if (keep) {
              want_shape[a] = 1;
            } else {
              want_shape.erase(want_shape.begin() + a);
            }
            ASSERT_EQ(y.dtype(), DType::kInt64);
            ASSERT_EQ(y.shape(), want_shape);
            const auto want = arg_ref(v, s, a, op == OpType::kArgMax, last);
            for (size_t i = 0; i < want.size(); ++i) {
              ASSERT_EQ(y.data_as<int64_t>()[i], want[i])
                  << dtype_name(dtype) << " " << shape_to_string(s) << " axis " << axis << " last "
                  << last << " at " << i;
            }
          }
        }
      }
    }
  }
}

TEST(ReduceArgMinMax, MatchesReferenceForEveryAxisAndType) {
  check_type<float>(DType::kFloat32);
  check_type<double>(DType::kFloat64);
  check_type<int32_t>(DType::kInt32);
  check_type<int64_t>(DType::kInt64);
  check_type<uint8_t>(DType::kUInt8);
  check_type<int8_t>(DType::kInt8);
}

TEST(ReduceArgMinMax, DefaultsAreAxisZeroKeepdims) {
  const Tensor x = make_tensor<float>({2, 2}, {2, 1, 3, 10});
  const Tensor y = run_op(OpType::kArgMax, {in(x)}, {})[0];
  ASSERT_EQ(y.shape(), (Shape{1, 2}));
  EXPECT_EQ(y.data_as<int64_t>()[0], 1);
  EXPECT_EQ(y.data_as<int64_t>()[1], 1);
}

TEST(ReduceArgMinMax, ThreadedMatchesSerial) {
  const Tensor x = testing::random_tensor({64, 300}, -1, 1, 4);
  for (int axis : {0, 1}) {
    const auto a = run_op(OpType::kArgMin, {in(x)}, {{"axis", attr_int(axis)}}, 1, 1)[0];
    const auto b = run_op(OpType::kArgMin, {in(x)}, {{"axis", attr_int(axis)}}, 1, 2)[0];
    for (int64_t i = 0; i < a.numel(); ++i) {
      ASSERT_EQ(a.data_as<int64_t>()[i], b.data_as<int64_t>()[i]);
    }
  }
}

TEST(ReduceArgMinMax, Errors) {
  auto code = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return e.code();
    }
    return StatusCode::kOk;
  };
  const Tensor x = testing::random_tensor({2, 3});
  EXPECT_EQ(code([&] {
              run_op(OpType::kArgMax, {in(x)}, {{"axis", attr_int(2)}});
            }),
            StatusCode::kInvalidModel);
  EXPECT_EQ(
      code([&] {
        run_op(OpType::kArgMax, {in(Tensor(DType::kFloat32, {2, 0}))}, {{"axis", attr_int(1)}});
      }),
      StatusCode::kInvalidModel);
  EXPECT_EQ(code([&] { run_op(OpType::kArgMin, {in(Tensor(DType::kBool, {2}))}, {}); }),
            StatusCode::kUnsupported);
}

}  // namespace
}  // namespace softdpu
