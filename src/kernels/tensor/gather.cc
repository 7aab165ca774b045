// Index-driven reads: Gather (whole rows: an embedding lookup is one memcpy per token),
// GatherElements, GatherND, and OneHot (index -> position of the "on" value).
//
// Indices known at plan time are checked there with precise messages. Run-time indices cannot
// be reported from run(), so they are clamped into range (see clamp_index).
#include <algorithm>
#include <array>

#include "kernels/tensor/tensor_util.h"

namespace softdpu::runtime {

using kernels::tensor::clamp_index;
using kernels::tensor::contiguous_strides;
using kernels::tensor::copy_bytes;
using kernels::tensor::kMaxRank;
using kernels::tensor::load_index;
using kernels::tensor::prod;

namespace {

// Checks every value of a constant index input against dim (negative counts from the back).
void check_constant_indices(const PrepareContext& ctx, int i, int64_t dim,
                            const std::string& what) {
  if (!ctx.is_constant(i)) return;
  for (int64_t v : ctx.constant_ints(i)) {
    if (v < -dim || v >= dim) {
      ctx.fail("index " + std::to_string(v) + " in input " + std::to_string(i) +
               " is out of range for " + what + " of size " + std::to_string(dim));
    }
  }
}

}  // namespace

std::unique_ptr<Kernel> prepare_Gather(PrepareContext& ctx) {
  kernels::tensor::expect_data(ctx, 0);
  kernels::tensor::expect_index_type(ctx, 1);
  const Shape& data = ctx.shape(0);
  const Shape& ind = ctx.shape(1);
  if (data.empty()) ctx.fail("cannot gather from a scalar (input 0 has rank 0)");
  const int64_t axis =
      normalize_axis(ctx, ctx.attr_int("axis", 0), static_cast<int64_t>(data.size()));
  const int64_t dim = data[axis];
  const int64_t n = shape_numel(ind);
  if (dim == 0 && n > 0) ctx.fail("cannot gather from axis " + std::to_string(axis) + " of size 0");
  check_constant_indices(ctx, 1, dim, "axis " + std::to_string(axis));
  Shape out(data.begin(), data.begin() + axis);
  out.insert(out.end(), ind.begin(), ind.end());
  out.insert(out.end(), data.begin() + axis + 1, data.end());
  ctx.set_output(0, ctx.dtype(0), out);

  const int64_t outer = prod(data, 0, axis);
  const size_t row =
      static_cast<size_t>(prod(data, axis + 1, data.size())) * dtype_size(ctx.dtype(0));
  const bool is64 = ctx.dtype(1) == DType::kInt64;
  // Rows of at least 4 KiB are worth spreading over threads one by one.
  const int64_t grain =
      std::max<int64_t>(1, static_cast<int64_t>(65536 / std::max<size_t>(row, 1)));
  return make_kernel([=](const KernelArgs& a) {
    const auto* src = static_cast<const uint8_t*>(a.in[0]);
    auto* dst = static_cast<uint8_t*>(a.out[0]);
    const void* idx = a.in[1];
    a.pool->parallel_for(outer * n, grain, [&](int64_t b, int64_t e) {
      for (int64_t u = b; u < e; ++u) {
        const int64_t o = u / n, j = u - o * n;
        const int64_t k = clamp_index(load_index(idx, is64, j), dim);
        copy_bytes(dst + u * row, src + (o * dim + k) * row, row);
      }
    });
  });
}

std::unique_ptr<Kernel> prepare_GatherElements(PrepareContext& ctx) {
  kernels::tensor::expect_data(ctx, 0);
  kernels::tensor::expect_index_type(ctx, 1);
  kernels::tensor::expect_rank_at_most(ctx, 0);
  const Shape& data = ctx.shape(0);
  const Shape& ind = ctx.shape(1);
  const int64_t rank = static_cast<int64_t>(data.size());
  if (rank == 0) ctx.fail("input 0 must have rank >= 1");
  if (static_cast<int64_t>(ind.size()) != rank) {
    ctx.fail("indices " + shape_to_string(ind) + " must have the rank of data " +
             shape_to_string(data));
  }
  const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 0), rank);
  for (int64_t d = 0; d < rank; ++d) {
    if (d != axis && ind[d] > data[d]) {
      ctx.fail("indices " + shape_to_string(ind) + " are larger than data " +
               shape_to_string(data) + " on axis " + std::to_string(d));
    }
  }
  if (data[axis] == 0 && shape_numel(ind) > 0) ctx.fail("cannot gather from an axis of size 0");
  check_constant_indices(ctx, 1, data[axis], "axis " + std::to_string(axis));
  ctx.set_output(0, ctx.dtype(0), ind);
  const std::vector<int64_t> dstride = contiguous_strides(data);
  const size_t elem = dtype_size(ctx.dtype(0));
  const bool is64 = ctx.dtype(1) == DType::kInt64;
  const int64_t n = shape_numel(ind), dim = data[axis];
  return make_kernel([=](const KernelArgs& a) {
    const auto* src = static_cast<const uint8_t*>(a.in[0]);
    auto* dst = static_cast<uint8_t*>(a.out[0]);
    // Odometer over the index shape; base is the data offset of every coordinate but axis.
    std::array<int64_t, kMaxRank> m{};
    int64_t base = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = clamp_index(load_index(a.in[1], is64, i), dim);
      copy_bytes(dst + i * elem, src + (base + k * dstride[axis]) * elem, elem);
      for (int64_t d = rank - 1; d >= 0; --d) {
        const int64_t step = d == axis ? 0 : dstride[d];
        if (++m[d] < ind[d]) {
          base += step;
          break;
        }
        base -= (ind[d] - 1) * step;
        m[d] = 0;
      }
    }
  });
}

