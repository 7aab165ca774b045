#include "formats/element.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace softdpu::formats {
namespace {

uint32_t f32_bits(float v) {
  uint32_t b;
  std::memcpy(&b, &v, 4);
  return b;
}

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// microxcaling's _round_mantissa in float32: sign(a) * (floor(|a| + 0.5) - tie_to_even_fix).
// The "even" fix subtracts 1 when |a| - 0.5 is an even integer (a tie whose floor(|a|+0.5) is
// odd). Both additions are float32 operations, as in PyTorch, so e.g. 0.49999997 rounds to 1.
// sign(-0) is +0 (torch.sign), and a negative value that rounds to zero gives -0.
float round_mantissa_f32(float a, Rounding r) {
  const float sgn = a > 0 ? 1.f : (a < 0 ? -1.f : 0.f);
  const float abs_a = std::fabs(a);
  float fl = std::floor(abs_a + 0.5f);
  if (r == Rounding::kEven) {
    // torch.remainder(d, 2) == 0 <=> d / 2 is an integer (d / 2 and floor are exact here).
    const float half = (abs_a - 0.5f) * 0.5f;
    if (std::floor(half) == half) fl = fl - 1.f;
  }
  return sgn * fl;
}

// OCP MX v1.0 table 2; max_norm and the INT8 scaling as microxcaling defines them.
const ElemSpec kSpecs[] = {
    {ElemKind::kNone, 0, 0, 0, 0, 0, 0.f, 0},    {ElemKind::kInt8, 0, 6, 0, 0, 0, 127.f / 64.f, 8},
    {ElemKind::kE4M3, 4, 3, 7, 8, -6, 448.f, 8}, {ElemKind::kE5M2, 5, 2, 15, 15, -14, 57344.f, 8},
    {ElemKind::kE3M2, 3, 2, 3, 4, -2, 28.f, 6},  {ElemKind::kE2M3, 2, 3, 1, 2, 0, 7.5f, 6},
    {ElemKind::kE2M1, 2, 1, 1, 2, 0, 6.f, 4},
};

}  // namespace

const ElemSpec& elem_spec(ElemKind kind) {
  return kSpecs[static_cast<int>(kind)];
}

double round_to_int(double v, Rounding r) {
  if (r == Rounding::kNearest) return std::round(v);  // half away from zero
  return std::nearbyint(v);                           // default FP environment: ties to even
}

int floor_log2(float v) {
  int e = 0;
  std::frexp(std::fabs(v), &e);  // |v| = f * 2^e, f in [0.5, 1)
  return e - 1;
}

float quantize_elem(float v, const ElemSpec& s, Rounding r) {
  if (std::isnan(v) || std::isinf(v)) return v;
  const float k = std::ldexp(1.f, s.mbits);  // microxcaling's 2^(bits - 2)
  float out;
  if (s.ebits == 0) {
    out = v * k;
    out = round_mantissa_f32(out, r);
    out = out / k;
  } else {
    // floor(log2|v|) is exact here; microxcaling's float32 log2 can round up to the next
    // integer just below a power of two, but both exponents then round to the same value.
    const int pe = std::max(v == 0.f ? 0 : floor_log2(v), s.min_exp);
    const float p = std::ldexp(1.f, pe);
    out = v / p * k;
    out = round_mantissa_f32(out, r);
    out = out / k * p;
  }
  return std::clamp(out, -s.max_norm, s.max_norm);
}

