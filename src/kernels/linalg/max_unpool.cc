// ONNX MaxUnpool: scatters X into a zero tensor at the flat positions MaxPool's Indices give
// (indices span the whole tensor, batch and channel included, as MaxPool produces them).
#include <algorithm>
#include <cstring>

#include "kernels/linalg/conv_common.h"
#include "runtime/kernel.h"

namespace softdpu::runtime {

std::unique_ptr<Kernel> prepare_MaxUnpool(PrepareContext& ctx) {
  ctx.expect_dtype(0, {DType::kFloat32});
  ctx.expect_dtype(1, {DType::kInt64});
  kernels::expect_spatial_rank(ctx, 0);
  const Shape& sx = ctx.shape(0);
  if (ctx.shape(1) != sx) {
    ctx.fail("indices (input 1) have shape " + shape_to_string(ctx.shape(1)) +
             ", expected X's shape " + shape_to_string(sx));
  }
  const size_t nd = sx.size() - 2;
  const std::vector<int64_t> kernel = kernels::kernel_shape_attr(ctx, nd, nullptr);
  const std::vector<int64_t> strides = ctx.attr_ints("strides", std::vector<int64_t>(nd, 1));
  const std::vector<int64_t> pads = ctx.attr_ints("pads", std::vector<int64_t>(2 * nd, 0));
  if (strides.size() != nd || pads.size() != 2 * nd) {
    ctx.fail("attributes 'strides' " + shape_to_string(strides) + " and 'pads' " +
             shape_to_string(pads) + " must have " + std::to_string(nd) + " and " +
             std::to_string(2 * nd) + " values");
  }
  // MaxPool's indices address the shape MaxUnpool infers; an explicit output_shape (larger, to
  // undo a floor in the pool's output size) keeps each value at the same coordinates, as
  // onnxruntime and the backend tests do.
  Shape inferred{sx[0], sx[1]};
  for (size_t i = 0; i < nd; ++i)
    inferred.push_back((sx[2 + i] - 1) * strides[i] + kernel[i] - pads[i] - pads[nd + i]);
  Shape out = inferred;
  if (ctx.has_input(2)) {
    out = ctx.constant_ints(2);
    if (out.size() != sx.size() || out[0] != sx[0] || out[1] != sx[1]) {
      ctx.fail("output_shape (input 2) " + shape_to_string(out) + " must be [" +
               std::to_string(sx[0]) + ", " + std::to_string(sx[1]) + ", spatial...] of rank " +
               std::to_string(sx.size()));
    }
  }
  ctx.set_output(0, DType::kFloat32, out);
  const int64_t n_in = shape_numel(sx), n_out = shape_numel(out), n_inf = shape_numel(inferred);
  const bool remap = out != inferred;
  return make_kernel([=](const KernelArgs& args) {
    const float* x = static_cast<const float*>(args.in[0]);
    const int64_t* idx = static_cast<const int64_t*>(args.in[1]);
    float* y = static_cast<float*>(args.out[0]);
    std::fill_n(y, n_out, 0.f);
    // Out-of-range indices (a model error only visible at run time) are skipped, not written.
    for (int64_t i = 0; i < n_in; ++i) {
      int64_t at = idx[i];
      if (at < 0 || at >= n_inf) continue;
      if (remap) {
        // Decode against the inferred shape, re-encode against the output shape.
        int64_t o = 0, stride = 1;
        bool inside = true;
        for (size_t d = inferred.size(); d-- > 0;) {
          const int64_t c = at % inferred[d];
          at /= inferred[d];
          inside &= c < out[d];
          o += c * stride;
          stride *= out[d];
        }
        if (!inside) continue;
        at = o;
      }
      y[at] = x[i];
    }
  });
}

}  // namespace softdpu::runtime
