// Ops that select parts of their input: Slice (a strided box, negative steps included), Compress
// (rows picked by a plan-time mask) and ReverseSequence (per-batch reversed prefixes).
#include <algorithm>
#include <cstring>

#include "kernels/tensor/copy_plan.h"
#include "kernels/tensor/tensor_util.h"

namespace softdpu::runtime {

using kernels::tensor::contiguous_strides;
using kernels::tensor::prod;

std::unique_ptr<Kernel> prepare_Slice(PrepareContext& ctx) {
  kernels::tensor::expect_data(ctx, 0);
  const Shape& in = ctx.shape(0);
  const int64_t rank = static_cast<int64_t>(in.size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.opset() >= 10) {
    for (int i = 1; i <= 4; ++i) {
      if (ctx.has_input(i)) kernels::tensor::expect_index_type(ctx, i);
    }
    starts = ctx.constant_ints(1);
    ends = ctx.constant_ints(2);
    if (ctx.has_input(3)) axes = ctx.constant_ints(3);
    if (ctx.has_input(4)) steps = ctx.constant_ints(4);
  } else {
    starts = ctx.attr_ints("starts");
    ends = ctx.attr_ints("ends");
    axes = ctx.attr_ints("axes");
  }
  if (starts.size() != ends.size()) {
    ctx.fail("starts " + shape_to_string(starts) + " and ends " + shape_to_string(ends) +
             " differ in length");
  }
  const bool default_axes = axes.empty() && !(ctx.opset() >= 10 && ctx.has_input(3));
  if (default_axes) {
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (steps.empty() && !(ctx.opset() >= 10 && ctx.has_input(4))) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size()) {
    ctx.fail("starts, ends, axes and steps must have one entry per sliced axis; got " +
             std::to_string(starts.size()) + ", " + std::to_string(ends.size()) + ", " +
             std::to_string(axes.size()) + ", " + std::to_string(steps.size()));
  }
  axes = kernels::tensor::normalize_axes(ctx, axes, rank, "axes");

  const std::vector<int64_t> in_strides = contiguous_strides(in);
  Shape out = in;
  std::vector<int64_t> src = in_strides;
  int64_t offset = 0;
  for (size_t k = 0; k < axes.size(); ++k) {
    const int64_t a = axes[k], dim = in[a], step = steps[k];
    if (step == 0) ctx.fail("steps " + shape_to_string(steps) + " contain 0");
    int64_t start = starts[k], end = ends[k];
    // Negative positions count from the end, then clamp (ONNX Slice-13): a forward slice to
    // [0, dim], a backward one to [0, dim-1] for the start and [-1, dim-1] for the end.
    if (start < 0) start += dim;
    if (end < 0) end += dim;
    int64_t len = 0;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      if (end > start) len = (end - start - 1) / step + 1;
    } else if (dim > 0) {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      if (start > end) len = (start - end - 1) / -step + 1;
    }
    out[a] = len;
    if (len > 0) offset += start * in_strides[a];
    src[a] = in_strides[a] * step;
  }
  ctx.set_output(0, ctx.dtype(0), out);
  kernels::tensor::StridedCopy plan(dtype_size(ctx.dtype(0)), out, src, contiguous_strides(out),
                                    shape_numel(out) ? offset : 0);
  return make_kernel(
      [plan = std::move(plan)](const KernelArgs& a) { plan.run(a.in[0], a.out[0], a.pool); });
}

