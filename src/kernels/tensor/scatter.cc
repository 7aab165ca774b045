// Index-driven writes: ScatterElements (and its opset-9 name Scatter) and ScatterND. The output
// starts as a copy of data; updates are then written, or combined with add/mul/max/min, in index
// order (so with duplicate indices and no reduction the last update wins, as in the ONNX
// reference). Run-time indices out of range are skipped: run() cannot report them.
#include <algorithm>
#include <array>

#include "kernels/tensor/tensor_util.h"

namespace softdpu::runtime {

using kernels::tensor::contiguous_strides;
using kernels::tensor::kMaxRank;
using kernels::tensor::load_index;
using kernels::tensor::prod;

namespace {

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

Reduction read_reduction(const PrepareContext& ctx) {
  const std::string r = ctx.attr_string("reduction", "none");
  if (r == "none") return Reduction::kNone;
  if (r == "add") return Reduction::kAdd;
  if (r == "mul") return Reduction::kMul;
  if (r == "max") return Reduction::kMax;
  if (r == "min") return Reduction::kMin;
  ctx.fail("reduction must be none, add, mul, max or min, got '" + r + "'");
}

// Applies n update elements to dst with the reduction, in T's arithmetic.
template <typename T>
void combine(T* dst, const T* src, int64_t n, Reduction r) {
  using A = kernels::tensor::Acc<T>;
  for (int64_t i = 0; i < n; ++i) {
    const A d = static_cast<A>(dst[i]), s = static_cast<A>(src[i]);
    switch (r) {
      case Reduction::kNone: dst[i] = src[i]; break;
      case Reduction::kAdd: dst[i] = T(static_cast<A>(d + s)); break;
      case Reduction::kMul: dst[i] = T(static_cast<A>(d * s)); break;
      case Reduction::kMax: dst[i] = T(std::max(d, s)); break;
      case Reduction::kMin: dst[i] = T(std::min(d, s)); break;
    }
  }
}

using CombineFn = void (*)(void* dst, const void* src, int64_t n, Reduction r);

// The combine function for the data type: a byte copy without reduction (every type), the typed
// arithmetic otherwise (numeric types only).
CombineFn combine_fn(const PrepareContext& ctx, DType dt, Reduction r) {
  if (r == Reduction::kNone) return nullptr;
  return kernels::tensor::dispatch_numeric(ctx, dt, [](auto tag) -> CombineFn {
    using T = decltype(tag);
    return [](void* d, const void* s, int64_t n, Reduction red) {
      combine(static_cast<T*>(d), static_cast<const T*>(s), n, red);
    };
  });
}

void check_updates_type(const PrepareContext& ctx) {
  if (ctx.dtype(2) != ctx.dtype(0)) {
    ctx.fail(std::string("updates (input 2) have type ") + dtype_name(ctx.dtype(2)) +
             ", data has " + dtype_name(ctx.dtype(0)));
  }
}

std::unique_ptr<Kernel> scatter_elements(PrepareContext& ctx, Reduction red) {
  kernels::tensor::expect_data(ctx, 0);
  kernels::tensor::expect_index_type(ctx, 1);
  kernels::tensor::expect_rank_at_most(ctx, 0);
  check_updates_type(ctx);
  const Shape& data = ctx.shape(0);
  const Shape& ind = ctx.shape(1);
  const int64_t rank = static_cast<int64_t>(data.size());
  if (rank == 0) ctx.fail("data must have rank >= 1");
  if (ctx.shape(2) != ind) {
    ctx.fail("updates " + shape_to_string(ctx.shape(2)) + " must have the shape of indices " +
             shape_to_string(ind));
  }
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
  const int64_t dim = data[axis];
  if (ctx.is_constant(1)) {
    for (int64_t v : ctx.constant_ints(1)) {
      if (v < -dim || v >= dim) {
        ctx.fail("index " + std::to_string(v) + " is out of range for axis " +
                 std::to_string(axis) + " of size " + std::to_string(dim));
      }
    }
  }
  ctx.set_output(0, ctx.dtype(0), data);
  const CombineFn fn = combine_fn(ctx, ctx.dtype(0), red);
  const std::vector<int64_t> dstride = contiguous_strides(data);
  const size_t elem = dtype_size(ctx.dtype(0));
  const size_t bytes = static_cast<size_t>(shape_numel(data)) * elem;
  const bool is64 = ctx.dtype(1) == DType::kInt64;
  const int64_t n = shape_numel(ind);
  return make_kernel([=](const KernelArgs& a) {
    kernels::tensor::parallel_memcpy(a.out[0], a.in[0], bytes, a.pool);
    auto* dst = static_cast<uint8_t*>(a.out[0]);
    const auto* upd = static_cast<const uint8_t*>(a.in[2]);
    std::array<int64_t, kMaxRank> m{};
    int64_t base = 0;  // data offset of every coordinate but axis
    for (int64_t i = 0; i < n; ++i) {
      int64_t k = load_index(a.in[1], is64, i);
      if (k < 0) k += dim;
      if (k >= 0 && k < dim) {
        uint8_t* p = dst + (base + k * dstride[axis]) * static_cast<int64_t>(elem);
        if (fn) {
          fn(p, upd + i * elem, 1, red);
        } else {
          kernels::tensor::copy_bytes(p, upd + i * elem, elem);
        }
      }
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

}  // namespace

std::unique_ptr<Kernel> prepare_ScatterElements(PrepareContext& ctx) {
  return scatter_elements(ctx, read_reduction(ctx));
}

std::unique_ptr<Kernel> prepare_Scatter(PrepareContext& ctx) {
  return scatter_elements(ctx, Reduction::kNone);
}

std::unique_ptr<Kernel> prepare_ScatterND(PrepareContext& ctx) {
  kernels::tensor::expect_data(ctx, 0);
  kernels::tensor::expect_index_type(ctx, 1);
  check_updates_type(ctx);
  const Reduction red = read_reduction(ctx);
  const Shape& data = ctx.shape(0);
  const Shape& ind = ctx.shape(1);
  const int64_t r = static_cast<int64_t>(data.size()), q = static_cast<int64_t>(ind.size());
  if (r < 1 || q < 1) ctx.fail("data and indices must have rank >= 1");
  const int64_t k = ind[q - 1];
  if (k < 1 || k > r) {
    ctx.fail("the last dimension of indices " + shape_to_string(ind) + " must be in [1, " +
             std::to_string(r) + "], got " + std::to_string(k));
  }
  Shape upd_shape(ind.begin(), ind.end() - 1);
  upd_shape.insert(upd_shape.end(), data.begin() + k, data.end());
  if (ctx.shape(2) != upd_shape) {
    ctx.fail("updates have shape " + shape_to_string(ctx.shape(2)) + ", expected " +
             shape_to_string(upd_shape) + " (indices.shape[:-1] + data.shape[" + std::to_string(k) +
             ":])");
  }
  if (ctx.is_constant(1)) {
    const std::vector<int64_t> v = ctx.constant_ints(1);
    for (size_t i = 0; i < v.size(); ++i) {
      const int64_t d = static_cast<int64_t>(i) % k;
      if (v[i] < -data[d] || v[i] >= data[d]) {
        ctx.fail("index " + std::to_string(v[i]) + " is out of range for data axis " +
                 std::to_string(d) + " of size " + std::to_string(data[d]));
      }
    }
  }
  ctx.set_output(0, ctx.dtype(0), data);
  const CombineFn fn = combine_fn(ctx, ctx.dtype(0), red);
  const std::vector<int64_t> dstride = contiguous_strides(data);
  const size_t elem = dtype_size(ctx.dtype(0));
  const size_t bytes = static_cast<size_t>(shape_numel(data)) * elem;
  const int64_t slice = prod(data, k, data.size());
  const int64_t tuples = prod(ind, 0, q - 1);
  const bool is64 = ctx.dtype(1) == DType::kInt64;
  return make_kernel([=](const KernelArgs& a) {
    kernels::tensor::parallel_memcpy(a.out[0], a.in[0], bytes, a.pool);
    auto* dst = static_cast<uint8_t*>(a.out[0]);
    const auto* upd = static_cast<const uint8_t*>(a.in[2]);
    for (int64_t t = 0; t < tuples; ++t) {
      int64_t off = 0;
      bool valid = true;
      for (int64_t j = 0; j < k; ++j) {
        int64_t v = load_index(a.in[1], is64, t * k + j);
        if (v < 0) v += data[j];
        valid = valid && v >= 0 && v < data[j];
        off += v * dstride[j];
      }
      if (!valid) continue;
      uint8_t* p = dst + off * static_cast<int64_t>(elem);
      const uint8_t* s = upd + t * slice * static_cast<int64_t>(elem);
      if (fn) {
        fn(p, s, slice, red);
      } else {
        std::memcpy(p, s, static_cast<size_t>(slice) * elem);
      }
    }
  });
}

}  // namespace softdpu::runtime
