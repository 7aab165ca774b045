// Element types for the elementwise family: the 16-bit float carriers, the "compute type" each
// storage type is evaluated in, and the DType -> C++ type dispatch used by every prepare_<Op>.
//
// float16 and bfloat16 have no C++ arithmetic here; kernels load them into float, compute, and
// round back once (correctly rounded for + - * / sqrt, since float has more than 2p+2 bits).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "runtime/kernel.h"
#include "softdpu/dtype.h"

#define SOFTDPU_EW_INLINE inline __attribute__((always_inline))

namespace softdpu::kernels::ew {

struct Float16 {
  uint16_t bits;
};
struct BFloat16 {
  uint16_t bits;
};

// --- 16-bit float conversions (bit exact, no hardware F16C needed).

SOFTDPU_EW_INLINE float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t em = h & 0x7fffu;
  if (em >= 0x7c00u) return std::bit_cast<float>(sign | 0x7f800000u | ((em & 0x3ffu) << 13));
  if (em >= 0x0400u) return std::bit_cast<float>(sign | ((em << 13) + 0x38000000u));
  // Subnormal half: em * 2^-24 is exact in float.
  float v = static_cast<float>(em) * 5.9604644775390625e-08f;
  return sign ? -v : v;
}

// Round to nearest even; NaN stays a (quiet) NaN, overflow gives infinity.
SOFTDPU_EW_INLINE uint16_t float_to_half(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return sign | 0x7e00u | ((ax >> 13) & 0x3ffu);
  if (ax >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520 rounds to infinity
  if (ax < 0x38800000u) {
    // Below the smallest normal half: scale by 2^24 (exact) and round to an integer with the
    // 2^23 trick, which rounds to nearest even; a carry into 0x400 is the smallest normal.
    float v = std::bit_cast<float>(ax) * 16777216.f;
    uint32_t m = std::bit_cast<uint32_t>(v + 8388608.f) - 0x4b000000u;
    return static_cast<uint16_t>(sign | m);
  }
  uint32_t r = ax - 0x38000000u;  // rebias exponent 127 -> 15
  r += 0x0fffu + ((r >> 13) & 1u);
  return static_cast<uint16_t>(sign | (r >> 13));
}

SOFTDPU_EW_INLINE float bf16_to_float(uint16_t b) {
  return std::bit_cast<float>(static_cast<uint32_t>(b) << 16);
}

SOFTDPU_EW_INLINE uint16_t float_to_bf16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

// Truncation, as the ONNX reference (and its backend test data) did for Cast before opset 19.
SOFTDPU_EW_INLINE uint16_t float_to_bf16_truncate(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>(x >> 16);
}

// double -> float rounded to odd: converting that float on to half/bfloat16 with round-to-nearest
// then gives the correctly rounded result of the double (no double-rounding error).
SOFTDPU_EW_INLINE float double_to_float_round_odd(double d) {
  float f = static_cast<float>(d);
  if (static_cast<double>(f) == d || d != d) return f;
  uint32_t bits = std::bit_cast<uint32_t>(f);
  if (static_cast<double>(f < 0 ? -f : f) > (d < 0 ? -d : d)) bits -= 1;  // toward zero
  return std::bit_cast<float>(bits | 1u);
}

// --- float -> integer with the results x86 gives for C casts (cvttss2si), without the C++ UB:
// NaN and out-of-range values become the "integer indefinite" value and then wrap. ONNX leaves
// these cases undefined; this matches what ONNX Runtime and numpy produce on x86.
SOFTDPU_EW_INLINE int64_t cvtt_i64(double v) {
  if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0)) return INT64_MIN;
  return static_cast<int64_t>(v);
}
SOFTDPU_EW_INLINE int32_t cvtt_i32(double v) {
  if (!(v > -2147483649.0 && v < 2147483648.0)) return INT32_MIN;
  return static_cast<int32_t>(v);
}
template <class To>
SOFTDPU_EW_INLINE To float_to_int(double v) {
  static_assert(std::is_integral_v<To>);
  if constexpr (std::is_same_v<To, bool>) {
    return v != 0;
  } else if constexpr (std::is_same_v<To, uint64_t>) {
    if (v >= 9223372036854775808.0 && v < 18446744073709551616.0)
      return static_cast<uint64_t>(cvtt_i64(v - 9223372036854775808.0)) ^ (uint64_t{1} << 63);
    return static_cast<uint64_t>(cvtt_i64(v));
  } else if constexpr (sizeof(To) == 8 || std::is_same_v<To, uint32_t>) {
    return static_cast<To>(cvtt_i64(v));
  } else {
    return static_cast<To>(cvtt_i32(v));
  }
}

// --- compute types: what an element is loaded as before an op's functor sees it.

