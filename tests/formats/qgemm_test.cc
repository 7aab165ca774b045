// The quantised matrix products, every format and every path this CPU has (ScopedIsa), against
// the product of the DECODED weight matrix computed naively here in double. Decoding is exact,
// so the only differences are fp32 accumulation order (and, for kNative, the activation
// quantisation, which the reference reproduces with a formula written here). Shapes sweep
// N % 16, K % 32 != 0 (padding), N = 1 and M > 1. The panel products (qgemv_panels.h: the same
// MXINT8 / MXFP4 codes rearranged 16 rows at a time, kNative) go through the same checks, on every
// ISA (the scalar twin below AVX-512) and through their scalar twin directly.
#include "kernels/quant/qgemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/thread_pool.h"
#include "formats/element.h"
#include "formats/quantize.h"
#include "kernels/quant/qgemm_internal.h"
#include "kernels/quant/qgemv_panels.h"

namespace softdpu::kernels {
namespace {

using formats::PackedMatrix;
using formats::parse_format;
using formats::WeightFormat;

// Error budgets, relative to sum_k |w_k x_k| of each output. fp32 accumulation of <= 300 terms in
// any order stays far inside these; a decoding bug (one wrong element) does not.
struct Budget {
  const char* format;
  double fp32_activations;
  double native_activations;
};
const Budget kBudgets[] = {
    {"fp32", 1e-5, 0},          {"bf16", 1e-5, 1e-5},    {"fp16", 1e-5, 0},
    {"int8", 1e-5, 0},          {"mxint8", 1e-5, 1e-5},  {"mxfp8_e4m3", 1e-5, 0},
    {"mxfp8_e5m2", 1e-5, 0},    {"mxfp6_e3m2", 1e-5, 0}, {"mxfp6_e2m3", 1e-5, 0},
    {"mxfp4_e2m1", 1e-5, 1e-5}, {"ms-fp8", 1e-5, 0},     {"ms-fp9", 1e-5, 0},
    {"msfp12", 1e-5, 0},        {"msfp16", 1e-5, 0},     {"bfp:32,3,8", 1e-5, 0},
    {"bfp:64,5,6", 1e-5, 0},    {"bfp:16,1,4", 1e-5, 0}, {"bfp:256,7,8", 1e-5, 0},
};

std::vector<Isa> isas() {
  std::vector<Isa> v = {Isa::kScalar};
  if (detected_isa() >= Isa::kAvx2) v.push_back(Isa::kAvx2);
  if (detected_isa() >= Isa::kAvx512) v.push_back(Isa::kAvx512);
  return v;
}

std::vector<float> weights(int64_t n, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> w(static_cast<size_t>(n * k));
  // Row and block magnitudes vary so that block scales differ.
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c)
      w[size_t(r * k + c)] = d(rng) * std::ldexp(1.f, int((r + c / 32) % 7) - 3);
  return w;
}

std::vector<float> activations(int64_t m, int64_t ldx, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> x(static_cast<size_t>(m * ldx));
  for (float& v : x) v = d(rng);
  return x;
}

// The MXINT8 activation quantiser, written out: e = floor(log2(max|x|)) (at least -127),
// q = round_half_even(x * 2^(6 - e)) in [-127, 127], value q * 2^(e - 6).
std::vector<float> mxint8_activations(const float* x, int64_t k) {
  std::vector<float> out(static_cast<size_t>(k));
  for (int64_t b = 0; b < k; b += 32) {
    double mx = 0;
    for (int64_t i = b; i < std::min(k, b + 32); ++i) mx = std::max(mx, std::fabs(double(x[i])));
    const int e = mx > 0 ? std::max(int(std::floor(std::log2(mx))), -127) : -127;
    for (int64_t i = b; i < std::min(k, b + 32); ++i) {
      const double q =
          std::min(127.0, std::max(-127.0, std::nearbyint(x[i] * std::pow(2.0, 6 - e))));
      out[size_t(i)] = float(q * std::pow(2.0, e - 6));
    }
  }
  return out;
}

// qgemv_panels (or, with `scalar`, its scalar twin) with a scratch buffer of its own.
void run_panels(int64_t m, const float* x, int64_t ldx, const PanelMatrix& w, float* y, int64_t ldy,
                const GemmEpilogue& ep, ThreadPool* pool, bool scalar = false) {
  std::vector<uint8_t> scratch(qgemv_panels_scratch_bytes(m, w) + 64);
  void* aligned = scratch.data() + (64 - reinterpret_cast<uintptr_t>(scratch.data()) % 64) % 64;
  if (scalar)
    qgemv_panels_scalar(m, x, ldx, w, y, ldy, ep, aligned);
  else
    qgemv_panels(m, x, ldx, w, y, ldy, ep, pool, aligned);
}

QGemmOptions native() {
  QGemmOptions opt;
  opt.activations = QuantActivations::kNative;
  return opt;
}

struct Shape3 {
  int64_t m, n, k;
};

// Checks qgemm (each ISA) and qgemm_reference against the double product.
void check(const Budget& budget, QuantActivations act, const Shape3& s, uint32_t seed) {
  const WeightFormat f = parse_format(budget.format);
  const double tol =
      act == QuantActivations::kFp32 ? budget.fp32_activations : budget.native_activations;
  const int64_t ldx = s.k + 3, ldy = s.n + 1;
  const std::vector<float> w = weights(s.n, s.k, seed);
  const std::vector<float> x = activations(s.m, ldx, seed + 1);
  const PackedMatrix p = PackedMatrix::pack(w.data(), s.n, s.k, s.k, f);
  const std::vector<float> dec = p.decode();
  // The activations the product actually sees.
  std::vector<float> xe(static_cast<size_t>(s.m * s.k));
  for (int64_t i = 0; i < s.m; ++i) {
    const float* xi = x.data() + i * ldx;
    std::vector<float> row(xi, xi + s.k);
    if (act == QuantActivations::kNative &&
        (f.id == formats::FormatId::kMxInt8 || f.id == formats::FormatId::kMxFp4E2M1))
      row = mxint8_activations(xi, s.k);
    if (act == QuantActivations::kNative && f.id == formats::FormatId::kBf16)
      for (float& v : row)
        v = formats::bf16_to_float(formats::float_to_bf16(v, formats::Rounding::kEven));
    std::copy(row.begin(), row.end(), xe.begin() + i * s.k);
  }
  std::vector<double> want(static_cast<size_t>(s.m * s.n)), mag(static_cast<size_t>(s.m * s.n));
  for (int64_t i = 0; i < s.m; ++i) {
    for (int64_t r = 0; r < s.n; ++r) {
      double acc = 0, a = 0;
      for (int64_t c = 0; c < s.k; ++c) {
        const double t = double(dec[size_t(r * s.k + c)]) * xe[size_t(i * s.k + c)];
        acc += t;
        a += std::fabs(t);
      }
      want[size_t(i * s.n + r)] = acc;
      mag[size_t(i * s.n + r)] = a;
    }
  }
  QGemmOptions opt;
  opt.activations = act;
  GemmEpilogue ep;
  auto compare = [&](const std::vector<float>& y, const char* what) {
    for (int64_t i = 0; i < s.m; ++i) {
      for (int64_t r = 0; r < s.n; ++r) {
        const double g = y[size_t(i * ldy + r)], e = want[size_t(i * s.n + r)];
        ASSERT_LE(std::fabs(g - e), tol * mag[size_t(i * s.n + r)] + 1e-30)
            << what << " " << budget.format << " m=" << s.m << " n=" << s.n << " k=" << s.k << " ["
            << i << ", " << r << "] got " << g << " want " << e;
      }
    }
  };
  std::vector<float> y(static_cast<size_t>(s.m * ldy), -7.f);
  qgemm_reference(s.m, x.data(), ldx, p, y.data(), ldy, ep, opt);
  compare(y, "reference");
  for (Isa isa : isas()) {
    ScopedIsa scoped(isa);
    std::fill(y.begin(), y.end(), -7.f);
    qgemm(s.m, x.data(), ldx, p, y.data(), ldy, ep, nullptr, opt);
    compare(y, isa_name(isa));
    for (int64_t i = 0; i < s.m; ++i)  // the padding column of Y is untouched
      ASSERT_EQ(y[size_t(i * ldy + s.n)], -7.f);
  }
  if (!PanelMatrix::supports(f, opt)) return;
  const PanelMatrix panels = PanelMatrix::from(p);
  for (int path = 0; path <= int(isas().size()); ++path) {
    const bool scalar_twin = path == int(isas().size());
    ScopedIsa scoped(scalar_twin ? Isa::kScalar : isas()[size_t(path)]);
    std::fill(y.begin(), y.end(), -7.f);
    run_panels(s.m, x.data(), ldx, panels, y.data(), ldy, ep, nullptr, scalar_twin);
    compare(y, scalar_twin ? "panels scalar twin" : "panels");
    for (int64_t i = 0; i < s.m; ++i) ASSERT_EQ(y[size_t(i * ldy + s.n)], -7.f);
  }
}

const Shape3 kShapes[] = {{1, 1, 1},    {1, 1, 33}, {1, 5, 32},  {1, 16, 31}, {1, 37, 100},
                          {1, 17, 256}, {3, 5, 97}, {6, 16, 64}, {5, 33, 33}, {4, 4, 512}};

TEST(FormatsQGemm, Fp32ActivationsEveryFormatEveryIsa) {
  uint32_t seed = 1;
  for (const Budget& b : kBudgets)
    for (const Shape3& s : kShapes) check(b, QuantActivations::kFp32, s, seed++);
}

TEST(FormatsQGemm, NativeActivations) {
  uint32_t seed = 100;
  for (const Budget& b : kBudgets) {
    if (b.native_activations == 0) continue;
    EXPECT_TRUE(qgemm_has_native_path(parse_format(b.format)));
    for (const Shape3& s : kShapes) check(b, QuantActivations::kNative, s, seed++);
  }
  EXPECT_FALSE(qgemm_has_native_path(parse_format("mxfp8_e4m3")));
  EXPECT_FALSE(qgemm_has_native_path(parse_format("mxfp6_e3m2")));
  // Panels exist only for the int8 dot-product formats.
  const std::vector<float> w = weights(16, 32, 7);
  for (const char* name : {"mxfp8_e4m3", "bf16", "int8"})
    EXPECT_THROW(PanelMatrix::from(PackedMatrix::pack(w.data(), 16, 32, 32, parse_format(name))),
                 std::invalid_argument)
        << name;
}

// Every element code of every MX format goes through the SIMD decoders: each block holds its
// format's max normal (so the block scale is 2^0) and a run of codes. The activations (k / 8, k in
// 1..5) are exact in MXINT8 too, so the native paths must give the same sums.
TEST(FormatsQGemm, EveryMxCodeDecodes) {
  for (const char* name :
       {"mxint8", "mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4_e2m1"}) {
    const WeightFormat f = parse_format(name);
    const formats::ElemSpec& s = formats::elem_spec(formats::traits(f.id).elem);
    const int codes = 1 << s.code_bits;
    const int64_t k = 256, n = (codes + 30) / 31 * 32 / k + 1;
    std::vector<float> w(static_cast<size_t>(n * k), 0.f);
    int code = 0;
    for (int64_t i = 0; i < n * k; ++i) {
      if (i % 32 == 0) {
        w[size_t(i)] = s.max_norm;
        continue;
      }
      const float v = formats::decode_elem(uint8_t(code++ % codes), s);
      w[size_t(i)] =
          std::isfinite(v) && !(f.id == formats::FormatId::kMxInt8 && v == -2.f) ? v : 0.f;
    }
    const PackedMatrix p = PackedMatrix::pack(w.data(), n, k, k, f);
    ASSERT_EQ(p.decode(), w) << name;  // the codes hold the values exactly
    std::vector<float> x(static_cast<size_t>(k)), y(static_cast<size_t>(n));
    for (int64_t i = 0; i < k; ++i) x[size_t(i)] = float(i % 5 + 1) / 8;
    for (Isa isa : isas()) {
      for (QuantActivations act : {QuantActivations::kFp32, QuantActivations::kNative}) {
        if (act == QuantActivations::kNative && !qgemm_has_native_path(f)) continue;
        ScopedIsa scoped(isa);
        QGemmOptions opt;
        opt.activations = act;
        qgemm(1, x.data(), k, p, y.data(), n, GemmEpilogue{}, nullptr, opt);
        for (int64_t r = 0; r < n; ++r) {
          double want = 0, mag = 0;
          for (int64_t c = 0; c < k; ++c) {
            want += double(w[size_t(r * k + c)]) * x[size_t(c)];
            mag += std::fabs(double(w[size_t(r * k + c)]) * x[size_t(c)]);
          }
          EXPECT_NEAR(y[size_t(r)], want, 1e-6 * mag)
              << name << " " << isa_name(isa) << " native " << (act == QuantActivations::kNative)
              << " row " << r;
        }
      }
      if (!PanelMatrix::supports(f, native())) continue;
      ScopedIsa scoped(isa);
      std::fill(y.begin(), y.end(), 0.f);
      run_panels(1, x.data(), k, PanelMatrix::from(p), y.data(), n, GemmEpilogue{}, nullptr);
      for (int64_t r = 0; r < n; ++r) {
        double want = 0, mag = 0;
        for (int64_t c = 0; c < k; ++c) {
          want += double(w[size_t(r * k + c)]) * x[size_t(c)];
          mag += std::fabs(double(w[size_t(r * k + c)]) * x[size_t(c)]);
        }
        EXPECT_NEAR(y[size_t(r)], want, 1e-6 * mag) << name << " panels " << isa_name(isa) << r;
      }
    }
  }
}

TEST(FormatsQGemm, EpilogueThreadsAndScratch) {
  const int64_t m = 3, n = 130, k = 1000;  // big enough to be split across the pool
  const std::vector<float> w = weights(n, k, 9), x = activations(m, k, 10);
  const std::vector<float> bias = activations(1, n, 11), row_bias = activations(1, m, 12);
  for (const char* name : {"mxfp4_e2m1", "mxint8", "bf16", "int8"}) {
    const WeightFormat f = parse_format(name);
    const PackedMatrix p = PackedMatrix::pack(w.data(), n, k, k, f);
    for (QuantActivations act : {QuantActivations::kFp32, QuantActivations::kNative}) {
      QGemmOptions opt;
      opt.activations = act;
      GemmEpilogue plain, ep;
      ep.bias = bias.data();
      ep.row_bias = row_bias.data();
      ep.accumulate = true;
      ep.activation.kind = ActKind::kRelu;
      std::vector<float> raw(static_cast<size_t>(m * n));
      qgemm_reference(m, x.data(), k, p, raw.data(), n, plain, opt);
      for (Isa isa : isas()) {
        ScopedIsa scoped(isa);
        std::vector<float> one(static_cast<size_t>(m * n), 0.5f), many(one);
        qgemm(m, x.data(), k, p, one.data(), n, ep, nullptr, opt);
        ThreadPool pool(3);
        std::vector<uint8_t> scratch(qgemm_scratch_bytes(m, p, opt) + 64);
        void* aligned =
            scratch.data() + (64 - reinterpret_cast<uintptr_t>(scratch.data()) % 64) % 64;
        qgemm(m, x.data(), k, p, many.data(), n, ep, &pool, opt, aligned);
        EXPECT_EQ(one, many) << name << " " << isa_name(isa);  // threads split N only
        // relu(raw + 0.5 (accumulated) + bias + row bias).
        auto check_epilogue = [&](const std::vector<float>& y, const char* what) {
          for (int64_t i = 0; i < m; ++i) {
            for (int64_t r = 0; r < n; ++r) {
              const float want = std::max(
                  0.f, raw[size_t(i * n + r)] + 0.5f + bias[size_t(r)] + row_bias[size_t(i)]);
              EXPECT_NEAR(y[size_t(i * n + r)], want, 2e-6f * (std::fabs(want) + 100))
                  << name << " " << what << " " << isa_name(isa);
            }
          }
        };
        check_epilogue(one, "qgemm");
        if (!PanelMatrix::supports(f, opt)) continue;
        const PanelMatrix panels = PanelMatrix::from(p);
        std::vector<float> pone(static_cast<size_t>(m * n), 0.5f), pmany(pone);
        run_panels(m, x.data(), k, panels, pone.data(), n, ep, nullptr);
        run_panels(m, x.data(), k, panels, pmany.data(), n, ep, &pool);
        EXPECT_EQ(pone, pmany) << name << " panels " << isa_name(isa);  // threads split panels
        check_epilogue(pone, "panels");
      }
    }
  }
}

// A NaN weight makes its block's scale NaN: only the outputs of that row are NaN. A NaN
// activation poisons its MXINT8 activation block in the native path the same way.
// k = 288: 8 blocks go through the native kernel's 8-block groups, the 9th through its tail.
TEST(FormatsQGemm, NonFiniteValuesPropagate) {
  const int64_t n = 8, k = 288;
  std::vector<float> w = weights(n, k, 21), x = activations(1, k, 22);
  w[size_t(3 * k + 40)] = std::numeric_limits<float>::infinity();
  for (const char* name : {"mxint8", "mxfp8_e4m3", "mxfp6_e2m3", "mxfp4_e2m1", "msfp12", "int8"}) {
    const PackedMatrix p = PackedMatrix::pack(w.data(), n, k, k, parse_format(name));
    for (Isa isa : isas()) {
      for (QuantActivations act : {QuantActivations::kFp32, QuantActivations::kNative}) {
        ScopedIsa scoped(isa);
        QGemmOptions opt;
        opt.activations = act;
        std::vector<float> y(static_cast<size_t>(n));
        qgemm(1, x.data(), k, p, y.data(), n, GemmEpilogue{}, nullptr, opt);
        for (int64_t r = 0; r < n; ++r) EXPECT_EQ(std::isnan(y[size_t(r)]), r == 3) << name << r;
      }
      if (!PanelMatrix::supports(p.format(), native())) continue;
      ScopedIsa scoped(isa);
      std::vector<float> y(static_cast<size_t>(n));
      run_panels(1, x.data(), k, PanelMatrix::from(p), y.data(), n, GemmEpilogue{}, nullptr);
      for (int64_t r = 0; r < n; ++r)
        EXPECT_EQ(std::isnan(y[size_t(r)]), r == 3) << name << " panels " << r;
    }
  }
  std::vector<float> xn = x;
  xn[5] = std::nanf("");
  for (const char* name : {"mxint8", "mxfp4_e2m1"}) {
    const PackedMatrix p =
        PackedMatrix::pack(weights(n, k, 23).data(), n, k, k, parse_format(name));
    QGemmOptions opt;
    opt.activations = QuantActivations::kNative;
    for (Isa isa : isas()) {
      ScopedIsa scoped(isa);
      std::vector<float> y(static_cast<size_t>(n));
      qgemm(1, xn.data(), k, p, y.data(), n, GemmEpilogue{}, nullptr, opt);
      for (float v : y) EXPECT_TRUE(std::isnan(v)) << name << " " << isa_name(isa);
      std::fill(y.begin(), y.end(), 0.f);
      run_panels(1, xn.data(), k, PanelMatrix::from(p), y.data(), n, GemmEpilogue{}, nullptr);
      for (float v : y) EXPECT_TRUE(std::isnan(v)) << name << " panels " << isa_name(isa);
    }
  }
}

// The three MXINT8 activation quantisers agree code for code and scale for scale, and match the
// formula above: blocks from 2^-130 to 2^110, a zero block, exact ties, an Inf, a ragged tail.
TEST(FormatsQGemm, ActivationQuantisersAgree) {
  const int64_t k = 32 * 12 + 7, kp = 32 * 13;
  std::vector<float> x = activations(1, k, 31);
  for (int64_t i = 0; i < k; ++i) x[size_t(i)] = std::ldexp(x[size_t(i)], int(i / 32) * 20 - 130);
  for (int64_t i = 32; i < 64; ++i) x[size_t(i)] = 0.f;
  x[64] = 1.5f;  // block 2: e = 0, so (m + 0.5) / 64 are exact ties
  for (int64_t i = 65; i < 96; ++i) x[size_t(i)] = (float(i - 80) + 0.5f) / 64;
  std::vector<float> finite = x;
  x[100] = std::numeric_limits<float>::infinity();
  std::vector<int8_t> q0(kp), q1(kp), q2(kp);
  std::vector<float> s0(kp / 32), s1(kp / 32), s2(kp / 32);
  quant::quantize_x_mxint8_scalar(x.data(), k, kp, q0.data(), s0.data());
  EXPECT_EQ(q0[64], 96);
  EXPECT_EQ(q0[81], 2);   // 1.5 -> 2
  EXPECT_EQ(q0[82], 2);   // 2.5 -> 2
  EXPECT_EQ(q0[79], 0);   // -0.5 -> 0
  EXPECT_EQ(q0[78], -2);  // -1.5 -> -2
  EXPECT_TRUE(std::isnan(s0[3]));
  auto same = [](const std::vector<float>& a, const std::vector<float>& b) {
    for (size_t i = 0; i < a.size(); ++i)
      if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
    return true;
  };
  if (detected_isa() >= Isa::kAvx2) {
    quant::quantize_x_mxint8_avx2(x.data(), k, kp, q1.data(), s1.data());
    EXPECT_EQ(q0, q1);
    EXPECT_TRUE(same(s0, s1));
  }
  if (detected_isa() >= Isa::kAvx512) {
    quant::quantize_x_mxint8_avx512(x.data(), k, kp, q2.data(), s2.data());
    EXPECT_EQ(q0, q2);
    EXPECT_TRUE(same(s0, s2));
  }
  const std::vector<float> want = mxint8_activations(finite.data(), k);
  for (int64_t i = 0; i < k; ++i) {
    if (i / 32 == 3) continue;  // the Inf block
    EXPECT_EQ(float(q0[size_t(i)]) * s0[size_t(i / 32)], want[size_t(i)]) << i;
  }
}

}  // namespace
}  // namespace softdpu::kernels
