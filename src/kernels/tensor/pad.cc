// Pad in every mode as one AxisMapCopy: per axis, each output index maps to the input index it
// reads (edge: clamp, reflect: mirror without repeating the border, wrap: modulo) or to -1 for
// the constant. Negative pads crop first, then the positive pads apply to what is left (as
// onnxruntime does; the ONNX reference does not define negative pads with non-constant modes).
#include <algorithm>
#include <cstring>

#include "kernels/tensor/copy_plan.h"
#include "kernels/tensor/tensor_util.h"

namespace softdpu::runtime {

std::unique_ptr<Kernel> prepare_Pad(PrepareContext& ctx) {
  kernels::tensor::expect_data(ctx, 0);
  const Shape& in = ctx.shape(0);
  const DType dt = ctx.dtype(0);
  const int64_t rank = static_cast<int64_t>(in.size());
  const std::string mode = ctx.attr_string("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap") {
    ctx.fail("mode must be constant, reflect, edge or wrap, got '" + mode + "'");
  }

  std::vector<int64_t> pads;
  std::vector<int64_t> axes;
  std::vector<uint8_t> fill = kernels::tensor::scalar_bytes(ctx, dt, 0);
  bool runtime_fill = false;
  if (ctx.opset() >= 11) {
    kernels::tensor::expect_index_type(ctx, 1);
    pads = ctx.constant_ints(1);
    if (ctx.has_input(2) && mode == "constant") {
      if (ctx.dtype(2) != dt) {
        ctx.fail(std::string("constant_value (input 2) has type ") + dtype_name(ctx.dtype(2)) +
                 ", data has " + dtype_name(dt));
      }
      if (shape_numel(ctx.shape(2)) != 1) {
        ctx.fail("constant_value (input 2) must hold one value, got shape " +
                 shape_to_string(ctx.shape(2)));
      }
      // A run-time constant_value does not decide any shape: the kernel reads it each run.
      if (ctx.is_constant(2)) {
        std::memcpy(fill.data(), ctx.constant_data(2), fill.size());
      } else {
        runtime_fill = true;
      }
    }
    if (ctx.has_input(3)) {
      kernels::tensor::expect_index_type(ctx, 3);
      axes = kernels::tensor::normalize_axes(ctx, ctx.constant_ints(3), rank, "axes");
    }
  } else {
    pads = ctx.has_attr("pads") ? ctx.attr_ints("pads") : ctx.attr_ints("paddings");
    fill = kernels::tensor::scalar_bytes(ctx, dt, ctx.attr_float("value", 0.f));
  }
  if (axes.empty()) {
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  }
  if (pads.size() != 2 * axes.size()) {
    ctx.fail("pads " + shape_to_string(pads) + " must have 2 x " + std::to_string(axes.size()) +
             " entries (begins then ends) for input shape " + shape_to_string(in));
  }
  std::vector<int64_t> begin(rank, 0), end(rank, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    begin[axes[i]] = pads[i];
    end[axes[i]] = pads[i + axes.size()];
  }

  Shape out(rank);
  std::vector<std::vector<int64_t>> maps(rank);
  for (int64_t d = 0; d < rank; ++d) {
    const int64_t crop_b = std::max<int64_t>(0, -begin[d]), crop_e = std::max<int64_t>(0, -end[d]);
    const int64_t pad_b = std::max<int64_t>(0, begin[d]), pad_e = std::max<int64_t>(0, end[d]);
    const int64_t n = in[d] - crop_b - crop_e;  // what is left after cropping
    if (n < 0) {
      ctx.fail("pads " + shape_to_string(pads) + " crop " + std::to_string(crop_b + crop_e) +
               " elements from axis " + std::to_string(d) + " of size " + std::to_string(in[d]));
    }
    if (n == 0 && pad_b + pad_e > 0 && mode != "constant") {
      ctx.fail("cannot pad axis " + std::to_string(d) + " in " + mode +
               " mode: it has no elements to copy");
    }
    out[d] = n + pad_b + pad_e;
    maps[d].resize(out[d]);
    for (int64_t i = 0; i < out[d]; ++i) {
      int64_t x = i - pad_b;
      if (x < 0 || x >= n) {
        if (mode == "constant") {
          maps[d][i] = -1;
          continue;
        }
        if (mode == "edge") {
          x = std::clamp<int64_t>(x, 0, n - 1);
        } else if (mode == "wrap") {
          x = ((x % n) + n) % n;
        } else if (n == 1) {  // reflect of one element repeats it (numpy)
          x = 0;
        } else {  // reflect: period 2(n-1), mirrored in its second half
          const int64_t period = 2 * (n - 1);
          x = ((x % period) + period) % period;
          if (x >= n) x = period - x;
        }
      }
      maps[d][i] = crop_b + x;
    }
  }
  ctx.set_output(0, dt, out);
  kernels::tensor::AxisMapCopy plan(dtype_size(dt), in, maps);
  return make_kernel([plan = std::move(plan), fill, runtime_fill](const KernelArgs& a) {
    plan.run(a.in[0], a.out[0], runtime_fill ? a.in[2] : fill.data(), a.pool);
  });
}

}  // namespace softdpu::runtime
