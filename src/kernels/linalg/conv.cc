// ONNX Conv (1D/2D/3D, groups, dilations, strides, pads, auto_pad, bias, fused activation) as
// im2col + the packed GEMM.
//
// Orientation: Y_g[M_g, P] = W_g[M_g, C_g*K] * cols[C_g*K, P]. The weights are the left operand,
// read in place (a broadcast per row), and im2col writes the patches straight into the packed
// panel layout, so the output lands in NCHW order with no transpose and a 1x1 conv is the same
// code with a trivial gather. Pixels are processed in blocks sized to keep a block's patches in
// L2, with one scratch slot per concurrent block.
//
// Depthwise convolutions (group == C) take a direct path (conv_depthwise.cc), and so do 1-D/2-D
// convolutions with constant weights and output rows wide enough to fill 16-lane vectors
// (conv_direct.h: no im2col copy at all), and 3x3 stride-1 ones with enough channels take
// Winograd F(2x2, 3x3) (conv_winograd.h: 2.25x fewer multiplies).
//
// A Conv that passes/fuse_residual_add.cc gave a fourth input (the ResNet shortcut) computes
// act(conv + bias + residual): the direct path adds it in its tile's epilogue, the other paths
// in one pass after the product (with_residual).
//
// Few output pixels (P <= 8, e.g. a conv acting as a dense layer on a 1x1 map) would waste most
// of each 16-wide panel; there the constant weights are packed transposed at plan time and the
// product runs the other way round, Y^T[P, M] = cols^T[P, K] * W^T, streaming the weights once.
#include <algorithm>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernels/activation.h"
#include "kernels/linalg/compressed_weight.h"
#include "kernels/linalg/conv_common.h"
#include "kernels/linalg/conv_depthwise.h"
#include "kernels/linalg/conv_direct.h"
#include "kernels/linalg/conv_split.h"
#include "kernels/linalg/conv_winograd.h"
#include "kernels/linalg/gemm.h"
#include "kernels/linalg/narrow_weight.h"
#include "kernels/quant/qgemm.h"
#include "runtime/kernel.h"

