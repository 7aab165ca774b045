// Concat and Split: seen as [outer, axis * inner] matrices, each input (output) is a column block
// of the whole, so each becomes one StridedCopy of `outer` rows of contiguous bytes.
#include "kernels/tensor/copy_plan.h"
#include "kernels/tensor/tensor_util.h"

namespace softdpu::runtime {

using kernels::tensor::prod;
using kernels::tensor::StridedCopy;

std::unique_ptr<Kernel> prepare_Concat(PrepareContext& ctx) {
  if (ctx.num_inputs() < 1) ctx.fail("needs at least one input");
  if (!ctx.has_attr("axis")) ctx.fail("attribute 'axis' is required");
  kernels::tensor::expect_data(ctx, 0);
  const Shape& first = ctx.shape(0);
  const int64_t rank = static_cast<int64_t>(first.size());
  if (rank == 0) ctx.fail("cannot concatenate scalars (input 0 has rank 0)");
  const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 0), rank);
  const DType dt = ctx.dtype(0);
  Shape out = first;
  out[axis] = 0;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const Shape& s = ctx.shape(i);
    if (ctx.dtype(i) != dt) {
      ctx.fail("input " + std::to_string(i) + " has type " + dtype_name(ctx.dtype(i)) +
               ", input 0 has " + dtype_name(dt));
    }
    bool ok = static_cast<int64_t>(s.size()) == rank;
    for (int64_t d = 0; ok && d < rank; ++d) ok = d == axis || s[d] == first[d];
    if (!ok) {
      ctx.fail("input " + std::to_string(i) + " has shape " + shape_to_string(s) +
               ", which does not match input 0 " + shape_to_string(first) + " outside axis " +
               std::to_string(axis));
    }
    out[axis] += s[axis];
  }
  const int64_t outer = prod(first, 0, axis);
  const int64_t inner = prod(first, axis + 1, first.size());
  const int64_t out_row = out[axis] * inner;
  std::vector<StridedCopy> plans;
  int64_t offset = 0;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const int64_t row = ctx.shape(i)[axis] * inner;
    plans.emplace_back(dtype_size(dt), Shape{outer, row}, std::vector<int64_t>{row, 1},
                       std::vector<int64_t>{out_row, 1}, 0, offset);
    offset += row;
  }
  ctx.set_output(0, dt, out);
  return make_kernel([plans = std::move(plans)](const KernelArgs& a) {
    for (size_t i = 0; i < plans.size(); ++i) plans[i].run(a.in[i], a.out[0], a.pool);
  });
}

std::unique_ptr<Kernel> prepare_Split(PrepareContext& ctx) {
  kernels::tensor::expect_data(ctx, 0);
  const Shape& in = ctx.shape(0);
  const int64_t rank = static_cast<int64_t>(in.size());
  if (rank == 0) ctx.fail("cannot split a scalar");
  const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 0), rank);
  const int64_t dim = in[axis];
  const int n = ctx.num_outputs();
  std::vector<int64_t> sizes;
  if (ctx.opset() >= 13 && ctx.has_input(1)) {
    kernels::tensor::expect_index_type(ctx, 1);
    sizes = ctx.constant_ints(1);
  } else if (ctx.has_attr("split")) {
    sizes = ctx.attr_ints("split");
  } else if (ctx.has_attr("num_outputs")) {
    // opset 18: chunks of ceil(dim / n), the last one smaller.
    const int64_t k = ctx.attr_int("num_outputs", n);
    if (k != n)
      ctx.fail("num_outputs is " + std::to_string(k) + " but the node has " + std::to_string(n) +
               " outputs");
    const int64_t chunk = (dim + n - 1) / n;
    for (int i = 0; i < n; ++i)
      sizes.push_back(std::max<int64_t>(0, std::min(chunk, dim - chunk * i)));
  } else {
    if (dim % n != 0) {
      ctx.fail("axis " + std::to_string(axis) + " of shape " + shape_to_string(in) + " (size " +
               std::to_string(dim) + ") does not split into " + std::to_string(n) + " equal parts");
    }
    sizes.assign(n, dim / n);
  }
  if (static_cast<int>(sizes.size()) != n) {
    ctx.fail("split sizes " + shape_to_string(sizes) + " give " + std::to_string(sizes.size()) +
             " parts, the node has " + std::to_string(n) + " outputs");
  }
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) ctx.fail("split sizes " + shape_to_string(sizes) + " have a negative entry");
    total += s;
  }
  if (total != dim) {
    ctx.fail("split sizes " + shape_to_string(sizes) + " sum to " + std::to_string(total) +
             ", axis " + std::to_string(axis) + " of shape " + shape_to_string(in) + " has size " +
             std::to_string(dim));
  }
  const int64_t outer = prod(in, 0, axis);
  const int64_t inner = prod(in, axis + 1, in.size());
  const size_t elem = dtype_size(ctx.dtype(0));
  std::vector<StridedCopy> plans;
  int64_t offset = 0;
  for (int i = 0; i < n; ++i) {
    Shape s = in;
    s[axis] = sizes[i];
    ctx.set_output(i, ctx.dtype(0), s);
    const int64_t row = sizes[i] * inner;
    plans.emplace_back(elem, Shape{outer, row}, std::vector<int64_t>{dim * inner, 1},
                       std::vector<int64_t>{row, 1}, offset, 0);
    offset += row;
  }
  return make_kernel([plans = std::move(plans)](const KernelArgs& a) {
    for (size_t i = 0; i < plans.size(); ++i) {
      if (a.out[i]) plans[i].run(a.in[0], a.out[i], a.pool);
    }
  });
}

}  // namespace softdpu::runtime
