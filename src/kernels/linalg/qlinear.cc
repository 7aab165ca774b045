// Integer products: MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv. Exact int32
// accumulation of (x - x_zero_point) * (w - w_zero_point); the QLinear ops then requantize like
// onnxruntime: y = saturate(nearbyint(acc * (x_scale * w_scale / y_scale)) + y_zero_point), with
// the multiplier formed in float and round-half-to-even.
//
// These are correctness-first scalar kernels (loops the compiler vectorises): softdpu's fast
// narrow-precision path is the weight formats in src/formats, not these ONNX ops.
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "kernels/linalg/conv_common.h"
#include "kernels/linalg/matmul_shape.h"
#include "runtime/kernel.h"

namespace softdpu::runtime {

using kernels::Window;

namespace {

// Reads element i of a uint8 or int8 tensor as int32.
inline int32_t load_q(const void* p, bool is_signed, int64_t i) {
  return is_signed ? static_cast<const int8_t*>(p)[i] : static_cast<const uint8_t*>(p)[i];
}

// A zero point or scale: absent, one value, or one per row/column/channel (`len`). Returns how
// many values it holds (0 when absent) after checking the shape.
int64_t per_axis_count(const PrepareContext& ctx, int i, int64_t len, const char* what) {
  if (!ctx.has_input(i)) return 0;
  const int64_t n = shape_numel(ctx.shape(i));
  if (n != 1 && n != len) {
    ctx.fail("input " + std::to_string(i) + " ('" + ctx.input(i).name + "') " + what + " has " +
             std::to_string(n) + " values " + shape_to_string(ctx.shape(i)) + ", expected 1 or " +
             std::to_string(len));
  }
  return n;
}

void expect_q8(const PrepareContext& ctx, int i) {
  ctx.expect_dtype(i, {DType::kUInt8, DType::kInt8});
}

// Zero point input i (when present) must have the type of the data it belongs to.
void expect_zp_type(const PrepareContext& ctx, int zp, int data) {
  if (ctx.has_input(zp) && ctx.dtype(zp) != ctx.dtype(data)) {
    ctx.fail("zero point input " + std::to_string(zp) + " has type " + dtype_name(ctx.dtype(zp)) +
             ", expected " + dtype_name(ctx.dtype(data)) + " like input " + std::to_string(data));
  }
}

// Requantization target: y_scale (input ys) and y_zero_point (input yz, which decides the type).
struct Requant {
  bool is_signed = false;
  int32_t lo = 0, hi = 255;
};

inline int32_t requantize(int32_t acc, float mult, int32_t zp, const Requant& r) {
  const float v = std::nearbyint(static_cast<float>(acc) * mult);
  return std::clamp(static_cast<int32_t>(std::clamp(v, -2e9f, 2e9f)) + zp, r.lo, r.hi);
}

// ------------------------------------------------------------------------------------ matmul

struct QMatMulPlan {
  kernels::MatMulShape s;
  bool a_signed = false, b_signed = false;
  int a_zp = -1, b_zp = -1;  // input indices, -1 when absent
  int64_t a_zp_count = 0, b_zp_count = 0;
};

// acc[M, N] = (A - azp) * (B - bzp) for output batch entry e; bz is scratch (K*N int32).
void qmatmul_entry(const QMatMulPlan& p, const KernelArgs& args, int ia, int ib, size_t e,
                   int32_t* acc, int32_t* bz) {
  const int64_t m = p.s.m, k = p.s.k, n = p.s.n;
  const void* a = args.in[ia];
  const void* b = args.in[ib];
  const int64_t oa = p.s.off_a[e] * m * k, ob = p.s.off_b[e] * k * n;
  auto zp = [&](int idx, bool sgn, int64_t count, int64_t i) -> int32_t {
    if (idx < 0 || count == 0) return 0;
    return load_q(args.in[idx], sgn, count == 1 ? 0 : i);
  };
  for (int64_t kk = 0; kk < k; ++kk)
    for (int64_t j = 0; j < n; ++j)
      bz[kk * n + j] =
          load_q(b, p.b_signed, ob + kk * n + j) - zp(p.b_zp, p.b_signed, p.b_zp_count, j);
  for (int64_t i = 0; i < m; ++i) {
    int32_t* row = acc + i * n;
    std::fill_n(row, n, 0);
    const int32_t az = zp(p.a_zp, p.a_signed, p.a_zp_count, i);
    for (int64_t kk = 0; kk < k; ++kk) {
      const int32_t av = load_q(a, p.a_signed, oa + i * k + kk) - az;
      const int32_t* br = bz + kk * n;
      for (int64_t j = 0; j < n; ++j) row[j] += av * br[j];
    }
  }
}

QMatMulPlan plan_qmatmul(PrepareContext& ctx, int ia, int iaz, int ib, int ibz) {
  expect_q8(ctx, ia);
  expect_q8(ctx, ib);
  expect_zp_type(ctx, iaz, ia);
  expect_zp_type(ctx, ibz, ib);
  QMatMulPlan p;
  p.s = kernels::resolve_matmul_shape(ctx, ia, ib);
  p.a_signed = ctx.dtype(ia) == DType::kInt8;
  p.b_signed = ctx.dtype(ib) == DType::kInt8;
  // Per-row A / per-column B zero points are only meaningful without batch broadcasting.
  const bool batched = !p.s.batch.empty() && shape_numel(p.s.batch) > 1;
  p.a_zp_count = per_axis_count(ctx, iaz, batched ? 1 : p.s.m, "(A zero point)");
  p.b_zp_count = per_axis_count(ctx, ibz, p.s.n, "(B zero point)");
  p.a_zp = ctx.has_input(iaz) ? iaz : -1;
  p.b_zp = ctx.has_input(ibz) ? ibz : -1;
  ctx.request_scratch(static_cast<size_t>(p.s.k * p.s.n + p.s.m * p.s.n) * sizeof(int32_t));
  return p;
}

}  // namespace

std::unique_ptr<Kernel> prepare_MatMulInteger(PrepareContext& ctx) {
  const QMatMulPlan p = plan_qmatmul(ctx, 0, 2, 1, 3);
  ctx.set_output(0, DType::kInt32, p.s.out);
  return make_kernel([p](const KernelArgs& args) {
    int32_t* y = static_cast<int32_t*>(args.out[0]);
    int32_t* bz = static_cast<int32_t*>(args.scratch);
    const int64_t mn = p.s.m * p.s.n;
    for (size_t e = 0; e < p.s.off_a.size(); ++e) qmatmul_entry(p, args, 0, 1, e, y + e * mn, bz);
  });
}

std::unique_ptr<Kernel> prepare_QLinearMatMul(PrepareContext& ctx) {
  // Inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point.
  const QMatMulPlan p = plan_qmatmul(ctx, 0, 2, 3, 5);
  for (int i : {1, 4, 6}) ctx.expect_dtype(i, {DType::kFloat32});
  expect_q8(ctx, 7);
  per_axis_count(ctx, 1, 1, "(A scale)");
  const int64_t b_scales = per_axis_count(ctx, 4, p.s.n, "(B scale)");
  per_axis_count(ctx, 6, 1, "(Y scale)");
  per_axis_count(ctx, 7, 1, "(Y zero point)");
  Requant rq;
  rq.is_signed = ctx.dtype(7) == DType::kInt8;
  if (rq.is_signed) rq.lo = -128, rq.hi = 127;
  ctx.set_output(0, ctx.dtype(7), p.s.out);
  return make_kernel([p, rq, b_scales](const KernelArgs& args) {
    const int64_t mn = p.s.m * p.s.n;
    int32_t* bz = static_cast<int32_t*>(args.scratch);
    int32_t* acc = bz + p.s.k * p.s.n;
    const float as = *static_cast<const float*>(args.in[1]);
    const float* bs = static_cast<const float*>(args.in[4]);
    const float ys = *static_cast<const float*>(args.in[6]);
    const int32_t yz = load_q(args.in[7], rq.is_signed, 0);
    for (size_t e = 0; e < p.s.off_a.size(); ++e) {
      qmatmul_entry(p, args, 0, 3, e, acc, bz);
      for (int64_t i = 0; i < mn; ++i) {
        const float mult = as * bs[b_scales == 1 ? 0 : i % p.s.n] / ys;
        const int32_t v = requantize(acc[i], mult, yz, rq);
        if (rq.is_signed)
          static_cast<int8_t*>(args.out[0])[e * mn + i] = static_cast<int8_t>(v);
        else
          static_cast<uint8_t*>(args.out[0])[e * mn + i] = static_cast<uint8_t>(v);
      }
    }
  });
}

// -------------------------------------------------------------------------------------- conv

namespace {

struct QConvPlan {
  Window w;
  int64_t batch = 0, c = 0, m = 0, group = 1, cg = 0, mg = 0;
  bool x_signed = false, w_signed = false;
  int x_zp = -1, w_zp = -1;
  int64_t w_zp_count = 0;
};

QConvPlan plan_qconv(PrepareContext& ctx, int ix, int ixz, int iw, int iwz) {
  expect_q8(ctx, ix);
  expect_q8(ctx, iw);
  expect_zp_type(ctx, ixz, ix);
  expect_zp_type(ctx, iwz, iw);
  kernels::expect_spatial_rank(ctx, ix);
  const Shape& sx = ctx.shape(ix);
  const Shape& sw = ctx.shape(iw);
  if (sw.size() != sx.size()) {
    ctx.fail("weight " + shape_to_string(sw) + " must have the rank of X " + shape_to_string(sx));
  }
  QConvPlan p;
  p.batch = sx[0];
  p.c = sx[1];
  p.m = sw[0];
  p.group = ctx.attr_int("group", 1);
  if (p.group < 1 || p.c % p.group != 0 || p.m % p.group != 0) {
    ctx.fail("group " + std::to_string(p.group) + " must divide the input channels (" +
             std::to_string(p.c) + ") and the output channels (" + std::to_string(p.m) + ")");
  }
  p.cg = p.c / p.group;
  p.mg = p.m / p.group;
  if (sw[1] != p.cg) {
    ctx.fail("weight " + shape_to_string(sw) + " has " + std::to_string(sw[1]) +
             " input channels per group, expected " + std::to_string(p.cg));
  }
  const std::vector<int64_t> wk(sw.begin() + 2, sw.end());
  const std::vector<int64_t> kernel = kernels::kernel_shape_attr(ctx, sx.size() - 2, &wk);
  p.w = kernels::resolve_window(ctx, Shape(sx.begin() + 2, sx.end()), kernel, false);
  p.x_signed = ctx.dtype(ix) == DType::kInt8;
  p.w_signed = ctx.dtype(iw) == DType::kInt8;
  per_axis_count(ctx, ixz, 1, "(X zero point)");
  p.w_zp_count = per_axis_count(ctx, iwz, p.m, "(W zero point)");
  p.x_zp = ctx.has_input(ixz) ? ixz : -1;
  p.w_zp = ctx.has_input(iwz) ? iwz : -1;
  const int64_t xs = p.cg * p.w.in_size(), ws = p.mg * p.cg * p.w.k_size();
  ctx.request_scratch(static_cast<size_t>(xs + ws + p.w.out_size()) * sizeof(int32_t));
  return p;
}

Shape qconv_out_shape(const QConvPlan& p) {
  Shape out{p.batch, p.m};
  for (int64_t d : p.w.out_shape()) out.push_back(d);
  return out;
}

// Runs the integer convolution; emit(n, oc, acc) receives each output channel's int32 plane.
template <typename Emit>
void qconv_run(const QConvPlan& p, const KernelArgs& args, int ix, int iw, Emit&& emit) {
  const Window& w = p.w;
  const int64_t in = w.in_size(), ks = w.k_size(), pout = w.out_size();
  int32_t* xs = static_cast<int32_t*>(args.scratch);
  int32_t* ws = xs + p.cg * in;
  int32_t* acc = ws + p.mg * p.cg * ks;
  const int32_t xz = p.x_zp >= 0 ? load_q(args.in[p.x_zp], p.x_signed, 0) : 0;
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t g = 0; g < p.group; ++g) {
      // Zero-point-free copies: padding then contributes exactly 0.
      const int64_t x0 = (n * p.c + g * p.cg) * in;
      for (int64_t i = 0; i < p.cg * in; ++i) xs[i] = load_q(args.in[ix], p.x_signed, x0 + i) - xz;
      for (int64_t mo = 0; mo < p.mg; ++mo) {
        const int64_t oc = g * p.mg + mo;
        const int32_t wz =
            p.w_zp >= 0 ? load_q(args.in[p.w_zp], p.w_signed, p.w_zp_count == 1 ? 0 : oc) : 0;
        for (int64_t i = 0; i < p.cg * ks; ++i)
          ws[mo * p.cg * ks + i] = load_q(args.in[iw], p.w_signed, oc * p.cg * ks + i) - wz;
      }
      for (int64_t mo = 0; mo < p.mg; ++mo) {
        std::fill_n(acc, pout, 0);
        for (int64_t ci = 0; ci < p.cg; ++ci)
          for (int64_t k0 = 0; k0 < w.k[0]; ++k0)
            for (int64_t k1 = 0; k1 < w.k[1]; ++k1)
              for (int64_t k2 = 0; k2 < w.k[2]; ++k2) {
                const int32_t wv =
                    ws[((mo * p.cg + ci) * w.k[0] + k0) * w.k[1] * w.k[2] + k1 * w.k[2] + k2];
                for (int64_t o0 = 0; o0 < w.out[0]; ++o0) {
                  const int64_t i0 = o0 * w.stride[0] - w.pad[0] + k0 * w.dil[0];
                  if (i0 < 0 || i0 >= w.in[0]) continue;
                  for (int64_t o1 = 0; o1 < w.out[1]; ++o1) {
                    const int64_t i1 = o1 * w.stride[1] - w.pad[1] + k1 * w.dil[1];
                    if (i1 < 0 || i1 >= w.in[1]) continue;
                    const int32_t* row = xs + ci * in + (i0 * w.in[1] + i1) * w.in[2];
                    int32_t* out = acc + (o0 * w.out[1] + o1) * w.out[2];
                    for (int64_t o2 = 0; o2 < w.out[2]; ++o2) {
                      const int64_t i2 = o2 * w.stride[2] - w.pad[2] + k2 * w.dil[2];
                      if (i2 >= 0 && i2 < w.in[2]) out[o2] += wv * row[i2];
                    }
                  }
                }
              }
        emit(n, g * p.mg + mo, acc);
      }
    }
  }
}

}  // namespace

