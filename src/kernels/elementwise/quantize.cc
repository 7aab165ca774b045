// QuantizeLinear, DequantizeLinear (per tensor or per axis) and DynamicQuantizeLinear.
//
// Scales and zero points are read in run(): they are usually initializers, but the ONNX tests
// (and some exporters) feed them as graph inputs. Quantisation divides by the scale (not a
// multiply by its reciprocal) and rounds halves to even, exactly as the ONNX reference does.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/elementwise/loops.h"

namespace softdpu::runtime {
namespace {

using namespace kernels::ew;

using ZeroPointTypes = TypeList<uint8_t, int8_t, uint16_t, int16_t>;

// saturate(round_half_even(x / scale) + zero_point), computed in float.
struct QuantizeOp {
  static constexpr bool kVectorize = true;
  float scale, zero_point, qmin, qmax;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE float apply(C x) const {
    float v = std::nearbyint(static_cast<float>(x) / scale) + zero_point;
    v = v > qmin ? v : qmin;  // NaN -> qmin, so the conversion below is always in range
    return v < qmax ? v : qmax;
  }
};

template <class TIn>
struct DequantizeOp {
  static constexpr bool kVectorize = true;
  int32_t zero_point;
  float scale;
  template <bool kFma, class C>
  SOFTDPU_EW_INLINE float apply(C x) const {
    if constexpr (sizeof(TIn) >= 4) {
      // int32 data: the difference may not fit a float exactly; multiply in double.
      double d = static_cast<double>(static_cast<int64_t>(x) - zero_point);
      return static_cast<float>(d * static_cast<double>(scale));
    } else {
      return static_cast<float>(static_cast<int32_t>(x) - zero_point) * scale;
    }
  }
};

// x viewed as [outer, channels, inner]; channels = 1 for a per-tensor scale.
struct AxisLayout {
  int64_t outer = 1, channels = 1, inner = 1;
};

AxisLayout axis_layout(const PrepareContext& ctx, int scale_input, int zero_point_input) {
  const Shape& x = ctx.shape(0);
  const Shape& scale = ctx.shape(scale_input);
  if (ctx.attr_int("block_size", 0) != 0) {
    ctx.unsupported("blocked quantization (attribute 'block_size') is not supported");
  }
  if (ctx.has_input(zero_point_input) &&
      shape_numel(ctx.shape(zero_point_input)) != shape_numel(scale)) {
    ctx.fail("zero point shape " + shape_to_string(ctx.shape(zero_point_input)) +
             " does not match scale shape " + shape_to_string(scale));
  }
  AxisLayout l;
  l.inner = shape_numel(x);
  if (shape_numel(scale) == 1 && scale.size() <= 1) return l;
  if (scale.size() != 1) {
    ctx.fail("scale must be a scalar or a 1-D tensor, got shape " + shape_to_string(scale));
  }
  const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 1), static_cast<int64_t>(x.size()));
  if (x[axis] != scale[0]) {
    ctx.fail("scale has " + std::to_string(scale[0]) + " elements but axis " +
             std::to_string(axis) + " of input shape " + shape_to_string(x) + " has " +
             std::to_string(x[axis]));
  }
  l.outer = 1;
  for (int64_t d = 0; d < axis; ++d) l.outer *= x[d];
  l.channels = x[axis];
  l.inner = 1;
  for (size_t d = static_cast<size_t>(axis) + 1; d < x.size(); ++d) l.inner *= x[d];
  return l;
}

float read_scale(DType t, const void* p, int64_t i) {
  switch (t) {
    case DType::kFloat16: return load(static_cast<const Float16*>(p)[i]);
    case DType::kBFloat16: return load(static_cast<const BFloat16*>(p)[i]);
    default: return static_cast<const float*>(p)[i];
  }
}

template <class TZ>
int32_t read_zero_point(const void* p, int64_t i) {
  return p ? static_cast<int32_t>(static_cast<const TZ*>(p)[i]) : 0;
}

// Runs one functor per channel (built by make_op(c)) over the [outer, channels, inner] layout.
template <class TIn, class TOut, class MakeOp>
void run_per_channel(const AxisLayout& l, const TIn* x, TOut* y, ThreadPool* pool,
                     const MakeOp& make_op) {
  using Op = decltype(make_op(int64_t{0}));
  auto fn = UnaryLoops<TIn, TOut, Op>::pick();
  if (l.channels == 1) {
    const Op op = make_op(0);
    pool->parallel_for(l.inner, kGrainCheap,
                       [&](int64_t b, int64_t e) { fn(x + b, y + b, e - b, op); });
    return;
  }
  const int64_t rows = l.outer * l.channels;
  const int64_t grain = std::max<int64_t>(1, kGrainCheap / std::max<int64_t>(1, l.inner));
  pool->parallel_for(rows, grain, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      fn(x + r * l.inner, y + r * l.inner, l.inner, make_op(r % l.channels));
    }
  });
}

