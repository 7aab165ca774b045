// AVX2 and AVX-512 versions of the float32 row kernels. Every kernel is written once as a template
// over the register helpers of simd.h and instantiated inside a function carrying that ISA's
// target attribute (SOFTDPU_DEFINE_ROW_KERNELS at the bottom); `flatten` pulls the whole template
// and its helpers into that function, so no baseline-target code runs on the fast path.
//
// Tails use masked loads and stores, so rows shorter than one register still take the vector path.
#include <cmath>
#include <limits>

#include "kernels/reduce/row_kernels.h"
#include "kernels/reduce/simd.h"

namespace softdpu::kernels {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// A full register when w == kWidth, else the first w lanes and `fill` elsewhere.
template <class S>
inline typename S::V load_n(const float* p, int64_t w, float fill) {
  return w == S::kWidth ? S::load(p) : S::load_tail(p, w, fill);
}

template <class S>
inline void store_n(float* p, const typename S::V& v, int64_t w) {
  if (w == S::kWidth) {
    S::store(p, v);
  } else {
    S::store_tail(p, v, w);
  }
}

template <class S>
inline float t_max(const float* x, int64_t n) {
  constexpr int W = S::kWidth;
  typename S::V m0 = S::set1(-kInf), m1 = m0;
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    m0 = S::max(m0, S::load(x + i));
    m1 = S::max(m1, S::load(x + i + W));
  }
  for (; i + W <= n; i += W) m0 = S::max(m0, S::load(x + i));
  if (i < n) m1 = S::max(m1, S::load_tail(x + i, n - i, -kInf));
  return S::hmax(S::max(m0, m1));
}

template <class S>
inline float t_min(const float* x, int64_t n) {
  constexpr int W = S::kWidth;
  typename S::V m0 = S::set1(kInf), m1 = m0;
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    m0 = S::min(m0, S::load(x + i));
    m1 = S::min(m1, S::load(x + i + W));
  }
  for (; i + W <= n; i += W) m0 = S::min(m0, S::load(x + i));
  if (i < n) m1 = S::min(m1, S::load_tail(x + i, n - i, kInf));
  return S::hmin(S::min(m0, m1));
}

enum class Map { kIdentity, kAbs, kSquare };

// acc + map(v), with the square fused into one FMA.
template <class S, Map M>
inline typename S::V accumulate(const typename S::V& acc, const typename S::V& v) {
  if constexpr (M == Map::kAbs) return S::add(acc, S::abs(v));
  if constexpr (M == Map::kSquare) return S::fmadd(v, v, acc);
  return S::add(acc, v);
}

// Four accumulators: hides the add latency and keeps rounding error growth low on long rows.
template <class S, Map M>
inline float t_sum(const float* x, int64_t n) {
  constexpr int W = S::kWidth;
  typename S::V a0 = S::zero(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    a0 = accumulate<S, M>(a0, S::load(x + i));
    a1 = accumulate<S, M>(a1, S::load(x + i + W));
    a2 = accumulate<S, M>(a2, S::load(x + i + 2 * W));
    a3 = accumulate<S, M>(a3, S::load(x + i + 3 * W));
  }
  for (; i + W <= n; i += W) a0 = accumulate<S, M>(a0, S::load(x + i));
  if (i < n) a1 = accumulate<S, M>(a1, S::load_tail(x + i, n - i, 0.0f));
  return S::hsum(S::add(S::add(a0, a1), S::add(a2, a3)));
}

template <class S>
inline float t_sum_exp(const float* x, int64_t n, float shift) {
  constexpr int W = S::kWidth;
  const typename S::V c = S::set1(shift);
  typename S::V s0 = S::zero(), s1 = s0;
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    s0 = S::add(s0, S::exp(S::sub(S::load(x + i), c)));
    s1 = S::add(s1, S::exp(S::sub(S::load(x + i + W), c)));
  }
  for (; i + W <= n; i += W) s0 = S::add(s0, S::exp(S::sub(S::load(x + i), c)));
  // Padding lanes hold -inf, whose exp is 0.
  if (i < n) s1 = S::add(s1, S::exp(S::sub(S::load_tail(x + i, n - i, -kInf), c)));
  return S::hsum(S::add(s0, s1));
}

template <class S>
inline void t_mean_var(const float* x, int64_t n, float* mean, float* var) {
  constexpr int W = S::kWidth;
  const float m = t_sum<S, Map::kIdentity>(x, n) / static_cast<float>(n);
  const typename S::V vm = S::set1(m);
  typename S::V a0 = S::zero(), a1 = a0;
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    const typename S::V d0 = S::sub(S::load(x + i), vm);
    const typename S::V d1 = S::sub(S::load(x + i + W), vm);
    a0 = S::fmadd(d0, d0, a0);
    a1 = S::fmadd(d1, d1, a1);
  }
  for (; i + W <= n; i += W) {
    const typename S::V d = S::sub(S::load(x + i), vm);
    a0 = S::fmadd(d, d, a0);
  }
  if (i < n) {
    const typename S::V d = S::sub(S::load_tail(x + i, n - i, m), vm);  // padding: d = 0
    a1 = S::fmadd(d, d, a1);
  }
  *mean = m;
  *var = S::hsum(S::add(a0, a1)) / static_cast<float>(n);
}

