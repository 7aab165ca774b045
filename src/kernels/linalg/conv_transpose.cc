// ONNX ConvTranspose (1D/2D/3D, groups, dilations, strides, pads, output_padding, output_shape,
// auto_pad) as GEMM + col2im:
//   cols[M_g * K, P_in] = W_g^T[M_g * K, C_g] * X_g[C_g, P_in]
// then every column entry is added to the output pixel it lands on. W (laid out [C, M_g, k...])
// is read in place as the transposed left operand; X_g is packed into scratch per run.
//
// Pads follow the ONNX spec text: with output_shape (or SAME_*), total padding is split with the
// odd element at the end for SAME_UPPER and at the beginning otherwise; a negative total (an
// output larger than the full result) pads nothing and leaves the extra outputs at the end.
#include <algorithm>
#include <memory>

#include "kernels/activation.h"
#include "kernels/linalg/conv_common.h"
#include "kernels/linalg/gemm.h"
#include "runtime/kernel.h"

namespace softdpu::runtime {

using kernels::Window;

namespace {

int64_t round16(int64_t n) {
  return (n + 15) / 16 * 16;
}

// Window over the *output* seen from the input: in = X spatial, out = Y spatial, pad = offset of
// the first full-result position that is kept.
Window transpose_window(PrepareContext& ctx, const Shape& in, const std::vector<int64_t>& kernel) {
  const size_t nd = in.size(), off = 3 - nd;
  auto ints = [&](const char* name, size_t len, int64_t def, int64_t min) {
    std::vector<int64_t> v = ctx.attr_ints(name, std::vector<int64_t>(len, def));
    if (v.size() != len) {
      ctx.fail(std::string("attribute '") + name + "' has " + std::to_string(v.size()) +
               " values " + shape_to_string(v) + ", expected " + std::to_string(len));
    }
    for (int64_t x : v) {
      if (x < min)
        ctx.fail(std::string("attribute '") + name + "' " + shape_to_string(v) +
                 " must be >= " + std::to_string(min));
    }
    return v;
  };
  const std::vector<int64_t> strides = ints("strides", nd, 1, 1);
  const std::vector<int64_t> dils = ints("dilations", nd, 1, 1);
  const std::vector<int64_t> pads = ints("pads", 2 * nd, 0, 0);
  const std::vector<int64_t> out_pad = ints("output_padding", nd, 0, 0);
  const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" &&
      auto_pad != "SAME_LOWER") {
    ctx.fail("attribute 'auto_pad' is '" + auto_pad +
             "', expected NOTSET, VALID, SAME_UPPER or SAME_LOWER");
  }
  std::vector<int64_t> out_shape = ctx.attr_ints("output_shape", {});
  if (!out_shape.empty()) {
    // Either the spatial dims or the whole output shape.
    if (out_shape.size() == nd + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
    if (out_shape.size() != nd) {
      ctx.fail("attribute 'output_shape' " + shape_to_string(ctx.attr_ints("output_shape")) +
               " must have " + std::to_string(nd) + " spatial dimensions");
    }
  }
  Window w;
  w.nd = static_cast<int>(nd);
  for (size_t i = 0; i < nd; ++i) {
    const size_t s = off + i;
    w.in[s] = in[i];
    w.k[s] = kernel[i];
    w.stride[s] = strides[i];
    w.dil[s] = dils[i];
    const int64_t full = strides[i] * (in[i] - 1) + out_pad[i] + (kernel[i] - 1) * dils[i] + 1;
    const bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
    if (!out_shape.empty() || same) {
      w.out[s] = !out_shape.empty() ? out_shape[i] : in[i] * strides[i];
      const int64_t total = std::max<int64_t>(0, full - w.out[s]);
      w.pad[s] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      w.pad_end[s] = total - w.pad[s];
    } else {
      if (auto_pad == "NOTSET") {
        w.pad[s] = pads[i];
        w.pad_end[s] = pads[nd + i];
      }
      w.out[s] = full - w.pad[s] - w.pad_end[s];
    }
    if (w.out[s] <= 0) {
      ctx.fail("output dimension " + std::to_string(i) + " would be " + std::to_string(w.out[s]) +
               " (input " + shape_to_string(in) + ", pads " + shape_to_string(pads) + ")");
    }
  }
  return w;
}

// Adds cols[(m * K + kernel offset), input pixel] into y (one group's M_g output channels).
void col2im_add(const float* cols, const Window& w, int64_t mg, float* y) {
  const int64_t pin = w.in_size(), ks = w.k_size(), pout = w.out_size();
  for (int64_t m = 0; m < mg; ++m) {
    float* ym = y + m * pout;
    for (int64_t kd = 0; kd < w.k[0]; ++kd)
      for (int64_t kh = 0; kh < w.k[1]; ++kh)
        for (int64_t kw = 0; kw < w.k[2]; ++kw) {
          const float* c = cols + (m * ks + (kd * w.k[1] + kh) * w.k[2] + kw) * pin;
          for (int64_t id = 0; id < w.in[0]; ++id) {
            const int64_t od = id * w.stride[0] - w.pad[0] + kd * w.dil[0];
            if (od < 0 || od >= w.out[0]) continue;
            for (int64_t ih = 0; ih < w.in[1]; ++ih) {
              const int64_t oh = ih * w.stride[1] - w.pad[1] + kh * w.dil[1];
              if (oh < 0 || oh >= w.out[1]) continue;
              const float* crow = c + (id * w.in[1] + ih) * w.in[2];
              float* yrow = ym + (od * w.out[1] + oh) * w.out[2];
              for (int64_t iw = 0; iw < w.in[2]; ++iw) {
                const int64_t ow = iw * w.stride[2] - w.pad[2] + kw * w.dil[2];
                if (ow >= 0 && ow < w.out[2]) yrow[ow] += crow[iw];
              }
            }
          }
        }
  }
}

}  // namespace

std::unique_ptr<Kernel> prepare_ConvTranspose(PrepareContext& ctx) {
  ctx.expect_dtype(0, {DType::kFloat32});
  ctx.expect_dtype(1, {DType::kFloat32});
  kernels::expect_spatial_rank(ctx, 0);
  const Shape& sx = ctx.shape(0);
  const Shape& sw = ctx.shape(1);
  if (sw.size() != sx.size()) {
    ctx.fail("weight " + shape_to_string(sw) + " must have the rank of X " + shape_to_string(sx));
  }
  const size_t nd = sx.size() - 2;
  const int64_t batch = sx[0], c = sx[1];
  const int64_t group = ctx.attr_int("group", 1);
  if (group < 1 || c % group != 0) {
    ctx.fail("group " + std::to_string(group) + " must divide the input channels (" +
             std::to_string(c) + ")");
  }
  if (sw[0] != c) {
    ctx.fail("weight " + shape_to_string(sw) + " must have X's " + std::to_string(c) +
             " input channels first ([C, M/group, k...])");
  }
  const int64_t cg = c / group, mg = sw[1], m = mg * group;
  const std::vector<int64_t> wk(sw.begin() + 2, sw.end());
  const std::vector<int64_t> kernel = kernels::kernel_shape_attr(ctx, nd, &wk);
  const Window win = transpose_window(ctx, Shape(sx.begin() + 2, sx.end()), kernel);
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
  ctx.set_output(0, DType::kFloat32, out);
  const kernels::Activation act = kernels::fused_activation(ctx);

  const int64_t pin = win.in_size(), pout = win.out_size(), rows = mg * win.k_size();
  const int64_t packed_floats = round16(kernels::packed_b_floats(cg, pin));
  ctx.request_scratch(static_cast<size_t>(packed_floats + rows * pin) * sizeof(float));

  return make_kernel([=](const KernelArgs& args) {
    const float* x = static_cast<const float*>(args.in[0]);
    const float* w = static_cast<const float*>(args.in[1]);
    const float* bias = has_bias ? static_cast<const float*>(args.in[2]) : nullptr;
    float* y = static_cast<float*>(args.out[0]);
    float* packed = static_cast<float*>(args.scratch);
    float* cols = packed + packed_floats;
    for (int64_t n = 0; n < batch; ++n) {
      for (int64_t g = 0; g < group; ++g) {
        float* yg = y + (n * m + g * mg) * pout;
        for (int64_t i = 0; i < mg; ++i)
          std::fill_n(yg + i * pout, pout, bias ? bias[g * mg + i] : 0.f);
        kernels::pack_b(x + (n * c + g * cg) * pin, cg, pin, pin, false, 1.f, packed);
        // A[r, ci] = W[g * C_g + ci, r]: row stride 1, column stride M_g * K.
        kernels::gemm_packed(rows, w + g * cg * rows, 1, rows, {packed, cg, pin}, cols, pin, {},
                             args.pool);
        col2im_add(cols, win, mg, yg);
      }
      kernels::apply_activation_inplace(act, y + n * m * pout, m * pout);
    }
  });
}

}  // namespace softdpu::runtime