template <class TIn, class TZ>
std::unique_ptr<Kernel> quantize_kernel(PrepareContext& ctx) {
  const AxisLayout l = axis_layout(ctx, 1, 2);
  const DType scale_type = ctx.dtype(1);
  const bool has_zp = ctx.has_input(2);
  ctx.set_output(0, dtype_of<TZ>, ctx.shape(0));
  return make_kernel([l, scale_type, has_zp](const KernelArgs& args) {
    const void* scale = args.in[1];
    const void* zp = has_zp ? args.in[2] : nullptr;
    run_per_channel(l, static_cast<const TIn*>(args.in[0]), static_cast<TZ*>(args.out[0]),
                    args.pool, [&](int64_t c) {
                      return QuantizeOp{read_scale(scale_type, scale, c),
                                        static_cast<float>(read_zero_point<TZ>(zp, c)),
                                        static_cast<float>(std::numeric_limits<TZ>::min()),
                                        static_cast<float>(std::numeric_limits<TZ>::max())};
                    });
  });
}

template <class TIn, class TOut>
std::unique_ptr<Kernel> dequantize_kernel(PrepareContext& ctx) {
  const AxisLayout l = axis_layout(ctx, 1, 2);
  const DType scale_type = ctx.dtype(1);
  const bool has_zp = ctx.has_input(2);
  ctx.set_output(0, dtype_of<TOut>, ctx.shape(0));
  return make_kernel([l, scale_type, has_zp](const KernelArgs& args) {
    const void* scale = args.in[1];
    const void* zp = has_zp ? args.in[2] : nullptr;
    run_per_channel(
        l, static_cast<const TIn*>(args.in[0]), static_cast<TOut*>(args.out[0]), args.pool,
        [&](int64_t c) {
          return DequantizeOp<TIn>{read_zero_point<TIn>(zp, c), read_scale(scale_type, scale, c)};
        });
  });
}

void expect_scale_type(const PrepareContext& ctx) {
  ctx.expect_dtype(1, {DType::kFloat32, DType::kFloat16, DType::kBFloat16});
}

}  // namespace

std::unique_ptr<Kernel> prepare_QuantizeLinear(PrepareContext& ctx) {
  expect_scale_type(ctx);
  DType out = DType::kUInt8;
  if (ctx.has_input(2)) {
    out = ctx.dtype(2);
  } else if (ctx.attr_int("output_dtype", 0) != 0) {
    out = static_cast<DType>(ctx.attr_int("output_dtype", 0));
  }
  if (!dtype_in(ZeroPointTypes{}, out)) {
    ctx.unsupported(std::string("quantizing to ") + dtype_name(out) +
                    " is not supported (uint8, int8, uint16, int16 are)");
  }
  using InputTypes = TypeList<float, Float16, BFloat16, int32_t>;
  return dispatch(InputTypes{}, ctx, 0, [&]<class TIn>(Tag<TIn>) {
    return dispatch_dtype(ZeroPointTypes{}, out,
                          [&]<class TZ>(Tag<TZ>) { return quantize_kernel<TIn, TZ>(ctx); });
  });
}

std::unique_ptr<Kernel> prepare_DequantizeLinear(PrepareContext& ctx) {
  expect_scale_type(ctx);
  if (ctx.has_input(2)) expect_same_dtype(ctx, 2, 0);
  using InputTypes = concat_t<ZeroPointTypes, TypeList<int32_t>>;
  return dispatch(InputTypes{}, ctx, 0, [&]<class TIn>(Tag<TIn>) {
    return dispatch(TypeList<float, Float16, BFloat16>{}, ctx, 1,
                    [&]<class TOut>(Tag<TOut>) { return dequantize_kernel<TIn, TOut>(ctx); });
  });
}

std::unique_ptr<Kernel> prepare_DynamicQuantizeLinear(PrepareContext& ctx) {
  ctx.expect_dtype(0, {DType::kFloat32});
  const int64_t n = shape_numel(ctx.shape(0));
  ctx.set_output(0, DType::kUInt8, ctx.shape(0));
  ctx.set_output(1, DType::kFloat32, {});
  ctx.set_output(2, DType::kUInt8, {});
  return make_kernel([n](const KernelArgs& args) {
    const float* x = static_cast<const float*>(args.in[0]);
    // Range including 0 (so that 0 is exactly representable); 16 lanes so GCC vectorises it.
    constexpr int kLanes = 16;
    float lo[kLanes] = {}, hi[kLanes] = {};
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      for (int j = 0; j < kLanes; ++j) {
        lo[j] = std::min(lo[j], x[i + j]);
        hi[j] = std::max(hi[j], x[i + j]);
      }
    }
    for (; i < n; ++i) {
      lo[0] = std::min(lo[0], x[i]);
      hi[0] = std::max(hi[0], x[i]);
    }
    float mn = *std::min_element(lo, lo + kLanes), mx = *std::max_element(hi, hi + kLanes);
    const float scale = (mx - mn) / 255.f;
    // All-zero input gives scale 0: every output is then the zero point 0.
    float zp = scale == 0 ? 0.f : std::nearbyint((0.f - mn) / scale);
    zp = std::min(std::max(zp, 0.f), 255.f);
    *static_cast<float*>(args.out[1]) = scale;
    *static_cast<uint8_t*>(args.out[2]) = static_cast<uint8_t>(zp);
    if (scale == 0) {
      std::fill_n(static_cast<uint8_t*>(args.out[0]), n, uint8_t{0});
      return;
    }
    run_unary(x, static_cast<uint8_t*>(args.out[0]), n, QuantizeOp{scale, zp, 0.f, 255.f},
              args.pool, kGrainCheap);
  });
}

}  // namespace softdpu::runtime