std::unique_ptr<Kernel> prepare_GatherND(PrepareContext& ctx) {
  kernels::tensor::expect_data(ctx, 0);
  kernels::tensor::expect_index_type(ctx, 1);
  kernels::tensor::expect_rank_at_most(ctx, 0);
  const Shape& data = ctx.shape(0);
  const Shape& ind = ctx.shape(1);
  const int64_t r = static_cast<int64_t>(data.size()), q = static_cast<int64_t>(ind.size());
  const int64_t b = ctx.attr_int("batch_dims", 0);
  if (r < 1 || q < 1) ctx.fail("data and indices must have rank >= 1");
  if (b < 0 || b >= std::min(r, q)) {
    ctx.fail("batch_dims " + std::to_string(b) +
             " must be in [0, min(rank(data), rank(indices)) = " + std::to_string(std::min(r, q)) +
             ")");
  }
  for (int64_t d = 0; d < b; ++d) {
    if (ind[d] != data[d]) {
      ctx.fail("batch dimension " + std::to_string(d) + " differs: data " + shape_to_string(data) +
               ", indices " + shape_to_string(ind));
    }
  }
  const int64_t k = ind[q - 1];
  if (k < 1 || k > r - b) {
    ctx.fail("the last dimension of indices " + shape_to_string(ind) + " must be in [1, " +
             std::to_string(r - b) + "], got " + std::to_string(k));
  }
  Shape out(ind.begin(), ind.end() - 1);
  out.insert(out.end(), data.begin() + b + k, data.end());
  const std::vector<int64_t> dstride = contiguous_strides(data);
  if (ctx.is_constant(1)) {
    const std::vector<int64_t> v = ctx.constant_ints(1);
    for (size_t i = 0; i < v.size(); ++i) {
      const int64_t dim = data[b + static_cast<int64_t>(i) % k];
      if (v[i] < -dim || v[i] >= dim) {
        ctx.fail("index " + std::to_string(v[i]) + " is out of range for data axis " +
                 std::to_string(b + static_cast<int64_t>(i) % k) + " of size " +
                 std::to_string(dim));
      }
    }
  }
  for (int64_t j = 0; j < k; ++j) {
    if (data[b + j] == 0 && shape_numel(ind) > 0) ctx.fail("cannot gather from an axis of size 0");
  }
  ctx.set_output(0, ctx.dtype(0), out);
  const int64_t batches = prod(data, 0, b);
  const int64_t tuples = prod(ind, b, q - 1);  // per batch
  const int64_t batch_stride = prod(data, b, data.size());
  const size_t elem = dtype_size(ctx.dtype(0));
  const size_t slice = static_cast<size_t>(prod(data, b + k, data.size())) * elem;
  const bool is64 = ctx.dtype(1) == DType::kInt64;
  return make_kernel([=](const KernelArgs& a) {
    const auto* src = static_cast<const uint8_t*>(a.in[0]);
    auto* dst = static_cast<uint8_t*>(a.out[0]);
    for (int64_t bi = 0; bi < batches; ++bi) {
      for (int64_t t = 0; t < tuples; ++t) {
        const int64_t tuple = bi * tuples + t;
        int64_t off = bi * batch_stride;
        for (int64_t j = 0; j < k; ++j) {
          off +=
              clamp_index(load_index(a.in[1], is64, tuple * k + j), data[b + j]) * dstride[b + j];
        }
        copy_bytes(dst + tuple * slice, src + off * static_cast<int64_t>(elem), slice);
      }
    }
  });
}