template <class T>
struct ComputeOf {
  using type = T;
};
template <>
struct ComputeOf<Float16> {
  using type = float;
};
template <>
struct ComputeOf<BFloat16> {
  using type = float;
};
template <class T>
using compute_t = typename ComputeOf<T>::type;

template <class T>
inline constexpr bool is_half_v = std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;
// Floating-point compute (float, double, and the 16-bit floats computed in float).
template <class T>
inline constexpr bool is_float_like_v = std::is_floating_point_v<T> || is_half_v<T>;

template <class T>
SOFTDPU_EW_INLINE compute_t<T> load(T v) {
  if constexpr (std::is_same_v<T, Float16>) {
    return half_to_float(v.bits);
  } else if constexpr (std::is_same_v<T, BFloat16>) {
    return bf16_to_float(v.bits);
  } else {
    return v;
  }
}

// Stores a value computed in T's compute type (or bool for predicates).
template <class T, class C>
SOFTDPU_EW_INLINE T store(C v) {
  if constexpr (std::is_same_v<T, Float16>) {
    return Float16{float_to_half(static_cast<float>(v))};
  } else if constexpr (std::is_same_v<T, BFloat16>) {
    return BFloat16{float_to_bf16(static_cast<float>(v))};
  } else {
    return static_cast<T>(v);
  }
}

// --- type lists and DType dispatch

template <class... Ts>
struct TypeList {};

template <class... A, class... B>
TypeList<A..., B...> operator+(TypeList<A...>, TypeList<B...>);
template <class L1, class L2>
using concat_t = decltype(L1{} + L2{});

using HalfTypes = TypeList<Float16, BFloat16>;
using FloatTypes = TypeList<float, double, Float16, BFloat16>;
using SignedIntTypes = TypeList<int8_t, int16_t, int32_t, int64_t>;
using UnsignedIntTypes = TypeList<uint8_t, uint16_t, uint32_t, uint64_t>;
using IntTypes = concat_t<SignedIntTypes, UnsignedIntTypes>;
using NumericTypes = concat_t<FloatTypes, IntTypes>;
using SignedNumericTypes = concat_t<FloatTypes, SignedIntTypes>;
using AllTypes = concat_t<NumericTypes, TypeList<bool>>;

template <class T>
struct Tag {
  using type = T;
};

}  // namespace softdpu::kernels::ew

namespace softdpu {
template <>
struct DTypeOf<kernels::ew::Float16> {
  static constexpr DType value = DType::kFloat16;
};
template <>
struct DTypeOf<kernels::ew::BFloat16> {
  static constexpr DType value = DType::kBFloat16;
};
}  // namespace softdpu

namespace softdpu::kernels::ew {

template <class T>
inline constexpr DType dtype_of = DTypeOf<T>::value;

namespace detail {
template <class F, class T, class... Rest>
decltype(auto) dispatch_impl(DType dt, F& f, TypeList<T, Rest...>) {
  if constexpr (sizeof...(Rest) == 0) {
    return f(Tag<T>{});
  } else {
    if (dt == dtype_of<T>) return f(Tag<T>{});
    return dispatch_impl(dt, f, TypeList<Rest...>{});
  }
}
}  // namespace detail

// Checks that input `input` has one of the dtypes of List (throwing ctx.expect_dtype's precise
// message when not) and calls f(Tag<T>{}) for its C++ type T.
template <class... Ts, class F>
decltype(auto) dispatch(TypeList<Ts...> list, const runtime::PrepareContext& ctx, int input,
                        F&& f) {
  ctx.expect_dtype(input, {dtype_of<Ts>...});
  return detail::dispatch_impl(ctx.dtype(input), f, list);
}

// The same on a bare dtype (for outputs chosen by attributes); the caller has validated dt.
template <class... Ts, class F>
decltype(auto) dispatch_dtype(TypeList<Ts...> list, DType dt, F&& f) {
  return detail::dispatch_impl(dt, f, list);
}

template <class... Ts>
bool dtype_in(TypeList<Ts...>, DType dt) {
  return ((dt == dtype_of<Ts>) || ...);
}

// Fails unless input i has the same dtype as input ref (ONNX type constraint 'T' shared).
inline void expect_same_dtype(const runtime::PrepareContext& ctx, int i, int ref) {
  if (ctx.dtype(i) == ctx.dtype(ref)) return;
  ctx.fail("input " + std::to_string(i) + " ('" + ctx.input(i).name + "') has type " +
           dtype_name(ctx.dtype(i)) + ", expected " + dtype_name(ctx.dtype(ref)) + " like input " +
           std::to_string(ref) + " ('" + ctx.input(ref).name + "')");
}

// Element-parallel grain sizes: cheap ops are memory bound and only worth splitting when large;
// transcendental ones cost ~10-30 cycles an element.
inline constexpr int64_t kGrainCheap = int64_t{1} << 15;
inline constexpr int64_t kGrainHeavy = int64_t{1} << 12;

}  // namespace softdpu::kernels::ew
