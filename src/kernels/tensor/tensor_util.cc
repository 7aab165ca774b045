#include "kernels/tensor/tensor_util.h"

#include <algorithm>

namespace softdpu::kernels::tensor {

namespace {
std::string input_label(const PrepareContext& ctx, int i) {
  return "input " + std::to_string(i) + " ('" + ctx.input(i).name + "')";
}
}  // namespace

std::vector<double> constant_doubles(const PrepareContext& ctx, int i) {
  const void* p = ctx.constant_data(i);
  const int64_t n = shape_numel(ctx.shape(i));
  std::vector<double> v(static_cast<size_t>(n));
  dispatch_dtype(ctx, ctx.dtype(i), [&](auto tag) {
    using T = decltype(tag);
    const T* d = static_cast<const T*>(p);
    for (int64_t k = 0; k < n; ++k) v[k] = to_double(d[k]);
  });
  return v;
}

int64_t constant_scalar_int(const PrepareContext& ctx, int i) {
  std::vector<int64_t> v = ctx.constant_ints(i);
  if (v.size() != 1) {
    ctx.fail(input_label(ctx, i) + " must hold exactly one value, got shape " +
             shape_to_string(ctx.shape(i)));
  }
  return v[0];
}

double constant_scalar_double(const PrepareContext& ctx, int i) {
  std::vector<double> v = constant_doubles(ctx, i);
  if (v.size() != 1) {
    ctx.fail(input_label(ctx, i) + " must hold exactly one value, got shape " +
             shape_to_string(ctx.shape(i)));
  }
  return v[0];
}

std::vector<int64_t> normalize_axes(const PrepareContext& ctx, std::vector<int64_t> axes,
                                    int64_t rank, const std::string& what) {
  std::vector<bool> seen(static_cast<size_t>(std::max<int64_t>(rank, 0)), false);
  for (int64_t& a : axes) {
    if (a < -rank || a >= rank) {
      ctx.fail(what + " " + ints_to_string(axes) + ": axis " + std::to_string(a) +
               " is out of range for rank " + std::to_string(rank));
    }
    if (a < 0) a += rank;
    if (seen[a]) ctx.fail(what + " " + ints_to_string(axes) + " repeat axis " + std::to_string(a));
    seen[a] = true;
  }
  return axes;
}

std::vector<uint8_t> scalar_bytes(const PrepareContext& ctx, DType t, double v) {
  std::vector<uint8_t> bytes(dtype_size(t));
  dispatch_dtype(ctx, t, [&](auto tag) {
    using T = decltype(tag);
    const T x = from_double<T>(v);
    std::memcpy(bytes.data(), &x, sizeof(T));
  });
  return bytes;
}

void parallel_memcpy(void* dst, const void* src, size_t n, ThreadPool* pool) {
  // Below ~256 KiB a single core copies faster than the pool wakes up.
  constexpr int64_t kChunk = 256 * 1024;
  const int64_t chunks = static_cast<int64_t>((n + kChunk - 1) / kChunk);
  if (chunks <= 1 || pool->threads() <= 1) {
    if (n) std::memcpy(dst, src, n);
    return;
  }
  pool->parallel_for(chunks, 1, [&](int64_t b, int64_t e) {
    const size_t lo = static_cast<size_t>(b * kChunk);
    const size_t hi = std::min(n, static_cast<size_t>(e * kChunk));
    std::memcpy(static_cast<uint8_t*>(dst) + lo, static_cast<const uint8_t*>(src) + lo, hi - lo);
  });
}

std::unique_ptr<runtime::Kernel> make_copy_kernel(size_t bytes) {
  return runtime::make_kernel(
      [bytes](const runtime::KernelArgs& a) { parallel_memcpy(a.out[0], a.in[0], bytes, a.pool); });
}

}  // namespace softdpu::kernels::tensor
