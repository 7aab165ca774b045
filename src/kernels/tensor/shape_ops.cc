// Ops that only read or rewrite a shape: Shape and Size (known at plan time, so their outputs are
// constants that downstream shape arithmetic folds), and Reshape, Flatten, Squeeze, Unsqueeze
// (the data is unchanged; the kernel is one copy because outputs never alias inputs).
#include <algorithm>

#include "kernels/tensor/tensor_util.h"

namespace softdpu::runtime {

using kernels::tensor::make_copy_kernel;
using kernels::tensor::normalize_axes;

namespace {

size_t data_bytes(const PrepareContext& ctx, int i) {
  return static_cast<size_t>(shape_numel(ctx.shape(i))) * dtype_size(ctx.dtype(i));
}

// Axes from input `input` (opset >= first_input_opset) or from the "axes" attribute before it.
// Returns false when neither is given.
bool read_axes(const PrepareContext& ctx, int input, int64_t first_input_opset,
               std::vector<int64_t>& axes) {
  if (ctx.opset() >= first_input_opset && ctx.has_input(input)) {
    axes = ctx.constant_ints(input);
    return true;
  }
  if (ctx.has_attr("axes")) {
    axes = ctx.attr_ints("axes");
    return true;
  }
  return false;
}

}  // namespace

std::unique_ptr<Kernel> prepare_Shape(PrepareContext& ctx) {
  const Shape& s = ctx.shape(0);
  const int64_t rank = static_cast<int64_t>(s.size());
  // opset 15 start/end: negative counts from the back, then both clamp to [0, rank].
  int64_t start = ctx.attr_int("start", 0);
  int64_t end = ctx.attr_int("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  Tensor t(DType::kInt64, {std::max<int64_t>(0, end - start)});
  for (int64_t i = start; i < end; ++i) t.data_as<int64_t>()[i - start] = s[i];
  ctx.set_output_constant(0, t);
  return nullptr;
}

std::unique_ptr<Kernel> prepare_Size(PrepareContext& ctx) {
  Tensor t(DType::kInt64, {});
  t.data_as<int64_t>()[0] = shape_numel(ctx.shape(0));
  ctx.set_output_constant(0, t);
  return nullptr;
}

std::unique_ptr<Kernel> prepare_Reshape(PrepareContext& ctx) {
  const Shape& in = ctx.shape(0);
  std::vector<int64_t> target;
  if (ctx.has_input(1)) {
    kernels::tensor::expect_index_type(ctx, 1);
    ctx.expect_rank(1, 1, 1);
    target = ctx.constant_ints(1);
  } else if (ctx.has_attr("shape")) {  // opset < 5
    target = ctx.attr_ints("shape");
  } else {
    ctx.fail("the target shape (input 1) is missing");
  }
  const bool allow_zero = ctx.attr_int("allowzero", 0) != 0;
  const std::string what = "target shape " + shape_to_string(target);
  int infer = -1;
  bool has_zero = false;
  Shape out(target.size());
  for (size_t i = 0; i < target.size(); ++i) {
    const int64_t v = target[i];
    if (v == -1) {
      if (infer >= 0) ctx.fail(what + " has more than one -1");
      infer = static_cast<int>(i);
      out[i] = 1;
    } else if (v < -1) {
      ctx.fail(what + " has the invalid dimension " + std::to_string(v));
    } else if (v == 0 && !allow_zero) {
      if (i >= in.size()) {
        ctx.fail(what + ": 0 at position " + std::to_string(i) +
                 " copies an input dimension, but the input " + shape_to_string(in) + " has rank " +
                 std::to_string(in.size()));
      }
      out[i] = in[i];
    } else {
      has_zero = has_zero || v == 0;
      out[i] = v;
    }
  }
  if (allow_zero && has_zero && infer >= 0) {
    ctx.fail(what + " combines 0 and -1, which allowzero=1 makes ambiguous");
  }
  const int64_t numel = shape_numel(in);
  if (infer >= 0) {
    const int64_t known = shape_numel(out);
    if (known == 0) ctx.fail(what + ": -1 cannot be inferred next to a zero-sized dimension");
    if (numel % known != 0) {
      ctx.fail("cannot reshape " + shape_to_string(in) + " (" + std::to_string(numel) +
               " elements) to " + shape_to_string(target) + ": " + std::to_string(numel) +
               " is not a multiple of " + std::to_string(known));
    }
    out[infer] = numel / known;
  }
  if (shape_numel(out) != numel) {
    ctx.fail("cannot reshape " + shape_to_string(in) + " (" + std::to_string(numel) +
             " elements) to " + shape_to_string(out) + " (" + std::to_string(shape_numel(out)) +
             " elements)");
  }
  ctx.set_output(0, ctx.dtype(0), out);
  return make_copy_kernel(data_bytes(ctx, 0));
}

std::unique_ptr<Kernel> prepare_Flatten(PrepareContext& ctx) {
  const Shape& in = ctx.shape(0);
  const int64_t rank = static_cast<int64_t>(in.size());
  int64_t axis = ctx.attr_int("axis", 1);
  if (axis < -rank || axis > rank) {
    ctx.fail("axis " + std::to_string(axis) + " is out of range [" + std::to_string(-rank) + ", " +
             std::to_string(rank) + "] for input shape " + shape_to_string(in));
  }
  if (axis < 0) axis += rank;
  const int64_t outer = kernels::tensor::prod(in, 0, static_cast<size_t>(axis));
  const int64_t inner = kernels::tensor::prod(in, static_cast<size_t>(axis), in.size());
  ctx.set_output(0, ctx.dtype(0), {outer, inner});
  return make_copy_kernel(data_bytes(ctx, 0));
}

std::unique_ptr<Kernel> prepare_Squeeze(PrepareContext& ctx) {
  const Shape& in = ctx.shape(0);
  const int64_t rank = static_cast<int64_t>(in.size());
  std::vector<int64_t> axes;
  Shape out;
  if (read_axes(ctx, 1, 13, axes)) {
    axes = normalize_axes(ctx, axes, rank, "axes");
    std::vector<bool> drop(in.size(), false);
    for (int64_t a : axes) {
      if (in[a] != 1) {
        ctx.fail("cannot squeeze axis " + std::to_string(a) + " of input shape " +
                 shape_to_string(in) + ": its size is " + std::to_string(in[a]) + ", not 1");
      }
      drop[a] = true;
    }
    for (size_t i = 0; i < in.size(); ++i) {
      if (!drop[i]) out.push_back(in[i]);
    }
  } else {
    for (int64_t d : in) {
      if (d != 1) out.push_back(d);
    }
  }
  ctx.set_output(0, ctx.dtype(0), out);
  return make_copy_kernel(data_bytes(ctx, 0));
}

std::unique_ptr<Kernel> prepare_Unsqueeze(PrepareContext& ctx) {
  const Shape& in = ctx.shape(0);
  std::vector<int64_t> axes;
  if (!read_axes(ctx, 1, 13, axes))
    ctx.fail("axes are required (input 1 from opset 13, attribute before)");
  const int64_t out_rank = static_cast<int64_t>(in.size() + axes.size());
  axes = normalize_axes(ctx, axes, out_rank, "axes");
  std::vector<bool> inserted(out_rank, false);
  for (int64_t a : axes) inserted[a] = true;
  Shape out;
  size_t next = 0;
  for (int64_t i = 0; i < out_rank; ++i) out.push_back(inserted[i] ? 1 : in[next++]);
  ctx.set_output(0, ctx.dtype(0), out);
  return make_copy_kernel(data_bytes(ctx, 0));
}

}  // namespace softdpu::runtime