namespace softdpu::runtime {

using kernels::PackedB;
using kernels::Window;

namespace {

// Concurrent pixel blocks (each with its own scratch slot); more than the pool has threads is
// harmless: slots are then processed one after another.
constexpr int64_t kMaxSlots = 8;
// Target size of one block's patches: within L2 with the weights alongside.
constexpr int64_t kBlockBytes = 160 * 1024;
constexpr int64_t kSmallP = 8;

// One product of a block of pixel rows: Y^T[np, M] = cols^T[np, C*K] * W^T (row stride C*K in,
// M out), with the epilogue, the pool and the product's scratch.
using RowProduct =
    std::function<void(int64_t np, const float* cols, float* yt, const kernels::GemmEpilogue& ep,
                       ThreadPool* pool, void* scratch)>;

// The convolution run the other way round, over blocks of pixel rows, for weights held in a form
// that multiplies rows (narrow PackedMatrix, compressed operator); each block's rows are
// transposed into NCHW. `tap_major` orders each row's taps kernel position first (the compressed
// weights' column order); `product_scratch(rows)` is what one product of `rows` rows needs.
std::unique_ptr<Kernel> prepare_row_conv(PrepareContext& ctx, const Window& win, int64_t batch,
                                         int64_t c, int64_t m, bool has_bias,
                                         const kernels::GemmEpilogue& base, bool tap_major,
                                         const std::function<size_t(int64_t)>& product_scratch,
                                         RowProduct product) {
  const int64_t p = win.out_size(), kc = c * win.k_size(), in_size = win.in_size();
  // Rows per block: their patches and outputs stay in L2 beside the streamed weights.
  const int64_t rows = std::clamp<int64_t>(kBlockBytes / (4 * (kc + m)), 1, p);
  const size_t q_bytes = kernels::round64(product_scratch(rows));
  const size_t cols_bytes = kernels::round64(static_cast<size_t>(rows * kc) * sizeof(float));
  const size_t yt_bytes = kernels::round64(static_cast<size_t>(rows * m) * sizeof(float));
  ctx.request_scratch(q_bytes + cols_bytes + yt_bytes);
  return make_kernel([=](const KernelArgs& args) {
    const float* x = static_cast<const float*>(args.in[0]);
    float* y = static_cast<float*>(args.out[0]);
    auto* base_ptr = static_cast<uint8_t*>(args.scratch);
    float* cols = reinterpret_cast<float*>(base_ptr + q_bytes);
    float* yt = reinterpret_cast<float*>(base_ptr + q_bytes + cols_bytes);
    kernels::GemmEpilogue ep = base;
    ep.bias = has_bias ? static_cast<const float*>(args.in[2]) : nullptr;
    for (int64_t n = 0; n < batch; ++n) {
      float* yn = y + n * m * p;
      for (int64_t p0 = 0; p0 < p; p0 += rows) {
        const int64_t np = std::min(rows, p - p0);
        const float* xn = x + n * c * in_size;
        if (tap_major) {
          kernels::im2col_rows_tap_major(xn, win, c, p0, np, cols);
        } else {
          kernels::im2col_rows(xn, win, c, p0, np, cols);
        }
        product(np, cols, yt, ep, args.pool, base_ptr);
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < np; ++j) yn[i * p + p0 + j] = yt[j * m + i];
      }
    }
  });
}

// Narrow weights (docs/precision.md): W [M, C*K] packed as an M x C*K PackedMatrix, the product
// run by qgemm, which streams the weights in this orientation.
std::unique_ptr<Kernel> prepare_narrow_conv(PrepareContext& ctx, const Window& win,
                                            const formats::WeightFormat& wf, int64_t batch,
                                            int64_t c, int64_t m, bool has_bias,
                                            const kernels::GemmEpilogue& base) {
  const int64_t kc = c * win.k_size();
  std::shared_ptr<const formats::PackedMatrix> w =
      kernels::pack_weight(ctx.constant_as<float>(1), kc, m, kc, true, 1.0f, wf);
  ctx.release_constant(1);
  return prepare_row_conv(
      ctx, win, batch, c, m, has_bias, base, false,
      [&](int64_t rows) { return kernels::qgemm_scratch_bytes(rows, *w, {}); },
      [w, kc, m](int64_t np, const float* cols, float* yt, const kernels::GemmEpilogue& ep,
                 ThreadPool* pool, void* scratch) {
        kernels::qgemm(np, cols, kc, *w, yt, m, ep, pool, {}, scratch);
      });
}

// Compressed weights (docs/compression.md): block-circulant over the (out-channel, in-channel)
// blocks at each kernel position, or EIE sparse. The planner compressed W with its columns
// ordered kernel position first (W'[M, K*C], W'[i][kpos * C + ch] = W[i][ch][kpos]): there each
// kernel position's M x C slice is a run of whole b-column blocks, so a Conv that is circulant at
// every position is one block-circulant M x K*C matrix, multiplied by the tap-major patches.
std::unique_ptr<Kernel> prepare_compressed_conv(PrepareContext& ctx, const Window& win,
                                                const compress::CompressionSpec& spec,
                                                int64_t batch, int64_t c, int64_t m, bool has_bias,
                                                const kernels::GemmEpilogue& base) {
  const int64_t ks = win.k_size(), kc = c * ks;
  const float* w = ctx.constant_as<float>(1);
  std::vector<float> tap_major(static_cast<size_t>(m * kc));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t kpos = 0; kpos < ks; ++kpos)
        tap_major[i * kc + kpos * c + ch] = w[i * kc + ch * ks + kpos];
  std::shared_ptr<const compress::CompressedMatrix> cm =
      compress::make_compressed(spec, tap_major.data(), m, kc, kc);
  ctx.release_constant(1);
  return prepare_row_conv(
      ctx, win, batch, c, m, has_bias, base, true,
      [&](int64_t rows) { return cm->scratch_bytes(rows); },
      [cm, kc, m](int64_t np, const float* cols, float* yt, const kernels::GemmEpilogue& ep,
                  ThreadPool* pool,
                  void* scratch) { cm->apply(np, cols, kc, yt, m, ep, pool, scratch); });
}