template <class S>
inline void t_scale_shift(const float* x, float* y, int64_t n, float a, float b) {
  constexpr int W = S::kWidth;
  const typename S::V va = S::set1(a), vb = S::set1(b);
  int64_t i = 0;
  for (; i + W <= n; i += W) S::store(y + i, S::fmadd(S::load(x + i), va, vb));
  if (i < n) S::store_tail(y + i, S::fmadd(S::load_tail(x + i, n - i, 0.0f), va, vb), n - i);
}

template <class S>
inline void t_normalize(const float* x, float* y, int64_t n, float mean, float inv_std,
                        const float* gamma, const float* beta) {
  constexpr int W = S::kWidth;
  const typename S::V vm = S::set1(mean), vi = S::set1(inv_std);
  for (int64_t i = 0; i < n; i += W) {
    const int64_t w = n - i < W ? n - i : W;
    const typename S::V t = S::mul(S::sub(load_n<S>(x + i, w, 0.0f), vm), vi);
    const typename S::V g = load_n<S>(gamma + i, w, 0.0f);
    store_n<S>(y + i, beta ? S::fmadd(t, g, load_n<S>(beta + i, w, 0.0f)) : S::mul(t, g), w);
  }
}

template <class S>
inline void t_softmax(const float* x, float* y, int64_t n) {
  constexpr int W = S::kWidth;
  const typename S::V m = S::set1(t_max<S>(x, n));
  typename S::V s0 = S::zero(), s1 = s0;
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    const typename S::V e0 = S::exp(S::sub(S::load(x + i), m));
    const typename S::V e1 = S::exp(S::sub(S::load(x + i + W), m));
    S::store(y + i, e0);
    S::store(y + i + W, e1);
    s0 = S::add(s0, e0);
    s1 = S::add(s1, e1);
  }
  for (; i + W <= n; i += W) {
    const typename S::V e = S::exp(S::sub(S::load(x + i), m));
    S::store(y + i, e);
    s0 = S::add(s0, e);
  }
  if (i < n) {
    const typename S::V e = S::exp(S::sub(S::load_tail(x + i, n - i, -kInf), m));
    S::store_tail(y + i, e, n - i);
    s1 = S::add(s1, e);
  }
  const typename S::V inv = S::set1(1.0f / S::hsum(S::add(s0, s1)));
  for (i = 0; i + W <= n; i += W) S::store(y + i, S::mul(S::load(y + i), inv));
  if (i < n) S::store_tail(y + i, S::mul(S::load_tail(y + i, n - i, 0.0f), inv), n - i);
}

template <class S>
inline void t_log_softmax(const float* x, float* y, int64_t n) {
  constexpr int W = S::kWidth;
  const float m = t_max<S>(x, n);
  // (x - m) - log(sum), not x - (m + log(sum)): m + log(sum) would be rounded at the magnitude of
  // m, losing digits when |m| is large and the result small.
  const typename S::V vm = S::set1(m), vl = S::set1(std::log(t_sum_exp<S>(x, n, m)));
  int64_t i = 0;
  for (; i + W <= n; i += W) S::store(y + i, S::sub(S::sub(S::load(x + i), vm), vl));
  if (i < n) {
    S::store_tail(y + i, S::sub(S::sub(S::load_tail(x + i, n - i, 0.0f), vm), vl), n - i);
  }
}

// One register of adjacent positions walks down the axis; padding lanes of a partial register
// compute garbage (NaN) that is never stored.
template <class S, bool kLog>
inline void t_softmax_strided(const float* x, float* y, int64_t n, int64_t stride, int64_t count) {
  constexpr int W = S::kWidth;
  for (int64_t k = 0; k < count; k += W) {
    const int64_t w = count - k < W ? count - k : W;
    const float* xk = x + k;
    float* yk = y + k;
    typename S::V m = S::set1(-kInf);
    for (int64_t j = 0; j < n; ++j) m = S::max(m, load_n<S>(xk + j * stride, w, -kInf));
    typename S::V s = S::zero();
    for (int64_t j = 0; j < n; ++j) {
      const typename S::V e = S::exp(S::sub(load_n<S>(xk + j * stride, w, -kInf), m));
      if constexpr (!kLog) store_n<S>(yk + j * stride, e, w);
      s = S::add(s, e);
    }
    if constexpr (kLog) {
      // log of W lanes: once per register column, so libm is cheap enough here.
      alignas(64) float ls[W];
      S::store(ls, s);
      for (int l = 0; l < W; ++l) ls[l] = std::log(ls[l]);
      const typename S::V vl = S::load(ls);
      for (int64_t j = 0; j < n; ++j) {
        const typename S::V xj = load_n<S>(xk + j * stride, w, 0.0f);
        store_n<S>(yk + j * stride, S::sub(S::sub(xj, m), vl), w);
      }
    } else {
      const typename S::V inv = S::div(S::set1(1.0f), s);
      for (int64_t j = 0; j < n; ++j) {
        store_n<S>(yk + j * stride, S::mul(load_n<S>(yk + j * stride, w, 0.0f), inv), w);
      }
    }
  }
}