std::unique_ptr<Kernel> prepare_OneHot(PrepareContext& ctx) {
  const Shape& ind = ctx.shape(0);
  kernels::tensor::expect_data(ctx, 2);
  if (shape_numel(ctx.shape(2)) != 2) {
    ctx.fail("values (input 2) must hold [off_value, on_value], got shape " +
             shape_to_string(ctx.shape(2)));
  }
  // depth decides the output shape; any numeric type is allowed (floats are truncated).
  const double depth_value = kernels::tensor::constant_scalar_double(ctx, 1);
  const int64_t depth = static_cast<int64_t>(depth_value);
  if (depth < 1) ctx.fail("depth must be at least 1, got " + std::to_string(depth_value));
  const int64_t out_rank = static_cast<int64_t>(ind.size()) + 1;
  const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", -1), out_rank);
  Shape out = ind;
  out.insert(out.begin() + axis, depth);
  const DType dt = ctx.dtype(2);
  ctx.set_output(0, dt, out);
  const int64_t outer = prod(ind, 0, axis);
  const int64_t inner = prod(ind, axis, ind.size());
  const size_t elem = dtype_size(dt);
  return kernels::tensor::dispatch_numeric(
      ctx, ctx.dtype(0), [&](auto tag) -> std::unique_ptr<Kernel> {
        using I = decltype(tag);
        return make_kernel([=](const KernelArgs& a) {
          const I* idx = static_cast<const I*>(a.in[0]);
          const auto* values = static_cast<const uint8_t*>(a.in[2]);
          auto* dst = static_cast<uint8_t*>(a.out[0]);
          const int64_t total = outer * depth * inner;
          for (int64_t i = 0; i < total; ++i) copy_bytes(dst + i * elem, values, elem);
          for (int64_t o = 0; o < outer; ++o) {
            for (int64_t i = 0; i < inner; ++i) {
              int64_t v;
              if constexpr (kernels::tensor::kIsFloat<I>) {
                const double dv = kernels::tensor::to_double(idx[o * inner + i]);
                if (!(dv > -2.0 * depth && dv < 2.0 * depth)) continue;  // also NaN
                v = static_cast<int64_t>(dv);
              } else {
                v = static_cast<int64_t>(idx[o * inner + i]);
              }
              if (v < 0) v += depth;
              // Indices outside [-depth, depth) leave an all-"off" column, as ONNX specifies.
              if (v >= 0 && v < depth)
                copy_bytes(dst + ((o * depth + v) * inner + i) * elem, values + elem, elem);
            }
          }
        });
      });
}

}  // namespace softdpu::runtime