// Adds the fused residual (input 3) to a finished convolution's output, then the activation the
// product was built without: the residual epilogue of the paths that have none of their own.
std::unique_ptr<Kernel> with_residual(std::unique_ptr<Kernel> conv, const kernels::Activation& act,
                                      int64_t n) {
  std::shared_ptr<Kernel> inner(std::move(conv));
  return make_kernel([inner, act, n](const KernelArgs& args) {
    inner->run(args);
    const float* r = static_cast<const float*>(args.in[3]);
    float* y = static_cast<float*>(args.out[0]);
    for (int64_t i = 0; i < n; ++i) y[i] += r[i];
    kernels::apply_activation_inplace(act, y, n);
  });
}

}  // namespace

std::unique_ptr<Kernel> prepare_Conv(PrepareContext& ctx) {
  ctx.expect_dtype(0, {DType::kFloat32});
  ctx.expect_dtype(1, {DType::kFloat32});
  kernels::expect_spatial_rank(ctx, 0);
  const Shape& sx = ctx.shape(0);
  const Shape& sw = ctx.shape(1);
  const size_t nd = sx.size() - 2;
  if (sw.size() != sx.size()) {
    ctx.fail("weight " + shape_to_string(sw) + " must have the rank of X " + shape_to_string(sx));
  }
  const int64_t batch = sx[0], c = sx[1], m = sw[0];
  const int64_t group = ctx.attr_int("group", 1);
  if (group < 1 || c % group != 0 || m % group != 0) {
    ctx.fail("group " + std::to_string(group) + " must divide the input channels (" +
             std::to_string(c) + ") and the output channels (" + std::to_string(m) + ")");
  }
  const int64_t cg = c / group, mg = m / group;
  if (sw[1] != cg) {
    ctx.fail("weight " + shape_to_string(sw) + " has " + std::to_string(sw[1]) +
             " input channels per group, X " + shape_to_string(sx) + " with group " +
             std::to_string(group) + " needs " + std::to_string(cg));
  }
  const std::vector<int64_t> wk(sw.begin() + 2, sw.end());
  const std::vector<int64_t> kernel = kernels::kernel_shape_attr(ctx, nd, &wk);
  const Window win = kernels::resolve_window(ctx, Shape(sx.begin() + 2, sx.end()), kernel, false);
  const bool has_bias = ctx.has_input(2);
  if (has_bias) {
    ctx.expect_dtype(2, {DType::kFloat32});
    if (ctx.shape(2) != Shape{m}) {
      ctx.fail("bias (input 2) has shape " + shape_to_string(ctx.shape(2)) + ", expected [" +
               std::to_string(m) + "]");
    }
  }
  Shape out{batch, m};
  for (int64_t d : win.out_shape()) out.push_back(d);
  // ONNX's Conv has three inputs; a fourth is the residual of fuse_residual_add, which marks it.
  if (ctx.num_inputs() > 3 && ctx.attr_int("_residual", 0) == 0) {
    ctx.fail("Conv takes at most 3 inputs, got " + std::to_string(ctx.num_inputs()));
  }
  const bool has_residual = ctx.num_inputs() > 3 && ctx.has_input(3);
  if (has_residual) {
    ctx.expect_dtype(3, {DType::kFloat32});
    if (ctx.shape(3) != out) {
      ctx.fail("residual (input 3) has shape " + shape_to_string(ctx.shape(3)) + ", expected " +
               shape_to_string(out));
    }
  }
  ctx.set_output(0, DType::kFloat32, out);
  if (!ctx.kernel_wanted()) return nullptr;

  const kernels::Activation act = kernels::fused_activation(ctx);
  kernels::GemmEpilogue base;
  // With a residual, every path but the direct one leaves the activation to with_residual.
  base.activation = has_residual ? kernels::Activation{} : act;
  const int64_t out_numel = batch * m * win.out_size();
  auto finish = [&](std::unique_ptr<Kernel> k) {
    return has_residual ? with_residual(std::move(k), act, out_numel) : std::move(k);
  };
  const int64_t p = win.out_size(), kg = cg * win.k_size(), in_size = win.in_size();

  if (group == c && group > 1) {
    return finish(make_kernel([=](const KernelArgs& args) {
      kernels::conv_depthwise(
          static_cast<const float*>(args.in[0]), static_cast<const float*>(args.in[1]),
          has_bias ? static_cast<const float*>(args.in[2]) : nullptr, win, batch, c, mg,
          base.activation, static_cast<float*>(args.out[0]), args.pool);
    }));
  }

  const compress::CompressionSpec spec = kernels::node_compression(ctx);
  if (spec.kind != compress::CompressionSpec::Kind::kNone && group == 1 && ctx.is_constant(1)) {
    return finish(prepare_compressed_conv(ctx, win, spec, batch, c, m, has_bias, base));
  }

  const formats::WeightFormat wf = kernels::node_weight_format(ctx);
  if (wf.id != formats::FormatId::kFp32 && group == 1 && ctx.is_constant(1)) {
    return finish(prepare_narrow_conv(ctx, win, wf, batch, c, m, has_bias, base));
  }

  if (p <= kSmallP && group == 1 && ctx.is_constant(1)) {
    // W is [M, K] row-major: packing it transposed gives B = W^T (K x M).
    auto wt = std::make_shared<PackedB>(PackedB::pack(ctx.constant_as<float>(1), kg, m, kg, true));
    ctx.release_constant(1);
    const int64_t rows_floats = (p * kg + 15) / 16 * 16;
    ctx.request_scratch(static_cast<size_t>(rows_floats + p * m) * sizeof(float));
    return finish(make_kernel([=](const KernelArgs& args) {
      const float* x = static_cast<const float*>(args.in[0]);
      float* y = static_cast<float*>(args.out[0]);
      float* rows = static_cast<float*>(args.scratch);
      float* yt = rows + rows_floats;
      kernels::GemmEpilogue ep = base;
      ep.bias = has_bias ? static_cast<const float*>(args.in[2]) : nullptr;
      for (int64_t n = 0; n < batch; ++n) {
        kernels::im2col_rows(x + n * c * in_size, win, c, 0, p, rows);
        float* yn = y + n * m * p;
        kernels::gemm_packed(p, rows, kg, 1, wt->view(), p == 1 ? yn : yt, m, ep, args.pool);
        if (p > 1) {
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < p; ++j) yn[i * p + j] = yt[j * m + i];
        }
      }
    }));
  }

  // "_conv_algo" = "im2col" | "direct" | "winograd" (set by tests and benchmarks; the
  // SOFTDPU_CONV_ALGO environment variable sets it for a whole model, for A/B runs) forces a
  // path where it applies; otherwise the planner picks by shape.
  const char* env_algo = std::getenv("SOFTDPU_CONV_ALGO");
  const std::string algo = ctx.attr_string("_conv_algo", env_algo ? env_algo : "");
  // The Winograd and direct paths: a planned conv (plan-time weights) run image by image, bias,
  // residual and activation in its own epilogue.
  auto per_image = [&](auto plan, auto conv) {
    return make_kernel([=](const KernelArgs& args) {
      const float* x = static_cast<const float*>(args.in[0]);
      const float* bias = has_bias ? static_cast<const float*>(args.in[2]) : nullptr;
      const float* res = has_residual ? static_cast<const float*>(args.in[3]) : nullptr;
      float* y = static_cast<float*>(args.out[0]);
      for (int64_t n = 0; n < batch; ++n) {
        conv(*plan, x + n * c * in_size, bias, res ? res + n * m * p : nullptr, act, y + n * m * p,
             static_cast<float*>(args.scratch), args.pool);
      }
    });
  };
  // Small convs stay on the calling thread (conv_split.h: the split would cost more than it
  // saves).
  const int64_t out_bytes = m * p * static_cast<int64_t>(sizeof(float));
  if (ctx.is_constant(1) && kernels::winograd_conv_applies(win, group) &&
      (algo == "winograd" || (algo.empty() && kernels::winograd_conv_pays(c, m)))) {
    auto wc = kernels::plan_winograd_conv(win, c, m, ctx.constant_as<float>(1));
    wc->threads =
        kernels::conv_split_threads(ctx.threads(), kernels::winograd_macs(*wc), out_bytes);
    ctx.release_constant(1);
    ctx.request_scratch(static_cast<size_t>(wc->scratch_floats()) * sizeof(float));
    return per_image(wc, &kernels::winograd_conv);
  }
  if (ctx.is_constant(1) && kernels::direct_conv_applies(win, group) && algo != "im2col") {
    const int threads = kernels::conv_split_threads(ctx.threads(), m * kg * p, out_bytes);
    auto dc = kernels::plan_direct_conv(win, c, m, ctx.constant_as<float>(1), threads);
    ctx.release_constant(1);
    ctx.request_scratch(static_cast<size_t>(dc->scratch_floats()) * sizeof(float));
    return per_image(dc, &kernels::direct_conv);
  }

  // Pixel blocks: a multiple of 32 columns (the AVX-512 tile width) whose patches fit kBlockBytes.
  int64_t block = kBlockBytes / (std::max<int64_t>(kg, 1) * 4) / 32 * 32;
  block = std::clamp<int64_t>(block, 32, 2048);
  block = std::min(block, (p + 15) / 16 * 16);
  const int64_t blocks = (p + block - 1) / block;
  const int64_t items = batch * group * blocks;
  const int64_t slots = std::min(items, kMaxSlots);
  const int64_t slot_floats = kernels::packed_b_floats(kg, block);
  ctx.request_scratch(static_cast<size_t>(slots * slot_floats) * sizeof(float));

  return finish(make_kernel([=](const KernelArgs& args) {
    const float* x = static_cast<const float*>(args.in[0]);
    const float* w = static_cast<const float*>(args.in[1]);
    const float* bias = has_bias ? static_cast<const float*>(args.in[2]) : nullptr;
    float* y = static_cast<float*>(args.out[0]);
    float* scratch = static_cast<float*>(args.scratch);
    // With one slot the product itself is split across threads; otherwise slots run in parallel
    // and each product stays on its thread.
    ThreadPool* inner = slots == 1 ? args.pool : nullptr;
    auto do_item = [&](int64_t item, float* cols) {
      const int64_t blk = item % blocks, g = (item / blocks) % group, n = item / (blocks * group);
      const int64_t p0 = blk * block, np = std::min(block, p - p0);
      kernels::im2col_panels(x + (n * c + g * cg) * in_size, win, cg, p0, np, cols);
      kernels::GemmEpilogue ep = base;
      ep.row_bias = bias ? bias + g * mg : nullptr;
      kernels::gemm_packed(mg, w + g * mg * kg, kg, 1, {cols, kg, np},
                           y + (n * m + g * mg) * p + p0, p, ep, inner);
    };
    args.pool->parallel_for(slots, 1, [&](int64_t s0, int64_t s1) {
      for (int64_t s = s0; s < s1; ++s)
        for (int64_t item = s; item < items; item += slots)
          do_item(item, scratch + s * slot_floats);
    });
  }));
}

}  // namespace softdpu::runtime
