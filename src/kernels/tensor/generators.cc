// Ops whose output is fully decided at plan time: Constant, ConstantOfShape, EyeLike (reads only
// its input's shape), Range and the three spectral windows. They set constant outputs, so no
// kernel runs and consumers (Reshape shapes, Mul by a window) see plain constants.
#include <cmath>
#include <numbers>

#include "kernels/tensor/tensor_util.h"

namespace softdpu::runtime {

using kernels::tensor::dispatch_dtype;
using kernels::tensor::dispatch_numeric;
using kernels::tensor::from_double;

std::unique_ptr<Kernel> prepare_Constant(PrepareContext& ctx) {
  if (ctx.has_attr("sparse_value")) {
    ctx.unsupported(
        "attribute 'sparse_value' is not supported: softdpu has no sparse tensors "
        "(store the value densely in 'value')");
  }
  if (ctx.has_attr("value_string") || ctx.has_attr("value_strings")) {
    ctx.unsupported(
        "string constants ('value_string(s)') are not supported: softdpu tensors hold "
        "numbers only");
  }
  int given = 0;
  for (const char* key : {"value", "value_float", "value_floats", "value_int", "value_ints"}) {
    given += ctx.has_attr(key) ? 1 : 0;
  }
  if (given != 1) {
    ctx.fail("exactly one of value, value_float(s), value_int(s) must be set, got " +
             std::to_string(given));
  }
  Tensor t;
  if (const Tensor* v = ctx.attr_tensor("value")) {
    if (!dtype_is_supported(v->dtype())) {
      ctx.unsupported(std::string("attribute 'value' has type ") + dtype_name(v->dtype()));
    }
    t = *v;
  } else if (ctx.has_attr("value_float")) {
    t = Tensor(DType::kFloat32, {});
    t.data_as<float>()[0] = ctx.attr_float("value_float", 0);
  } else if (ctx.has_attr("value_floats")) {
    const std::vector<float> v = ctx.attr_floats("value_floats");
    t = Tensor(DType::kFloat32, {static_cast<int64_t>(v.size())});
    std::copy(v.begin(), v.end(), t.data_as<float>());
  } else if (ctx.has_attr("value_int")) {
    t = Tensor(DType::kInt64, {});
    t.data_as<int64_t>()[0] = ctx.attr_int("value_int", 0);
  } else {
    const std::vector<int64_t> v = ctx.attr_ints("value_ints");
    t = Tensor(DType::kInt64, {static_cast<int64_t>(v.size())});
    std::copy(v.begin(), v.end(), t.data_as<int64_t>());
  }
  ctx.set_output_constant(0, t);
  return nullptr;
}

std::unique_ptr<Kernel> prepare_ConstantOfShape(PrepareContext& ctx) {
  kernels::tensor::expect_index_type(ctx, 0);
  ctx.expect_rank(0, 1, 1);
  const std::vector<int64_t> shape = ctx.constant_ints(0);
  for (int64_t d : shape) {
    if (d < 0) ctx.fail("shape " + shape_to_string(shape) + " has a negative dimension");
  }
  Tensor value(DType::kFloat32, {1});  // default: float32 zero
  if (const Tensor* v = ctx.attr_tensor("value")) {
    if (v->numel() != 1) {
      ctx.fail("attribute 'value' must hold one element, got shape " + shape_to_string(v->shape()));
    }
    if (!dtype_is_supported(v->dtype())) {
      ctx.unsupported(std::string("attribute 'value' has type ") + dtype_name(v->dtype()));
    }
    value = *v;
  }
  Tensor out(value.dtype(), shape);
  const size_t elem = dtype_size(value.dtype());
  auto* p = static_cast<uint8_t*>(out.data());
  for (int64_t i = 0; i < out.numel(); ++i) std::memcpy(p + i * elem, value.data(), elem);
  ctx.set_output_constant(0, out);
  return nullptr;
}

std::unique_ptr<Kernel> prepare_EyeLike(PrepareContext& ctx) {
  ctx.expect_rank(0, 2, 2);
  const DType dt =
      ctx.has_attr("dtype") ? static_cast<DType>(ctx.attr_int("dtype", 1)) : ctx.dtype(0);
  if (!dtype_is_supported(dt))
    ctx.unsupported(std::string("output type ") + dtype_name(dt) + " is not supported");
  const int64_t k = ctx.attr_int("k", 0);
  const Shape& s = ctx.shape(0);
  Tensor out(dt, s);
  dispatch_dtype(ctx, dt, [&](auto tag) {
    using T = decltype(tag);
    T* p = out.data_as<T>();
    for (int64_t i = 0; i < s[0]; ++i) {
      const int64_t j = i + k;
      if (j >= 0 && j < s[1]) p[i * s[1] + j] = from_double<T>(1.0);
    }
  });
  ctx.set_output_constant(0, out);
  return nullptr;
}

std::unique_ptr<Kernel> prepare_Range(PrepareContext& ctx) {
  const DType dt = ctx.dtype(0);
  ctx.expect_dtype(0,
                   {DType::kFloat32, DType::kFloat64, DType::kInt16, DType::kInt32, DType::kInt64});
  for (int i = 1; i < 3; ++i) {
    if (ctx.dtype(i) != dt) {
      ctx.fail("input " + std::to_string(i) + " has type " + dtype_name(ctx.dtype(i)) +
               ", input 0 has " + dtype_name(dt));
    }
  }
  for (int i = 0; i < 3; ++i) {
    if (shape_numel(ctx.shape(i)) != 1) {
      ctx.fail("input " + std::to_string(i) + " must be a scalar, got shape " +
               shape_to_string(ctx.shape(i)));
    }
  }
  Tensor out;
  dispatch_numeric(ctx, dt, [&](auto tag) {
    using T = decltype(tag);
    const T start = *ctx.constant_as<T>(0), limit = *ctx.constant_as<T>(1),
            delta = *ctx.constant_as<T>(2);
    if (delta == T(0)) ctx.fail("delta is 0");
    int64_t n = 0;
    if constexpr (std::is_integral_v<T>) {
      // Exact ceil((limit - start) / delta) in 64 bits.
      const int64_t span = static_cast<int64_t>(limit) - static_cast<int64_t>(start);
      const int64_t d = static_cast<int64_t>(delta);
      if ((span > 0 && d > 0) || (span < 0 && d < 0)) n = (span + d + (d > 0 ? -1 : 1)) / d;
    } else {
      n = static_cast<int64_t>(std::max(
          0.0, std::ceil((kernels::tensor::to_double(limit) - kernels::tensor::to_double(start)) /
                         kernels::tensor::to_double(delta))));
    }
    out = Tensor(dt, {n});
    T* p = out.data_as<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(start + static_cast<T>(i) * delta);
  });
  ctx.set_output_constant(0, out);
  return nullptr;
}

namespace {

// Generalised cosine window a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N), N = size (periodic) or
// size - 1 (symmetric), as the ONNX window ops define it.
std::unique_ptr<Kernel> cosine_window(PrepareContext& ctx, double a0, double a1, double a2) {
  kernels::tensor::expect_index_type(ctx, 0);
  const int64_t size = kernels::tensor::constant_scalar_int(ctx, 0);
  if (size < 0) ctx.fail("size must be non-negative, got " + std::to_string(size));
  const DType dt = static_cast<DType>(ctx.attr_int("output_datatype", 1));
  if (!dtype_is_supported(dt) || dt == DType::kBool) {
    ctx.unsupported(std::string("output_datatype ") + dtype_name(dt) + " is not supported");
  }
  const bool periodic = ctx.attr_int("periodic", 1) != 0;
  // A symmetric window of size 1 has N = 0; its single point is the formula at angle 0.
  const double n_div = static_cast<double>(periodic ? size : size - 1);
  Tensor out(dt, {size});
  dispatch_dtype(ctx, dt, [&](auto tag) {
    using T = decltype(tag);
    T* p = out.data_as<T>();
    for (int64_t i = 0; i < size; ++i) {
      const double x = n_div > 0 ? 2 * std::numbers::pi * static_cast<double>(i) / n_div : 0.0;
      p[i] = from_double<T>(a0 - a1 * std::cos(x) + a2 * std::cos(2 * x));
    }
  });
  ctx.set_output_constant(0, out);
  return nullptr;
}

}  // namespace

std::unique_ptr<Kernel> prepare_HannWindow(PrepareContext& ctx) {
  return cosine_window(ctx, 0.5, 0.5, 0);
}

std::unique_ptr<Kernel> prepare_HammingWindow(PrepareContext& ctx) {
  return cosine_window(ctx, 25.0 / 46.0, 1 - 25.0 / 46.0, 0);
}

std::unique_ptr<Kernel> prepare_BlackmanWindow(PrepareContext& ctx) {
  return cosine_window(ctx, 0.42, 0.5, 0.08);
}

}  // namespace softdpu::runtime
