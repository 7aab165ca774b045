// Helpers for the tensor-family kernel tests: typed tensor builders, value extraction, naive
// index arithmetic (ravel/unravel) for independent expected values, and plan-only runs that
// expose what prepare decided (constant outputs, errors).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/kernel.h"
#include "softdpu/status.h"
#include "support/run_op.h"

namespace softdpu::tensor_test {

using ir::OpType;
using testing::in;
using testing::make_tensor;
using testing::none;
using testing::run_op;
using Attrs = std::map<std::string, ir::Attribute>;

template <typename T>
std::vector<T> values(const Tensor& t) {
  return std::vector<T>(t.data_as<T>(), t.data_as<T>() + t.numel());
}

inline Tensor i64(Shape s, std::vector<int64_t> v) {
  return make_tensor<int64_t>(std::move(s), v);
}
inline Tensor i32(Shape s, std::vector<int32_t> v) {
  return make_tensor<int32_t>(std::move(s), v);
}
inline Tensor f32(Shape s, std::vector<float> v) {
  return make_tensor<float>(std::move(s), v);
}

// 0, 1, 2, ... in type T.
template <typename T = float>
Tensor iota(Shape s) {
  Tensor t(DTypeOf<T>::value, std::move(s));
  for (int64_t i = 0; i < t.numel(); ++i) t.data_as<T>()[i] = static_cast<T>(i);
  return t;
}

inline std::vector<int64_t> unravel(int64_t i, const Shape& s) {
  std::vector<int64_t> idx(s.size());
  for (size_t k = s.size(); k-- > 0;) {
    idx[k] = i % s[k];
    i /= s[k];
  }
  return idx;
}

inline int64_t ravel(const std::vector<int64_t>& idx, const Shape& s) {
  int64_t i = 0;
  for (size_t k = 0; k < s.size(); ++k) i = i * s[k] + idx[k];
  return i;
}

// Runs prepare only; returns the output descriptions (constants included).
inline std::vector<runtime::OutputDesc> prepare_only(OpType op,
                                                     const std::vector<testing::OpInput>& inputs,
                                                     const Attrs& attrs, int num_outputs = 1,
                                                     int64_t opset = 17) {
  const testing::OpNode n = testing::describe_op(op, inputs, attrs, num_outputs, "in");
  runtime::PrepareContext ctx(n.node, opset, n.descs, num_outputs);
  runtime::prepare_fn(op)(ctx);
  return ctx.outputs();
}

// The error a call throws: code and message ("" and kOk when it does not throw).
struct Thrown {
  StatusCode code = StatusCode::kOk;
  std::string message;
  std::string subject;
};

inline Thrown thrown(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return {e.code(), e.what(), e.subject()};
  }
  return {};
}

#define EXPECT_THROWS_CODE(stmt, expected_code, substring)                                   \
  do {                                                                                       \
    const ::softdpu::tensor_test::Thrown t_ = ::softdpu::tensor_test::thrown([&] { stmt; }); \
    EXPECT_EQ(t_.code, expected_code) << t_.message;                                         \
    EXPECT_NE(t_.message.find(substring), std::string::npos) << t_.message;                  \
  } while (0)

}  // namespace softdpu::tensor_test