std::unique_ptr<Kernel> prepare_Compress(PrepareContext& ctx) {
  kernels::tensor::expect_data(ctx, 0);
  ctx.expect_dtype(1, {DType::kBool});
  ctx.expect_rank(1, 1, 1);
  const Shape& in = ctx.shape(0);
  // The mask decides the output shape, so it must be known now.
  const bool* cond = ctx.constant_as<bool>(1);
  const int64_t n = ctx.shape(1)[0];
  int64_t axis = 0, outer = 1, dim = shape_numel(in), inner = 1;
  const bool flat = !ctx.has_attr("axis");
  if (!flat) {
    axis = normalize_axis(ctx, ctx.attr_int("axis", 0), static_cast<int64_t>(in.size()));
    outer = prod(in, 0, axis);
    dim = in[axis];
    inner = prod(in, axis + 1, in.size());
  }
  std::vector<int64_t> selected;
  for (int64_t j = 0; j < n; ++j) {
    if (!cond[j]) continue;
    if (j >= dim) {
      ctx.fail("condition selects index " + std::to_string(j) + " but the " +
               (flat ? "flattened input" : "axis " + std::to_string(axis)) + " has only " +
               std::to_string(dim) + " entries");
    }
    selected.push_back(j);
  }
  Shape out = flat ? Shape{static_cast<int64_t>(selected.size())} : in;
  if (!flat) out[axis] = static_cast<int64_t>(selected.size());
  ctx.set_output(0, ctx.dtype(0), out);
  std::vector<std::vector<int64_t>> maps(3);
  for (int64_t i = 0; i < outer; ++i) maps[0].push_back(i);
  maps[1] = selected;
  for (int64_t i = 0; i < inner; ++i) maps[2].push_back(i);
  kernels::tensor::AxisMapCopy plan(dtype_size(ctx.dtype(0)), {outer, dim, inner}, maps);
  return make_kernel([plan = std::move(plan)](const KernelArgs& a) {
    plan.run(a.in[0], a.out[0], nullptr, a.pool);
  });
}

std::unique_ptr<Kernel> prepare_ReverseSequence(PrepareContext& ctx) {
  kernels::tensor::expect_data(ctx, 0);
  ctx.expect_rank(0, 2, 1 << 20);
  kernels::tensor::expect_index_type(ctx, 1);
  ctx.expect_rank(1, 1, 1);
  const Shape& in = ctx.shape(0);
  const int64_t time_axis = ctx.attr_int("time_axis", 0);
  const int64_t batch_axis = ctx.attr_int("batch_axis", 1);
  if (!((time_axis == 0 && batch_axis == 1) || (time_axis == 1 && batch_axis == 0))) {
    ctx.fail("time_axis and batch_axis must be 0 and 1 in some order, got " +
             std::to_string(time_axis) + " and " + std::to_string(batch_axis));
  }
  const int64_t steps = in[time_axis], batch = in[batch_axis];
  if (ctx.shape(1)[0] != batch) {
    ctx.fail("sequence_lens has " + std::to_string(ctx.shape(1)[0]) +
             " entries, the batch axis has " + std::to_string(batch));
  }
  if (ctx.is_constant(1)) {
    for (int64_t v : ctx.constant_ints(1)) {
      if (v < 0 || v > steps) {
        ctx.fail("sequence_lens value " + std::to_string(v) + " is outside [0, " +
                 std::to_string(steps) + "]");
      }
    }
  }
  const bool lens64 = ctx.dtype(1) == DType::kInt64;
  const size_t block = static_cast<size_t>(prod(in, 2, in.size())) * dtype_size(ctx.dtype(0));
  // Element (t, b) lives at block index t*batch + b (time major) or b*steps + t (batch major).
  const int64_t t_stride = time_axis == 0 ? batch : 1;
  const int64_t b_stride = time_axis == 0 ? 1 : steps;
  ctx.set_output(0, ctx.dtype(0), in);
  return make_kernel([=](const KernelArgs& a) {
    const auto* src = static_cast<const uint8_t*>(a.in[0]);
    auto* dst = static_cast<uint8_t*>(a.out[0]);
    for (int64_t b = 0; b < batch; ++b) {
      // Run-time lengths outside [0, steps] are clamped: run() cannot report them.
      const int64_t len =
          std::clamp<int64_t>(kernels::tensor::load_index(a.in[1], lens64, b), 0, steps);
      for (int64_t t = 0; t < steps; ++t) {
        const int64_t from = t < len ? len - 1 - t : t;
        std::memcpy(dst + (t * t_stride + b * b_stride) * block,
                    src + (from * t_stride + b * b_stride) * block, block);
      }
    }
  });
}

}  // namespace softdpu::runtime
