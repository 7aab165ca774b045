// Identity and Dropout: copies (the planner gives outputs their own buffers).
//
// Dropout is an identity at inference. When training_mode is true (Dropout-12+, only knowable
// at run time when it is a graph input) it drops elements with probability `ratio` and scales the
// rest by 1 / (1 - ratio). The draws reproduce the ONNX reference exactly: numpy's legacy
// RandomState seeded with the `seed` attribute, i.e. MT19937 (init_genrand) and 53-bit uniforms,
// one per element in order. A fresh generator per run keeps run() a pure function; the draw is
// sequential, which is fine for a training-only path.
#include <algorithm>
#include <cstring>
#include <random>
#include <type_traits>

#include "kernels/elementwise/loops.h"

namespace softdpu::runtime {
namespace {

using namespace kernels::ew;

void parallel_copy(const void* in, void* out, int64_t bytes, ThreadPool* pool) {
  constexpr int64_t kGrainBytes = int64_t{1} << 18;
  const auto* src = static_cast<const uint8_t*>(in);
  auto* dst = static_cast<uint8_t*>(out);
  pool->parallel_for(bytes, kGrainBytes, [&](int64_t b, int64_t e) {
    std::memcpy(dst + b, src + b, static_cast<size_t>(e - b));
  });
}

double read_ratio(DType t, const void* r) {
  switch (t) {
    case DType::kFloat64: return *static_cast<const double*>(r);
    case DType::kFloat16: return load(*static_cast<const Float16*>(r));
    case DType::kBFloat16: return load(*static_cast<const BFloat16*>(r));
    default: return *static_cast<const float*>(r);
  }
}

template <class T, class M>
void dropout_train(const T* x, T* y, M* mask, int64_t n, double ratio, uint32_t seed) {
  using C = compute_t<T>;
  const C scale = ratio < 1 ? static_cast<C>(1.0 / (1.0 - ratio)) : C(0);
  std::mt19937 rng(seed);
  for (int64_t i = 0; i < n; ++i) {
    // numpy random_sample: (a >> 5) * 2^26 + (b >> 6), over 2^53.
    uint32_t a = static_cast<uint32_t>(rng()) >> 5, b = static_cast<uint32_t>(rng()) >> 6;
    double u = (a * 67108864.0 + b) / 9007199254740992.0;
    bool keep = u >= ratio;
    y[i] = store<T>(keep ? load(x[i]) * scale : C(0));
    if (mask) mask[i] = store<M>(keep ? 1 : 0);
  }
}

template <class T>
std::unique_ptr<Kernel> dropout_kernel(PrepareContext& ctx) {
  const Shape& shape = ctx.shape(0);
  const int64_t n = shape_numel(shape);
  ctx.set_output(0, dtype_of<T>, shape);
  const bool want_mask = ctx.has_output(1);
  // Dropout-7..9 typed the mask like the data; Dropout-10+ made it bool.
  const bool bool_mask = ctx.opset() >= 10;
  if (want_mask) ctx.set_output(1, bool_mask ? DType::kBool : dtype_of<T>, shape);

  // Training mode from input 2 (opset 12+): constant false (or absent) is plain inference.
  bool maybe_training = false;
  double const_ratio = 0.5;
  bool ratio_known = true;
  if (ctx.opset() >= 12) {
    if (ctx.has_input(2)) {
      ctx.expect_dtype(2, {DType::kBool});
      maybe_training = !ctx.is_constant(2) || *ctx.constant_as<bool>(2);
    }
    if (ctx.has_input(1)) {
      ctx.expect_dtype(1, {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16});
      ctx.check(shape_numel(ctx.shape(1)) == 1,
                "input 'ratio' must be a scalar, got shape " + shape_to_string(ctx.shape(1)));
      ratio_known = ctx.is_constant(1);
      if (ratio_known) const_ratio = read_ratio(ctx.dtype(1), ctx.constant_data(1));
    }
  }
  const DType ratio_type = ctx.has_input(1) && ctx.opset() >= 12 ? ctx.dtype(1) : DType::kFloat32;
  const uint32_t seed = static_cast<uint32_t>(ctx.attr_int("seed", 0));

  return make_kernel([=](const KernelArgs& args) {
    const T* x = static_cast<const T*>(args.in[0]);
    T* y = static_cast<T*>(args.out[0]);
    bool training =
        maybe_training && (args.in[2] == nullptr || *static_cast<const bool*>(args.in[2]));
    double ratio = const_ratio;
    if (!ratio_known && args.in[1]) ratio = read_ratio(ratio_type, args.in[1]);
    void* mask = want_mask ? args.out[1] : nullptr;
    if (!training || ratio <= 0) {
      parallel_copy(x, y, n * static_cast<int64_t>(sizeof(T)), args.pool);
      if (!mask) return;
      if (bool_mask) {
        std::memset(mask, 1, static_cast<size_t>(n));
      } else {
        T one = store<T>(compute_t<T>(1));
        std::fill_n(static_cast<T*>(mask), n, one);
      }
      return;
    }
    if (bool_mask) {
      dropout_train(x, y, static_cast<bool*>(mask), n, ratio, seed);
    } else {
      dropout_train(x, y, static_cast<T*>(mask), n, ratio, seed);
    }
  });
}

}  // namespace

std::unique_ptr<Kernel> prepare_Identity(PrepareContext& ctx) {
  const DType t = ctx.dtype(0);
  if (!dtype_is_supported(t)) {
    ctx.unsupported(std::string("input 0 ('") + ctx.input(0).name + "') has type " + dtype_name(t) +
                    ", which softdpu tensors cannot hold");
  }
  const int64_t bytes = shape_numel(ctx.shape(0)) * static_cast<int64_t>(dtype_size(t));
  ctx.set_output(0, t, ctx.shape(0));
  return make_kernel([bytes](const KernelArgs& args) {
    parallel_copy(args.in[0], args.out[0], bytes, args.pool);
  });
}

std::unique_ptr<Kernel> prepare_Dropout(PrepareContext& ctx) {
  return dispatch(FloatTypes{}, ctx, 0, [&]<class T>(Tag<T>) { return dropout_kernel<T>(ctx); });
}

}  // namespace softdpu::runtime
