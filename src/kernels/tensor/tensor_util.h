// Helpers shared by the tensor-family kernels: element types for arithmetic (including the 16-bit
// floats, which have no C++ type), a dtype -> C++ type dispatcher, plan-time reading of constant
// inputs, and small shape utilities.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime/kernel.h"

namespace softdpu::kernels::tensor {

using runtime::PrepareContext;

// --- 16-bit floats: stored as bits, computed in float. The implicit conversions let generic
// kernels write `T(a + b)` for every T.
inline float half_bits_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    const float f = std::ldexp(static_cast<float>(mant), -24);  // zero or subnormal
    return sign ? -f : f;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

inline uint16_t float_to_half_bits(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t a = x & 0x7fffffffu;
  if (a > 0x7f800000u) return sign | 0x7e00u;   // NaN stays NaN
  if (a >= 0x477ff000u) return sign | 0x7c00u;  // rounds past 65504: infinity
  if (a < 0x38800000u) {                        // below 2^-14: subnormal half, round to even
    const float scaled = std::bit_cast<float>(a) * 16777216.0f;  // units of 2^-24
    return sign | static_cast<uint16_t>(std::nearbyint(scaled));
  }
  const uint32_t r = a - 0x38000000u;  // rebias the exponent from 127 to 15
  return sign | static_cast<uint16_t>((r + 0xfffu + ((r >> 13) & 1u)) >> 13);
}

struct Float16 {
  uint16_t bits = 0;
  Float16() = default;
  Float16(float f) : bits(float_to_half_bits(f)) {}  // NOLINT: implicit by design
  operator float() const { return half_bits_to_float(bits); }
};

struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  BFloat16(float f) {  // NOLINT: implicit by design
    const uint32_t x = std::bit_cast<uint32_t>(f);
    bits = (x & 0x7fffffffu) > 0x7f800000u
               ? static_cast<uint16_t>((x >> 16) | 0x40u)
               : static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
  }
  operator float() const { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }
};

static_assert(sizeof(Float16) == 2 && sizeof(BFloat16) == 2);

template <typename T>
inline constexpr bool kIsHalf = std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;
template <typename T>
inline constexpr bool kIsFloat = kIsHalf<T> || std::is_floating_point_v<T>;

// The type arithmetic on T is carried out in: float for the 16-bit floats, T otherwise.
template <typename T>
using Acc = std::conditional_t<kIsHalf<T>, float, T>;

// Converts a computed value to T; integers round to nearest and saturate, since a float result
// (Resize, windows) must land on the closest representable integer, not wrap.
template <typename T>
T from_double(double v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v != 0;
  } else if constexpr (std::is_integral_v<T>) {
    if (std::isnan(v)) return T(0);
    v = std::nearbyint(v);
    if (v <= static_cast<double>(std::numeric_limits<T>::min()))
      return std::numeric_limits<T>::min();
    if (v >= static_cast<double>(std::numeric_limits<T>::max()))
      return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  } else {
    return T(static_cast<Acc<T>>(v));
  }
}

template <typename T>
double to_double(T v) {
  if constexpr (kIsHalf<T>) {
    return static_cast<float>(v);
  } else {
    return static_cast<double>(v);
  }
}

// Calls fn(T{}) with the C++ type of dtype t. Fails (kUnsupported) for string/undefined types.
template <typename Fn>
decltype(auto) dispatch_dtype(const PrepareContext& ctx, DType t, Fn&& fn) {
  switch (t) {
    case DType::kFloat32: return fn(float{});
    case DType::kFloat64: return fn(double{});
    case DType::kFloat16: return fn(Float16{});
    case DType::kBFloat16: return fn(BFloat16{});
    case DType::kInt8: return fn(int8_t{});
    case DType::kInt16: return fn(int16_t{});
    case DType::kInt32: return fn(int32_t{});
    case DType::kInt64: return fn(int64_t{});
    case DType::kUInt8: return fn(uint8_t{});
    case DType::kUInt16: return fn(uint16_t{});
    case DType::kUInt32: return fn(uint32_t{});
    case DType::kUInt64: return fn(uint64_t{});
    case DType::kBool: return fn(bool{});
    default: break;
  }
  ctx.unsupported(std::string("element type ") + dtype_name(t) + " is not supported");
}

