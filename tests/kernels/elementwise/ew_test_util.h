// Helpers shared by the elementwise kernel tests. References in the tests are written with plain
// std:: math, never with the kernels' own functors.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "ir/op_type.h"
#include "softdpu/status.h"
#include "support/run_op.h"

namespace softdpu::testing::ew {

inline constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
inline constexpr float kInf = std::numeric_limits<float>::infinity();

using Attrs = std::map<std::string, ir::Attribute>;

template <typename T>
std::vector<T> values(const Tensor& t) {
  const T* p = t.data_as<T>();
  return std::vector<T>(p, p + t.numel());
}

// n floats spread over [lo, hi] plus, when `specials`, NaN, +-inf, +-0 at the front.
inline std::vector<float> sweep(int64_t n, float lo, float hi, bool specials = false) {
  std::vector<float> v;
  if (specials) v = {kNaN, kInf, -kInf, 0.f, -0.f};
  for (int64_t i = 0; static_cast<int64_t>(v.size()) < n; ++i) {
    float t = n > 1 ? static_cast<float>(i) / static_cast<float>(n - 1) : 0.5f;
    v.push_back(lo + (hi - lo) * t);
  }
  v.resize(n);
  return v;
}

inline Tensor ftensor(const std::vector<float>& v) {
  return make_tensor<float>({static_cast<int64_t>(v.size())}, v);
}

// |got - want| <= atol + rtol |want|, NaN matches NaN, infinities must match exactly.
inline ::testing::AssertionResult near(double got, double want, double rtol, double atol) {
  if (std::isnan(want)) {
    return std::isnan(got) ? ::testing::AssertionSuccess()
                           : ::testing::AssertionFailure() << "got " << got << ", want NaN";
  }
  if (std::isinf(want) || std::isinf(got)) {
    return got == want ? ::testing::AssertionSuccess()
                       : ::testing::AssertionFailure() << "got " << got << ", want " << want;
  }
  if (std::fabs(got - want) <= atol + rtol * std::fabs(want)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "got " << got << ", want " << want << " (diff " << std::fabs(got - want) << ")";
}

// Runs a float32 unary op on x under every ISA this machine supports and checks each element
// against ref within the tolerance.
inline void check_unary_f32(ir::OpType op, const std::vector<float>& x,
                            const std::function<double(double)>& ref, double rtol, double atol,
                            const Attrs& attrs = {}) {
  for (Isa isa : supported_isas()) {
    ScopedIsa scoped(isa);
    Tensor y = run_op(op, {in(ftensor(x))}, attrs)[0];
    ASSERT_EQ(y.dtype(), DType::kFloat32);
    ASSERT_EQ(y.numel(), static_cast<int64_t>(x.size()));
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_TRUE(near(y.data_as<float>()[i], ref(x[i]), rtol, atol))
          << ir::op_name(op) << "(" << x[i] << ") isa " << isa_name(isa) << " n " << x.size();
    }
  }
}

// Expects prepare to throw Error with `code` and a message containing `fragment`.
template <class Fn>
void expect_error(Fn&& fn, StatusCode code, const std::string& fragment) {
  try {
    fn();
    ADD_FAILURE() << "expected an error containing '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

inline const std::vector<int64_t> kOddLengths = {1, 7, 33, 1000};

}  // namespace softdpu::testing::ew
