// Ops that permute or replicate elements without changing them: Transpose, DepthToSpace,
// SpaceToDepth, Expand, Tile. Each is one StridedCopy built at plan time: the op's index algebra
// becomes source strides over the output box, and the plan picks memcpy blocks or a blocked
// transpose from them.
#include "kernels/tensor/copy_plan.h"
#include "kernels/tensor/tensor_util.h"

namespace softdpu::runtime {

using kernels::tensor::contiguous_strides;
using kernels::tensor::StridedCopy;

namespace {

std::unique_ptr<Kernel> copy_kernel(StridedCopy plan) {
  return make_kernel(
      [plan = std::move(plan)](const KernelArgs& a) { plan.run(a.in[0], a.out[0], a.pool); });
}

// Output box `dims` read from input 0 with the given source strides into a contiguous output.
std::unique_ptr<Kernel> strided_output(PrepareContext& ctx, const Shape& out_shape,
                                       const Shape& dims, const std::vector<int64_t>& src_strides) {
  ctx.set_output(0, ctx.dtype(0), out_shape);
  return copy_kernel(
      StridedCopy(dtype_size(ctx.dtype(0)), dims, src_strides, contiguous_strides(dims)));
}

}  // namespace

std::unique_ptr<Kernel> prepare_Transpose(PrepareContext& ctx) {
  kernels::tensor::expect_data(ctx, 0);
  const Shape& in = ctx.shape(0);
  const size_t rank = in.size();
  std::vector<int64_t> perm = ctx.attr_ints("perm");
  if (!ctx.has_attr("perm")) {
    for (size_t i = 0; i < rank; ++i) perm.push_back(static_cast<int64_t>(rank - 1 - i));
  }
  if (perm.size() != rank) {
    ctx.fail("perm " + shape_to_string(perm) + " has " + std::to_string(perm.size()) +
             " entries, the input " + shape_to_string(in) + " has rank " + std::to_string(rank));
  }
  std::vector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(rank) || seen[p]) {
      ctx.fail("perm " + shape_to_string(perm) + " is not a permutation of 0.." +
               std::to_string(rank - 1));
    }
    seen[p] = true;
  }
  const std::vector<int64_t> in_strides = contiguous_strides(in);
  Shape out(rank);
  std::vector<int64_t> src(rank);
  for (size_t i = 0; i < rank; ++i) {
    out[i] = in[perm[i]];
    src[i] = in_strides[perm[i]];
  }
  return strided_output(ctx, out, out, src);
}

std::unique_ptr<Kernel> prepare_DepthToSpace(PrepareContext& ctx) {
  kernels::tensor::expect_data(ctx, 0);
  ctx.expect_rank(0, 4, 4);
  const Shape& in = ctx.shape(0);
  const int64_t b = ctx.attr_int("blocksize", 0);
  const std::string mode = ctx.attr_string("mode", "DCR");
  if (b <= 0) ctx.fail("blocksize must be positive, got " + std::to_string(b));
  if (mode != "DCR" && mode != "CRD") ctx.fail("mode must be DCR or CRD, got '" + mode + "'");
  const int64_t n = in[0], c = in[1], h = in[2], w = in[3];
  if (c % (b * b) != 0) {
    ctx.fail("input channels " + std::to_string(c) +
             " are not a multiple of blocksize^2 = " + std::to_string(b * b));
  }
  const int64_t oc = c / (b * b);
  // Output viewed as (n, oc, h, b1, w, b2). DCR reads channel (b1*b + b2)*oc + oc_i;
  // CRD reads channel oc_i*b*b + b1*b + b2.
  const int64_t hw = h * w;
  const Shape dims = {n, oc, h, b, w, b};
  std::vector<int64_t> src;
  if (mode == "DCR") {
    src = {c * hw, hw, w, b * oc * hw, 1, oc * hw};
  } else {
    src = {c * hw, b * b * hw, w, b * hw, 1, hw};
  }
  return strided_output(ctx, {n, oc, h * b, w * b}, dims, src);
}

std::unique_ptr<Kernel> prepare_SpaceToDepth(PrepareContext& ctx) {
  kernels::tensor::expect_data(ctx, 0);
  ctx.expect_rank(0, 4, 4);
  const Shape& in = ctx.shape(0);
  const int64_t b = ctx.attr_int("blocksize", 0);
  if (b <= 0) ctx.fail("blocksize must be positive, got " + std::to_string(b));
  const int64_t n = in[0], c = in[1], h = in[2], w = in[3];
  if (h % b != 0 || w % b != 0) {
    ctx.fail("input height and width " + std::to_string(h) + "x" + std::to_string(w) +
             " are not multiples of blocksize " + std::to_string(b));
  }
  // Output viewed as (n, b1, b2, c, h/b, w/b), reading input (n, c, y*b + b1, x*b + b2).
  const Shape dims = {n, b, b, c, h / b, w / b};
  const std::vector<int64_t> src = {c * h * w, w, 1, h * w, b * w, b};
  return strided_output(ctx, {n, c * b * b, h / b, w / b}, dims, src);
}

std::unique_ptr<Kernel> prepare_Expand(PrepareContext& ctx) {
  kernels::tensor::expect_data(ctx, 0);
  kernels::tensor::expect_index_type(ctx, 1);
  ctx.expect_rank(1, 1, 1);
  const Shape& in = ctx.shape(0);
  const std::vector<int64_t> target = ctx.constant_ints(1);
  for (int64_t d : target) {
    if (d < 0) ctx.fail("shape " + shape_to_string(target) + " has a negative dimension");
  }
  const Shape out = broadcast_shapes(ctx, in, target);
  const std::vector<int64_t> in_strides = contiguous_strides(in);
  std::vector<int64_t> src(out.size(), 0);
  const size_t lead = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) src[lead + i] = in[i] == 1 ? 0 : in_strides[i];
  return strided_output(ctx, out, out, src);
}

std::unique_ptr<Kernel> prepare_Tile(PrepareContext& ctx) {
  kernels::tensor::expect_data(ctx, 0);
  kernels::tensor::expect_index_type(ctx, 1);
  const Shape& in = ctx.shape(0);
  const std::vector<int64_t> repeats = ctx.constant_ints(1);
  if (repeats.size() != in.size()) {
    ctx.fail("repeats " + shape_to_string(repeats) + " must have one entry per input dimension (" +
             std::to_string(in.size()) + " for shape " + shape_to_string(in) + ")");
  }
  // Output dim i, index r*in[i] + j, is the pair (r, j): the box interleaves repeat loops
  // (source stride 0) with the input's own loops.
  const std::vector<int64_t> in_strides = contiguous_strides(in);
  Shape out, dims;
  std::vector<int64_t> src;
  for (size_t i = 0; i < in.size(); ++i) {
    if (repeats[i] < 0) ctx.fail("repeats " + shape_to_string(repeats) + " has a negative entry");
    out.push_back(in[i] * repeats[i]);
    dims.insert(dims.end(), {repeats[i], in[i]});
    src.insert(src.end(), {0, in_strides[i]});
  }
  return strided_output(ctx, out, dims, src);
}

}  // namespace softdpu::runtime