uint8_t encode_elem(float v, const ElemSpec& s) {
  if (s.ebits == 0) {
    if (std::isnan(v)) return 0;
    const double q = std::clamp(std::round(double(v) * 64.0), -127.0, 127.0);
    return static_cast<uint8_t>(static_cast<int8_t>(q));
  }
  const uint8_t sign = std::signbit(v) ? uint8_t(1u << (s.code_bits - 1)) : 0;
  const uint8_t max_code = uint8_t((1u << (s.code_bits - 1)) - 1) - (s.kind == ElemKind::kE4M3);
  const uint8_t e5m2_max = 0x7B;  // 57344: exponent 30, mantissa 3
  if (std::isnan(v)) {
    if (s.kind == ElemKind::kE4M3) return sign | 0x7F;
    if (s.kind == ElemKind::kE5M2) return sign | 0x7F;
    return sign | max_code;
  }
  if (std::isinf(v) && s.kind == ElemKind::kE5M2) return sign | 0x7C;
  const double a = std::fabs(double(v));
  if (a == 0) return sign;
  if (a >= s.max_norm) return sign | (s.kind == ElemKind::kE5M2 ? e5m2_max : max_code);
  const double min_normal = std::ldexp(1.0, s.min_exp);
  if (a < min_normal) {
    const double m = std::round(a / std::ldexp(1.0, s.min_exp - s.mbits));
    return sign | static_cast<uint8_t>(m);  // m == 2^mbits lands on the first normal: still right
  }
  int e = 0;
  std::frexp(a, &e);
  e -= 1;
  const double m = std::round(a / std::ldexp(1.0, e - s.mbits)) - std::ldexp(1.0, s.mbits);
  return sign | static_cast<uint8_t>(((e + s.bias) << s.mbits) + int(m));
}

float decode_elem(uint8_t code, const ElemSpec& s) {
  if (s.ebits == 0) return float(static_cast<int8_t>(code)) / 64.f;
  code &= uint8_t((1u << s.code_bits) - 1);
  const bool neg = code >> (s.code_bits - 1);
  const int mag = code & ((1 << (s.code_bits - 1)) - 1);
  const int field = mag >> s.mbits;
  const int m = mag & ((1 << s.mbits) - 1);
  float v;
  if (s.kind == ElemKind::kE4M3 && mag == 0x7F) {
    v = kNaN;
  } else if (s.kind == ElemKind::kE5M2 && field == 31) {
    v = m == 0 ? kInf : kNaN;
  } else if (field == 0) {
    v = std::ldexp(float(m), s.min_exp - s.mbits);
  } else {
    v = std::ldexp(float((1 << s.mbits) + m), field - s.bias - s.mbits);
  }
  return neg ? -v : v;
}

uint16_t float_to_bf16(float v, Rounding r) {
  const uint32_t b = f32_bits(v);
  if (std::isnan(v)) return uint16_t((b >> 16) | 0x0040);
  const uint32_t sign = b & 0x80000000u, mag = b & 0x7FFFFFFFu;
  if (mag == 0x7F800000u) return uint16_t(b >> 16);
  uint32_t rounded = r == Rounding::kEven ? mag + 0x7FFFu + ((mag >> 16) & 1u) : mag + 0x8000u;
  rounded >>= 16;
  if (rounded >= 0x7F80u) rounded = 0x7F7Fu;  // saturate: finite stays finite
  return uint16_t((sign >> 16) | rounded);
}

float bf16_to_float(uint16_t h) {
  const uint32_t b = uint32_t(h) << 16;
  float v;
  std::memcpy(&v, &b, 4);
  return v;
}

uint16_t float_to_fp16(float v, Rounding r) {
  const uint16_t sign = std::signbit(v) ? 0x8000 : 0;
  if (std::isnan(v)) return sign | 0x7E00;
  if (std::isinf(v)) return sign | 0x7C00;
  const double a = std::fabs(double(v));
  if (a == 0) return sign;
  const int e = floor_log2(v);
  if (e < -14) {  // subnormal: multiples of 2^-24 (q == 1024 is the smallest normal, same bits)
    return sign | static_cast<uint16_t>(round_to_int(a * std::ldexp(1.0, 24), r));
  }
  double q = round_to_int(a * std::ldexp(1.0, 10 - e), r);  // in [1024, 2048]
  int field = e + 15;
  if (q >= 2048) {
    q /= 2;
    ++field;
  }
  if (field > 30) return sign | 0x7BFF;  // saturate at 65504
  return sign | static_cast<uint16_t>((field << 10) | (int(q) - 1024));
}

float fp16_to_float(uint16_t h) {
  const bool neg = h & 0x8000;
  const int field = (h >> 10) & 0x1F, m = h & 0x3FF;
  float v;
  if (field == 31) {
    v = m ? kNaN : kInf;
  } else if (field == 0) {
    v = std::ldexp(float(m), -24);
  } else {
    v = std::ldexp(float(1024 + m), field - 25);
  }
  return neg ? -v : v;
}

}  // namespace softdpu::formats