// One function per kernel and ISA, carrying the target attribute, and the ISA's table.
#define SOFTDPU_DEFINE_ROW_KERNELS(S, TARGET, suffix)                                              \
  TARGET __attribute__((flatten)) float max_##suffix(const float* x, int64_t n) {                  \
    return t_max<S>(x, n);                                                                         \
  }                                                                                                \
  TARGET __attribute__((flatten)) float min_##suffix(const float* x, int64_t n) {                  \
    return t_min<S>(x, n);                                                                         \
  }                                                                                                \
  TARGET __attribute__((flatten)) float sum_##suffix(const float* x, int64_t n) {                  \
    return t_sum<S, Map::kIdentity>(x, n);                                                         \
  }                                                                                                \
  TARGET __attribute__((flatten)) float sum_abs_##suffix(const float* x, int64_t n) {              \
    return t_sum<S, Map::kAbs>(x, n);                                                              \
  }                                                                                                \
  TARGET __attribute__((flatten)) float sum_sq_##suffix(const float* x, int64_t n) {               \
    return t_sum<S, Map::kSquare>(x, n);                                                           \
  }                                                                                                \
  TARGET __attribute__((flatten)) float sum_exp_##suffix(const float* x, int64_t n, float shift) { \
    return t_sum_exp<S>(x, n, shift);                                                              \
  }                                                                                                \
  TARGET __attribute__((flatten)) void mean_var_##suffix(const float* x, int64_t n, float* m,      \
                                                         float* v) {                               \
    t_mean_var<S>(x, n, m, v);                                                                     \
  }                                                                                                \
  TARGET __attribute__((flatten)) void scale_shift_##suffix(const float* x, float* y, int64_t n,   \
                                                            float a, float b) {                    \
    t_scale_shift<S>(x, y, n, a, b);                                                               \
  }                                                                                                \
  TARGET __attribute__((flatten)) void normalize_##suffix(const float* x, float* y, int64_t n,     \
                                                          float mean, float inv_std,               \
                                                          const float* gamma, const float* beta) { \
    t_normalize<S>(x, y, n, mean, inv_std, gamma, beta);                                           \
  }                                                                                                \
  TARGET __attribute__((flatten)) void softmax_##suffix(const float* x, float* y, int64_t n) {     \
    t_softmax<S>(x, y, n);                                                                         \
  }                                                                                                \
  TARGET __attribute__((flatten)) void log_softmax_##suffix(const float* x, float* y, int64_t n) { \
    t_log_softmax<S>(x, y, n);                                                                     \
  }                                                                                                \
  TARGET __attribute__((flatten)) void softmax_strided_##suffix(                                   \
      const float* x, float* y, int64_t n, int64_t stride, int64_t count) {                        \
    t_softmax_strided<S, false>(x, y, n, stride, count);                                           \
  }                                                                                                \
  TARGET __attribute__((flatten)) void log_softmax_strided_##suffix(                               \
      const float* x, float* y, int64_t n, int64_t stride, int64_t count) {                        \
    t_softmax_strided<S, true>(x, y, n, stride, count);                                            \
  }

SOFTDPU_DEFINE_ROW_KERNELS(simd::Avx2, SOFTDPU_TARGET_AVX2, avx2)
SOFTDPU_DEFINE_ROW_KERNELS(simd::Avx512, SOFTDPU_TARGET_AVX512, avx512)
#undef SOFTDPU_DEFINE_ROW_KERNELS

}  // namespace

const RowKernels& row_kernels_avx2() {
  static const RowKernels k{max_avx2,
                            min_avx2,
                            sum_avx2,
                            sum_abs_avx2,
                            sum_sq_avx2,
                            sum_exp_avx2,
                            mean_var_avx2,
                            scale_shift_avx2,
                            normalize_avx2,
                            softmax_avx2,
                            log_softmax_avx2,
                            softmax_strided_avx2,
                            log_softmax_strided_avx2};
  return k;
}

const RowKernels& row_kernels_avx512() {
  static const RowKernels k{max_avx512,
                            min_avx512,
                            sum_avx512,
                            sum_abs_avx512,
                            sum_sq_avx512,
                            sum_exp_avx512,
                            mean_var_avx512,
                            scale_shift_avx512,
                            normalize_avx512,
                            softmax_avx512,
                            log_softmax_avx512,
                            softmax_strided_avx512,
                            log_softmax_strided_avx512};
  return k;
}

}  // namespace softdpu::kernels