// Numeric types only (no bool): for ops that add, multiply or order values.
template <typename Fn>
decltype(auto) dispatch_numeric(const PrepareContext& ctx, DType t, Fn&& fn) {
  if (t == DType::kBool) ctx.unsupported("element type bool is not supported by this op");
  return dispatch_dtype(ctx, t, std::forward<Fn>(fn));
}

// --- shapes

inline std::vector<int64_t> contiguous_strides(const Shape& s) {
  std::vector<int64_t> st(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

inline int64_t prod(const Shape& s, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end && i < s.size(); ++i) n *= s[i];
  return n;
}

// Kernels that walk an index space with a fixed-size odometer (no allocation in run) cap the rank.
constexpr size_t kMaxRank = 32;
inline void expect_rank_at_most(const PrepareContext& ctx, int i, size_t max_rank = kMaxRank) {
  if (ctx.shape(i).size() > max_rank) {
    ctx.unsupported("input " + std::to_string(i) + " has rank " +
                    std::to_string(ctx.shape(i).size()) + ", more than the " +
                    std::to_string(max_rank) + " this op supports");
  }
}

// Copies one contiguous group of `bytes` bytes; the common element sizes become one load/store
// instead of a memcpy call (gathers move single elements in their inner loop).
inline void copy_bytes(void* dst, const void* src, size_t bytes) {
  switch (bytes) {
    case 4: std::memcpy(dst, src, 4); return;
    case 8: std::memcpy(dst, src, 8); return;
    case 2: std::memcpy(dst, src, 2); return;
    case 1: std::memcpy(dst, src, 1); return;
    default: std::memcpy(dst, src, bytes);
  }
}

// Normalises a run-time index against dim. Out-of-range values are clamped: run() cannot report
// them, and clamping keeps a malformed request from reading outside the tensor.
inline int64_t clamp_index(int64_t v, int64_t dim) {
  if (v < 0) v += dim;
  return v < 0 ? 0 : (v >= dim ? dim - 1 : v);
}

inline std::string ints_to_string(const std::vector<int64_t>& v) {
  return shape_to_string(v);
}

// Fails unless input i (when present) is a plain data tensor softdpu can move (not a string).
inline void expect_data(const PrepareContext& ctx, int i) {
  if (!dtype_is_supported(ctx.dtype(i))) {
    ctx.unsupported("input " + std::to_string(i) + " ('" + ctx.input(i).name + "') has type " +
                    dtype_name(ctx.dtype(i)) + ", which softdpu tensors cannot hold");
  }
}

inline void expect_index_type(const PrepareContext& ctx, int i) {
  ctx.expect_dtype(i, {DType::kInt64, DType::kInt32});
}

// Reads element i of an int32/int64 index buffer.
inline int64_t load_index(const void* p, bool is64, int64_t i) {
  return is64 ? static_cast<const int64_t*>(p)[i] : static_cast<const int32_t*>(p)[i];
}

// The single value of a constant integer input (must hold exactly one element).
int64_t constant_scalar_int(const PrepareContext& ctx, int i);
// The single value of a constant numeric input of any type, as double.
double constant_scalar_double(const PrepareContext& ctx, int i);
// All values of a constant numeric input of any type, as double.
std::vector<double> constant_doubles(const PrepareContext& ctx, int i);

// Normalises a list of axes against rank: each in [-rank, rank), no repeats (fails naming `what`).
std::vector<int64_t> normalize_axes(const PrepareContext& ctx, std::vector<int64_t> axes,
                                    int64_t rank, const std::string& what);

// The bytes of `v` converted to dtype t (fill values: Pad's constant, Resize's extrapolation).
std::vector<uint8_t> scalar_bytes(const PrepareContext& ctx, DType t, double v);

// A plain copy of n bytes, split across the pool when large enough to pay for it.
void parallel_memcpy(void* dst, const void* src, size_t n, ThreadPool* pool);

// A kernel that copies input 0 to output 0 unchanged (Reshape, Flatten, Squeeze, Unsqueeze).
std::unique_ptr<runtime::Kernel> make_copy_kernel(size_t bytes);

}  // namespace softdpu::kernels::tensor
