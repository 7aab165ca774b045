// Gemm and MatMul ops through the test harness, against plain loops written here.
#include <gtest/gtest.h>

#include <cmath>

#include "core/cpu.h"
#include "softdpu/status.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using ir::OpType;
using testing::attr_float;
using testing::attr_int;
using testing::attr_string;
using testing::in;
using testing::none;
using testing::random_tensor;

// Y = alpha * op(A) op(B) + beta * C (C broadcast), all loops.
Tensor gemm_naive(const Tensor& a, const Tensor& b, const Tensor* c, bool ta, bool tb, float alpha,
                  float beta) {
  const int64_t m = ta ? a.shape()[1] : a.shape()[0], k = ta ? a.shape()[0] : a.shape()[1];
  const int64_t n = tb ? b.shape()[0] : b.shape()[1];
  Tensor y(DType::kFloat32, {m, n});
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t kk = 0; kk < k; ++kk) {
        const float av = ta ? a.data_as<float>()[kk * m + i] : a.data_as<float>()[i * k + kk];
        const float bv = tb ? b.data_as<float>()[j * k + kk] : b.data_as<float>()[kk * n + j];
        acc += double(av) * bv;
      }
      float cv = 0;
      if (c) {
        const Shape& s = c->shape();
        const int64_t cm = s.size() == 2 ? s[0] : 1, cn = s.empty() ? 1 : s.back();
        cv = c->data_as<float>()[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
      }
      y.data_as<float>()[i * n + j] = float(alpha * acc + beta * cv);
    }
  }
  return y;
}

TEST(LinalgGemmOp, AttributesAndCBroadcasts) {
  const std::vector<Shape> c_shapes = {{}, {1}, {13}, {1, 13}, {7, 1}, {7, 13}};
  for (Isa isa : testing::supported_isas()) {
    ScopedIsa scope(isa);
    for (int ta = 0; ta < 2; ++ta) {
      for (int tb = 0; tb < 2; ++tb) {
        for (size_t ci = 0; ci < c_shapes.size(); ++ci) {
          for (int b_const = 0; b_const < 2; ++b_const) {
            SCOPED_TRACE(::testing::Message()
                         << isa_name(isa) << " ta=" << ta << " tb=" << tb
                         << " c=" << shape_to_string(c_shapes[ci]) << " b_const=" << b_const);
            Tensor a = random_tensor(ta ? Shape{9, 7} : Shape{7, 9}, -1, 1, 1);
            Tensor b = random_tensor(tb ? Shape{13, 9} : Shape{9, 13}, -1, 1, 2);
            Tensor c = random_tensor(c_shapes[ci], -1, 1, 3);
            const bool c_const = ci % 2 == 0;
            auto out = testing::run_op(OpType::kGemm, {in(a), in(b, b_const), in(c, c_const)},
                                       {{"transA", attr_int(ta)},
                                        {"transB", attr_int(tb)},
                                        {"alpha", attr_float(0.5f)},
                                        {"beta", attr_float(-2.f)}});
            Tensor want = gemm_naive(a, b, &c, ta, tb, 0.5f, -2.f);
            EXPECT_LT(testing::max_abs_diff(out[0], want), 1e-5f);
          }
        }
      }
    }
  }
}

TEST(LinalgGemmOp, NoCFusedReluAndThreads) {
  Tensor a = random_tensor({3, 200}, -1, 1, 4), b = random_tensor({200, 300}, -1, 1, 5);
  auto out = testing::run_op(OpType::kGemm, {in(a), in(b, true)},
                             {{"_activation", attr_string("Relu")}}, 1, 2);
  Tensor want = gemm_naive(a, b, nullptr, false, false, 1.f, 0.f);
  for (int64_t i = 0; i < want.numel(); ++i)
    want.data_as<float>()[i] = std::max(want.data_as<float>()[i], 0.f);
  EXPECT_LT(testing::max_abs_diff(out[0], want), 1e-4f);
}

