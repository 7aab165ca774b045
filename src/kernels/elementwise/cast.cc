// Cast and CastLike, and the conversion table other kernels share (cast.h).
#include "kernels/elementwise/cast.h"

#include <cstring>
#include <type_traits>

#include "kernels/elementwise/loops.h"

namespace softdpu::kernels::ew {
namespace {

template <class To, class From, bool kTruncBf16>
SOFTDPU_EW_INLINE To convert(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (is_half_v<From>) {
    return convert<To, float, kTruncBf16>(load(v));  // widening to float is exact
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (is_half_v<To>) {
    // From double (or a wide integer) go through a round-to-odd float so that the final
    // rounding is the only one.
    float f;
    if constexpr (std::is_same_v<From, float>) {
      f = v;
    } else {
      f = double_to_float_round_odd(static_cast<double>(v));
    }
    if constexpr (std::is_same_v<To, Float16>) {
      return Float16{float_to_half(f)};
    } else if constexpr (kTruncBf16) {
      return BFloat16{float_to_bf16_truncate(f)};
    } else {
      return BFloat16{float_to_bf16(f)};
    }
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    return float_to_int<To>(static_cast<double>(v));
  } else {
    return static_cast<To>(v);  // integer wrap, integer -> float rounding, float <-> double
  }
}

template <class From, class To, bool kTruncBf16>
void convert_loop(const void* in, void* out, int64_t n) {
  const From* x = static_cast<const From*>(in);
  To* y = static_cast<To*>(out);
  for (int64_t i = 0; i < n; ++i) y[i] = convert<To, From, kTruncBf16>(x[i]);
}

}  // namespace

ConvertFn convert_fn(DType from, DType to, bool bf16_truncate) {
  if (!dtype_in(AllTypes{}, from) || !dtype_in(AllTypes{}, to)) return nullptr;
  return dispatch_dtype(AllTypes{}, from, [&]<class F>(Tag<F>) -> ConvertFn {
    return dispatch_dtype(AllTypes{}, to, [&]<class T>(Tag<T>) -> ConvertFn {
      if constexpr (std::is_same_v<T, BFloat16>) {
        if (bf16_truncate) return &convert_loop<F, T, true>;
      }
      return &convert_loop<F, T, false>;
    });
  });
}

}  // namespace softdpu::kernels::ew

namespace softdpu::runtime {
namespace {

using namespace kernels::ew;

std::unique_ptr<Kernel> cast_to(PrepareContext& ctx, DType to) {
  const DType from = ctx.dtype(0);
  if (from == DType::kString || to == DType::kString) {
    ctx.unsupported(std::string("cast from ") + dtype_name(from) + " to " + dtype_name(to) +
                    ": string tensors are not supported");
  }
  // Opset 19 specified round-to-nearest-even for float -> bfloat16; the reference before it
  // truncated (onnx/onnx#3876) and the opset-13 backend test data expects that.
  ConvertFn fn = convert_fn(from, to, ctx.opset() < 19);
  if (!fn) {
    ctx.unsupported(std::string("cast from ") + dtype_name(from) + " to " + dtype_name(to) +
                    " is not supported");
  }
  const int64_t n = shape_numel(ctx.shape(0));
  ctx.set_output(0, to, ctx.shape(0));
  const size_t in_size = dtype_size(from), out_size = dtype_size(to);
  if (from == to) {
    return make_kernel([n, in_size](const KernelArgs& args) {
      std::memcpy(args.out[0], args.in[0], static_cast<size_t>(n) * in_size);
    });
  }
  return make_kernel([fn, n, in_size, out_size](const KernelArgs& args) {
    const auto* x = static_cast<const uint8_t*>(args.in[0]);
    auto* y = static_cast<uint8_t*>(args.out[0]);
    args.pool->parallel_for(n, kGrainCheap, [&](int64_t b, int64_t e) {
      fn(x + b * in_size, y + b * out_size, e - b);
    });
  });
}

}  // namespace

std::unique_ptr<Kernel> prepare_Cast(PrepareContext& ctx) {
  ctx.check(ctx.has_attr("to"), "attribute 'to' is required");
  const int64_t to = ctx.attr_int("to", 0);
  const DType t = static_cast<DType>(to);
  if (to != static_cast<int64_t>(DType::kString) && (to < 1 || to > 16 || !dtype_is_supported(t))) {
    // 17..23 are the float8 / 4-bit types of opset 19+.
    ctx.unsupported("attribute 'to' = " + std::to_string(to) +
                    " names an element type softdpu does not support");
  }
  return cast_to(ctx, t);
}

std::unique_ptr<Kernel> prepare_CastLike(PrepareContext& ctx) {
  return cast_to(ctx, ctx.dtype(1));
}

}  // namespace softdpu::runtime
