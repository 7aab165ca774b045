// NonZero and Unique: their output shapes depend on the input values, which a static plan cannot
// allow at run time. When the input is known at plan time they are computed here, as constants;
// otherwise prepare reports kNeedsConstant naming the input, so a caller that can pin it (the
// conformance runner freezes such inputs) knows which value to provide.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/tensor/tensor_util.h"

namespace softdpu::runtime {

using kernels::tensor::prod;

namespace {

const void* data_known_now(const PrepareContext& ctx, const char* why) {
  if (!ctx.is_constant(0)) {
    const std::string& name = ctx.input(0).name;
    throw Error(StatusCode::kNeedsConstant,
                ctx.prefix() + "input 0 ('" + name + "') must be known at plan time: " + why +
                    ", and softdpu plans every shape ahead of the run",
                name);
  }
  return ctx.constant_data(0);
}

// Three-way compare where NaN is above every number and equal to itself (a total order).
template <typename A>
int compare(A a, A b) {
  if constexpr (std::is_floating_point_v<A>) {
    const bool na = std::isnan(a), nb = std::isnan(b);
    if (na || nb) return na == nb ? 0 : (na ? 1 : -1);
  }
  return a < b ? -1 : (b < a ? 1 : 0);
}

}  // namespace

std::unique_ptr<Kernel> prepare_NonZero(PrepareContext& ctx) {
  kernels::tensor::expect_data(ctx, 0);
  const void* data = data_known_now(ctx, "NonZero's output shape is the number of non-zero values");
  const Shape& in = ctx.shape(0);
  const int64_t n = shape_numel(in), rank = static_cast<int64_t>(in.size());
  std::vector<int64_t> hits;
  kernels::tensor::dispatch_dtype(ctx, ctx.dtype(0), [&](auto tag) {
    using T = decltype(tag);
    const T* p = static_cast<const T*>(data);
    for (int64_t i = 0; i < n; ++i) {
      if (static_cast<kernels::tensor::Acc<T>>(p[i]) != kernels::tensor::Acc<T>(0))
        hits.push_back(i);
    }
  });
  const int64_t nnz = static_cast<int64_t>(hits.size());
  Tensor out(DType::kInt64, {rank, nnz});
  const std::vector<int64_t> strides = kernels::tensor::contiguous_strides(in);
  for (int64_t j = 0; j < nnz; ++j) {
    for (int64_t d = 0; d < rank; ++d)
      out.data_as<int64_t>()[d * nnz + j] = hits[j] / strides[d] % in[d];
  }
  ctx.set_output_constant(0, out);
  return nullptr;
}

std::unique_ptr<Kernel> prepare_Unique(PrepareContext& ctx) {
  kernels::tensor::expect_data(ctx, 0);
  const void* data = data_known_now(ctx, "Unique's output shape is the number of distinct values");
  const Shape& in = ctx.shape(0);
  const bool sorted = ctx.attr_int("sorted", 1) != 0;
  const bool flat = !ctx.has_attr("axis");
  int64_t axis = 0, outer = 1, dim = shape_numel(in), inner = 1;
  if (!flat) {
    axis = normalize_axis(ctx, ctx.attr_int("axis", 0), static_cast<int64_t>(in.size()));
    outer = prod(in, 0, axis);
    dim = in[axis];
    inner = prod(in, axis + 1, in.size());
  }
  // Slices j = 0..dim-1 of the [outer, dim, inner] view are the items compared (single elements
  // when flattened), lexicographically in (outer, inner) order.
  std::vector<int64_t> order(dim);
  std::iota(order.begin(), order.end(), int64_t{0});
  std::vector<int64_t> group(dim);  // slice -> index of its distinct value in sorted order
  int64_t groups = 0;
  kernels::tensor::dispatch_dtype(ctx, ctx.dtype(0), [&](auto tag) {
    using T = decltype(tag);
    using A = kernels::tensor::Acc<T>;
    const T* p = static_cast<const T*>(data);
    auto cmp = [&](int64_t a, int64_t b) {
      for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
          const int c = compare<A>(static_cast<A>(p[(o * dim + a) * inner + i]),
                                   static_cast<A>(p[(o * dim + b) * inner + i]));
          if (c) return c;
        }
      }
      return 0;
    };
    // Stable: within a run of equal slices the first occurrence comes first.
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return cmp(a, b) < 0; });
    for (int64_t s = 0; s < dim; ++s) {
      if (s > 0 && cmp(order[s - 1], order[s]) != 0) ++groups;
      group[order[s]] = groups;
    }
    if (dim > 0) ++groups;
  });
  // first[g]: first occurrence of distinct value g; rank[g]: its position in the output.
  std::vector<int64_t> first(groups, -1), counts(groups, 0), rank(groups);
  for (int64_t j = 0; j < dim; ++j) {
    if (first[group[j]] < 0) first[group[j]] = j;
    ++counts[group[j]];
  }
  std::vector<int64_t> out_order(groups);  // output position -> group
  std::iota(out_order.begin(), out_order.end(), int64_t{0});
  if (!sorted) {
    std::sort(out_order.begin(), out_order.end(),
              [&](int64_t a, int64_t b) { return first[a] < first[b]; });
  }
  for (int64_t u = 0; u < groups; ++u) rank[out_order[u]] = u;

  Shape y_shape = flat ? Shape{groups} : in;
  if (!flat) y_shape[axis] = groups;
  Tensor y(ctx.dtype(0), y_shape), indices(DType::kInt64, {groups}), inverse(DType::kInt64, {dim}),
      count(DType::kInt64, {groups});
  const size_t row = static_cast<size_t>(inner) * dtype_size(ctx.dtype(0));
  const auto* src = static_cast<const uint8_t*>(data);
  auto* dst = static_cast<uint8_t*>(y.data());
  for (int64_t u = 0; u < groups; ++u) {
    const int64_t g = out_order[u];
    indices.data_as<int64_t>()[u] = first[g];
    count.data_as<int64_t>()[u] = counts[g];
    for (int64_t o = 0; o < outer; ++o) {
      std::memcpy(dst + (o * groups + u) * row, src + (o * dim + first[g]) * row, row);
    }
  }
  for (int64_t j = 0; j < dim; ++j) inverse.data_as<int64_t>()[j] = rank[group[j]];
  ctx.set_output_constant(0, y);
  ctx.set_output_constant(1, indices);
  ctx.set_output_constant(2, inverse);
  ctx.set_output_constant(3, count);
  return nullptr;
}

}  // namespace softdpu::runtime