std::unique_ptr<Kernel> prepare_ConvInteger(PrepareContext& ctx) {
  // Inputs: x, w, x_zero_point, w_zero_point.
  const QConvPlan p = plan_qconv(ctx, 0, 2, 1, 3);
  ctx.set_output(0, DType::kInt32, qconv_out_shape(p));
  return make_kernel([p](const KernelArgs& args) {
    int32_t* y = static_cast<int32_t*>(args.out[0]);
    const int64_t pout = p.w.out_size();
    qconv_run(p, args, 0, 1, [&](int64_t n, int64_t oc, const int32_t* acc) {
      std::copy_n(acc, pout, y + (n * p.m + oc) * pout);
    });
  });
}

std::unique_ptr<Kernel> prepare_QLinearConv(PrepareContext& ctx) {
  // Inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B.
  const QConvPlan p = plan_qconv(ctx, 0, 2, 3, 5);
  for (int i : {1, 4, 6}) ctx.expect_dtype(i, {DType::kFloat32});
  expect_q8(ctx, 7);
  per_axis_count(ctx, 1, 1, "(X scale)");
  const int64_t w_scales = per_axis_count(ctx, 4, p.m, "(W scale)");
  per_axis_count(ctx, 6, 1, "(Y scale)");
  const bool has_bias = ctx.has_input(8);
  if (has_bias) {
    ctx.expect_dtype(8, {DType::kInt32});
    if (shape_numel(ctx.shape(8)) != p.m) {
      ctx.fail("bias (input 8) has shape " + shape_to_string(ctx.shape(8)) + ", expected [" +
               std::to_string(p.m) + "]");
    }
  }
  Requant rq;
  rq.is_signed = ctx.dtype(7) == DType::kInt8;
  if (rq.is_signed) rq.lo = -128, rq.hi = 127;
  ctx.set_output(0, ctx.dtype(7), qconv_out_shape(p));
  return make_kernel([p, rq, w_scales, has_bias](const KernelArgs& args) {
    const float xs = *static_cast<const float*>(args.in[1]);
    const float* wsc = static_cast<const float*>(args.in[4]);
    const float ys = *static_cast<const float*>(args.in[6]);
    const int32_t yz = load_q(args.in[7], rq.is_signed, 0);
    const int32_t* bias = has_bias ? static_cast<const int32_t*>(args.in[8]) : nullptr;
    const int64_t pout = p.w.out_size();
    qconv_run(p, args, 0, 3, [&](int64_t n, int64_t oc, const int32_t* acc) {
      const float mult = xs * wsc[w_scales == 1 ? 0 : oc] / ys;
      const int32_t b = bias ? bias[oc] : 0;
      const int64_t base = (n * p.m + oc) * pout;
      for (int64_t i = 0; i < pout; ++i) {
        const int32_t v = requantize(acc[i] + b, mult, yz, rq);
        if (rq.is_signed)
          static_cast<int8_t*>(args.out[0])[base + i] = static_cast<int8_t>(v);
        else
          static_cast<uint8_t*>(args.out[0])[base + i] = static_cast<uint8_t>(v);
      }
    });
  });
}

}  // namespace softdpu::runtime