TEST(LinalgGemmOp, Errors) {
  Tensor a = random_tensor({3, 4}), b = random_tensor({5, 6});
  try {
    testing::run_op(OpType::kGemm, {in(a), in(b)}, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::kInvalidModel);
    EXPECT_NE(std::string(e.what()).find("K=4"), std::string::npos) << e.what();
  }
  Tensor c = random_tensor({2, 6});
  EXPECT_THROW(testing::run_op(OpType::kGemm, {in(a), in(random_tensor({4, 6})), in(c)}, {}),
               Error);
  Tensor ai(DType::kInt32, {3, 4});
  try {
    testing::run_op(OpType::kGemm, {in(ai), in(random_tensor({4, 6}))}, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::kUnsupported);
  }
}

// numpy matmul by loops over broadcast batch entries.
Tensor matmul_naive(const Tensor& a, const Tensor& b) {
  Shape sa = a.shape(), sb = b.shape();
  const bool av = sa.size() == 1, bv = sb.size() == 1;
  if (av) sa.insert(sa.begin(), 1);
  if (bv) sb.push_back(1);
  const int64_t m = sa[sa.size() - 2], k = sa.back(), n = sb.back();
  Shape ba(sa.begin(), sa.end() - 2), bb(sb.begin(), sb.end() - 2);
  const size_t r = std::max(ba.size(), bb.size());
  while (ba.size() < r) ba.insert(ba.begin(), 1);
  while (bb.size() < r) bb.insert(bb.begin(), 1);
  Shape batch(r);
  for (size_t i = 0; i < r; ++i) batch[i] = std::max(ba[i], bb[i]);
  Shape out = batch;
  if (!av) out.push_back(m);
  if (!bv) out.push_back(n);
  Tensor y(DType::kFloat32, out);
  const int64_t nbatch = shape_numel(batch);
  for (int64_t e = 0; e < nbatch; ++e) {
    int64_t rem = e, oa = 0, ob = 0, sa_ = 1, sb_ = 1;
    for (size_t d = r; d-- > 0;) {
      const int64_t i = rem % batch[d];
      rem /= batch[d];
      oa += (ba[d] == 1 ? 0 : i) * sa_;
      ob += (bb[d] == 1 ? 0 : i) * sb_;
      sa_ *= ba[d];
      sb_ *= bb[d];
    }
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t kk = 0; kk < k; ++kk)
          acc += double(a.data_as<float>()[oa * m * k + i * k + kk]) *
                 b.data_as<float>()[ob * k * n + kk * n + j];
        y.data_as<float>()[e * m * n + i * n + j] = float(acc);
      }
  }
  return y;
}

TEST(LinalgMatMul, NumpyShapes) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{5}, {5}},          {{5}, {5, 3}},           {{4, 5}, {5}},
      {{4, 5}, {5, 19}},   {{2, 3, 4, 5}, {5, 6}},  {{2, 1, 4, 5}, {3, 5, 6}},
      {{4, 5}, {2, 5, 6}}, {{3, 1, 7}, {3, 7, 17}}, {{1, 5}, {5, 1}},
      {{6, 33}, {33, 3}},  {{2, 4, 0}, {0, 5}},
  };
  for (Isa isa : testing::supported_isas()) {
    ScopedIsa scope(isa);
    for (const auto& [sa, sb] : cases) {
      for (int mode = 0; mode < 3; ++mode) {  // 0: all run-time, 1: B constant, 2: A constant
        SCOPED_TRACE(::testing::Message() << isa_name(isa) << " " << shape_to_string(sa) << " x "
                                          << shape_to_string(sb) << " mode=" << mode);
        Tensor a = random_tensor(sa, -1, 1, 7), b = random_tensor(sb, -1, 1, 8);
        auto out = testing::run_op(OpType::kMatMul, {in(a, mode == 2), in(b, mode == 1)}, {}, 1, 2);
        Tensor want = matmul_naive(a, b);
        ASSERT_EQ(out[0].shape(), want.shape());
        EXPECT_LT(testing::max_abs_diff(out[0], want), 1e-5f);
      }
    }
  }
}

TEST(LinalgMatMul, Errors) {
  EXPECT_THROW(
      testing::run_op(OpType::kMatMul, {in(random_tensor({3, 4})), in(random_tensor({5, 2}))}, {}),
      Error);
  EXPECT_THROW(testing::run_op(OpType::kMatMul,
                               {in(random_tensor({2, 3, 4})), in(random_tensor({3, 4, 2}))}, {}),
               Error);
}

}  // namespace
}  // namespace softdpu
