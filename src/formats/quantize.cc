#include "formats/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "formats/element.h"

namespace softdpu::formats {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Max |x| over n values; false when one of them is NaN or +-Inf.
bool finite_max_abs(const float* x, int64_t n, float* max_abs) {
  float m = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) return false;
    m = std::max(m, std::fabs(x[i]));
  }
  *max_abs = m;
  return true;
}

// floor(log2(m)) the way torch.floor(torch.log2(m)) computes it on a float32 tensor: log2 is
// rounded to float32 first, so m just below 2^k (k not 0) can give k. The double log2 rounded to
// float is what a correctly rounded float32 log2 returns.
int floor_log2_f32(float m) {
  return static_cast<int>(std::floor(float(std::log2(double(m)))));
}

}  // namespace

float e8m0_to_float(uint8_t e) {
  if (e == kScaleNaN) return kNaN;
  return std::ldexp(1.f, int(e) - 127);
}

void mx_quantize_block(const float* x, int n, ElemKind elem, Rounding r, uint8_t* e8m0, float* q) {
  const ElemSpec& s = elem_spec(elem);
  float max_abs = 0;
  if (!finite_max_abs(x, n, &max_abs)) {
    *e8m0 = kScaleNaN;
    std::fill(q, q + kMxBlock, kNaN);
    return;
  }
  // microxcaling: log2(max + FP32_MIN_NORMAL * (max == 0)), then - emax, then >= -127.
  const float m = max_abs == 0 ? std::ldexp(1.f, -126) : max_abs;
  const int shared = std::max(floor_log2_f32(m) - s.emax, -127);  // <= 127 for any finite float
  *e8m0 = static_cast<uint8_t>(shared + 127);
  const float p = std::ldexp(1.f, shared);
  for (int i = 0; i < kMxBlock; ++i) q[i] = quantize_elem(i < n ? x[i] / p : 0.f, s, r);
}

void bfp_quantize_block(const float* x, int n, const WeightFormat& f, Rounding r, uint8_t* exp_byte,
                        int8_t* q) {
  float max_abs = 0;
  if (!finite_max_abs(x, n, &max_abs)) {
    *exp_byte = kScaleNaN;
    std::fill(q, q + f.block, int8_t{0});
    return;
  }
  const int emax = (1 << (f.exponent_bits - 1)) - 1;
  const int e = max_abs == 0 ? -emax : std::clamp(floor_log2(max_abs), -emax, emax);
  const int qmax = (1 << f.mantissa_bits) - 1;
  // x / step in double is exact (a power-of-two scaling well inside double's range).
  const double inv_step = std::ldexp(1.0, f.mantissa_bits - 1 - e);
  for (int i = 0; i < f.block; ++i) {
    const double v = i < n ? double(x[i]) * inv_step : 0.0;
    q[i] = static_cast<int8_t>(std::clamp(round_to_int(v, r), double(-qmax), double(qmax)));
  }
  *exp_byte = static_cast<uint8_t>(e + 127);
}

float bfp_step(uint8_t exp_byte, int mantissa_bits) {
  if (exp_byte == kScaleNaN) return kNaN;
  return std::ldexp(1.f, int(exp_byte) - 127 - mantissa_bits + 1);
}

float int8_row_scale(const float* row, int64_t k) {
  float max_abs = 0;
  if (!finite_max_abs(row, k, &max_abs)) return kNaN;
  return max_abs / 127.f;
}

int8_t int8_quantize(float v, float scale, Rounding r) {
  if (!(scale > 0)) return 0;  // zero row, or NaN scale (the decoded value is NaN anyway)
  return static_cast<int8_t>(std::clamp(round_to_int(double(v) / double(scale), r), -127.0, 127.0));
}

void quantize_dequantize(const float* in, int64_t rows, int64_t cols, const WeightFormat& f,
                         Rounding r, float* out) {
  for (int64_t i = 0; i < rows; ++i) {
    const float* x = in + i * cols;
    float* y = out + i * cols;
    switch (f.family()) {
      case Family::kFloat:
        for (int64_t j = 0; j < cols; ++j) {
          if (f.id == FormatId::kBf16) {
            y[j] = bf16_to_float(float_to_bf16(x[j], r));
          } else if (f.id == FormatId::kFp16) {
            y[j] = fp16_to_float(float_to_fp16(x[j], r));
          } else {
            y[j] = x[j];
          }
        }
        break;
      case Family::kInt8Channel: {
        const float scale = int8_row_scale(x, cols);
        for (int64_t j = 0; j < cols; ++j)
          y[j] = std::isnan(scale) ? kNaN : float(int8_quantize(x[j], scale, r)) * scale;
        break;
      }
      case Family::kMx: {
        const ElemKind elem = traits(f.id).elem;
        float q[kMxBlock];
        for (int64_t j0 = 0; j0 < cols; j0 += kMxBlock) {
          const int n = static_cast<int>(std::min<int64_t>(kMxBlock, cols - j0));
          uint8_t e = 0;
          mx_quantize_block(x + j0, n, elem, r, &e, q);
          const float p = e8m0_to_float(e);
          // q * 2^shared as microxcaling computes it (keeps the -0 of small negatives).
          for (int j = 0; j < n; ++j) y[j0 + j] = q[j] * p;
        }
        break;
      }
      case Family::kBfp: {
        int8_t q[kBfpMaxBlock];
        for (int64_t j0 = 0; j0 < cols; j0 += f.block) {
          const int n = static_cast<int>(std::min<int64_t>(f.block, cols - j0));
          uint8_t e = 0;
          bfp_quantize_block(x + j0, n, f, r, &e, q);
          const float step = bfp_step(e, f.mantissa_bits);
          for (int j = 0; j < n; ++j) y[j0 + j] = float(q[j]) * step;
        }
        break;
      }
    }
  }
}

}  // namespace softdpu::formats
