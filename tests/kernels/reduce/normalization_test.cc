// LpNormalization, LRN and MeanVarianceNormalization against double references.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>

#include "softdpu/status.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using ir::OpType;
using testing::attr_float;
using testing::attr_int;
using testing::attr_ints;
using testing::in;
using testing::random_tensor;
using testing::run_op;

StatusCode error_code(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return StatusCode::kOk;
}

float at(const Tensor& t, int64_t i) {
  return t.data_as<float>()[i];
}

TEST(ReduceLpNorm, EveryAxisBothNormsEveryIsa) {
  const Tensor x = random_tensor({3, 4, 37}, -2, 2, 1);
  for (Isa isa : testing::supported_isas()) {
    ScopedIsa scoped(isa);
    for (int64_t p : {1, 2}) {
      for (int axis = -3; axis < 3; ++axis) {
        const int a = axis < 0 ? axis + 3 : axis;
        const Tensor y = run_op(OpType::kLpNormalization, {in(x)},
                                {{"axis", attr_int(axis)}, {"p", attr_int(p)}})[0];
        const Shape& s = x.shape();
        int64_t outer = 1, inner = 1;
        for (int d = 0; d < a; ++d) outer *= s[d];
        for (int d = a + 1; d < 3; ++d) inner *= s[d];
        const int64_t n = s[a];
        for (int64_t o = 0; o < outer; ++o) {
          for (int64_t i = 0; i < inner; ++i) {
            double norm = 0;
            for (int64_t j = 0; j < n; ++j) {
              const double v = at(x, (o * n + j) * inner + i);
              norm += p == 1 ? std::fabs(v) : v * v;
            }
            if (p == 2) norm = std::sqrt(norm);
            for (int64_t j = 0; j < n; ++j) {
              const int64_t k = (o * n + j) * inner + i;
              ASSERT_NEAR(at(y, k), at(x, k) / norm, 1e-6)
                  << "p " << p << " axis " << axis << " " << isa_name(isa);
            }
          }
        }
      }
    }
  }
  // An all-zero vector stays zero instead of 0/0.
  const Tensor z(DType::kFloat32, {2, 3});
  const Tensor y = run_op(OpType::kLpNormalization, {in(z)}, {})[0];
  for (int i = 0; i < 6; ++i) EXPECT_EQ(at(y, i), 0.0f);
  EXPECT_EQ(error_code([&] {
              run_op(OpType::kLpNormalization, {in(z)}, {{"p", attr_int(3)}});
            }),
            StatusCode::kInvalidModel);
}

TEST(ReduceLrn, MatchesReferenceForSeveralWindowsAndBetas) {
  const Shape shape{2, 7, 3, 5};
  const Tensor x = random_tensor(shape, -2, 2, 2);
  for (int64_t size : {1, 2, 3, 5}) {
    for (float beta : {0.75f, 0.5f, 1.0f, 0.3f}) {
      const double alpha = 1e-2, bias = 1.5;
      const Tensor y = run_op(OpType::kLRN, {in(x)},
                              {{"size", attr_int(size)},
                               {"alpha", attr_float(1e-2f)},
                               {"beta", attr_float(beta)},
                               {"bias", attr_float(1.5f)}},
                              1, 2)[0];
      const int64_t c = shape[1], hw = shape[2] * shape[3];
      for (int64_t n = 0; n < shape[0]; ++n) {
        for (int64_t ch = 0; ch < c; ++ch) {
          const int64_t lo = std::max<int64_t>(0, ch - (size - 1) / 2);
          const int64_t hi = std::min<int64_t>(c - 1, ch + size / 2);  // ceil((size-1)/2)
          for (int64_t k = 0; k < hw; ++k) {
            double sq = 0;
            for (int64_t w = lo; w <= hi; ++w) sq += std::pow(at(x, (n * c + w) * hw + k), 2);
            const int64_t i = (n * c + ch) * hw + k;
            const double want = at(x, i) / std::pow(bias + alpha / size * sq, beta);
            ASSERT_NEAR(at(y, i), want, 1e-6) << "size " << size << " beta " << beta;
          }
        }
      }
    }
  }
  EXPECT_EQ(error_code([&] { run_op(OpType::kLRN, {in(x)}, {}); }), StatusCode::kInvalidModel);
}

TEST(ReduceMvn, DefaultAndCustomAxes) {
  const Shape shape{3, 4, 2, 5};
  const Tensor x = random_tensor(shape, -1, 3, 3);
  for (const std::vector<int64_t>& axes :
       {std::vector<int64_t>{0, 2, 3}, {2, 3}, {1}, {-1}, {0, 1, 2, 3}}) {
    std::map<std::string, ir::Attribute> attrs;
    if (axes != std::vector<int64_t>{0, 2, 3}) attrs["axes"] = attr_ints(axes);
    const Tensor y = run_op(OpType::kMeanVarianceNormalization, {in(x)}, attrs, 1, 2)[0];
    std::vector<bool> red(4, false);
    for (int64_t a : axes) red[a < 0 ? a + 4 : a] = true;
    // Group elements by their kept coordinates; normalise each group.
    std::map<std::vector<int64_t>, std::vector<int64_t>> groups;
    for (int64_t i = 0; i < x.numel(); ++i) {
      std::vector<int64_t> key;
      int64_t r = i;
      for (int d = 3; d >= 0; --d) {
        key.insert(key.begin(), red[d] ? 0 : r % shape[d]);
        r /= shape[d];
      }
      groups[key].push_back(i);
    }
    for (const auto& [key, idx] : groups) {
      double sum = 0, sq = 0;
      for (int64_t i : idx) sum += at(x, i);
      const double m = sum / idx.size();
      for (int64_t i : idx) sq += std::pow(at(x, i) - m, 2);
      const double sd = std::sqrt(sq / idx.size());
      for (int64_t i : idx) ASSERT_NEAR(at(y, i), (at(x, i) - m) / (sd + 1e-9), 1e-5);
    }
  }
  EXPECT_EQ(error_code([&] {
              run_op(OpType::kMeanVarianceNormalization, {in(random_tensor({2, 3}))}, {});
            }),
            StatusCode::kInvalidModel);  // default axes {0, 2, 3} need rank 4
}

}  // namespace
}  // namespace softdpu
