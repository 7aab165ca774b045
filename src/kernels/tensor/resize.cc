// Resize (opset 10-18) and Upsample (7-9), N-D, in nearest, linear and cubic modes.
//
// All coordinate arithmetic happens at plan time: per axis, each output index gets its taps
// (input indices, clamped like the reference's edge padding, and weights) following the ONNX
// reference implementation (onnx/backend/test/case/node/resize.py) exactly, including its use
// of scale * input_length as the "resized length" in align_corners / tf_crop_and_resize.
//  - nearest is pure data movement, any dtype: an AxisMapCopy.
//  - linear and cubic are separable (the reference interpolates axis by axis too): one pass per
//    resized axis, float intermediates in scratch, shrinking axes first so intermediates stay
//    small. Integer types round to nearest on the way out.
#include <algorithm>
#include <cmath>

#include "kernels/tensor/copy_plan.h"
#include "kernels/tensor/tensor_util.h"

namespace softdpu::runtime {

using kernels::tensor::prod;

namespace {

enum class Mode { kNearest, kLinear, kCubic };

struct Params {
  Mode mode = Mode::kNearest;
  std::string coord = "half_pixel";
  std::string nearest =
      "round_prefer_floor";  // "legacy": floor, or ceil when shrinking (Resize-10)
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0;
};

struct AxisTaps {
  int64_t in_len = 0, out_len = 0;
  int taps = 1;
  std::vector<int64_t> idx;      // out_len * taps input indices, in range
  std::vector<float> w;          // out_len * taps weights (linear / cubic)
  std::vector<uint8_t> outside;  // per output index: tf_crop_and_resize extrapolation
  bool identity = false;
};

double source_coordinate(const Params& p, double x, double scale, int64_t in_len, int64_t out_len,
                         double roi_start, double roi_end) {
  const double resized = scale * static_cast<double>(in_len);  // the reference's output_width
  const std::string& c = p.coord;
  if (c == "half_pixel") return (x + 0.5) / scale - 0.5;
  if (c == "pytorch_half_pixel") return out_len > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
  if (c == "align_corners") return resized == 1 ? 0.0 : x * (in_len - 1) / (resized - 1);
  if (c == "asymmetric") return x / scale;
  if (c == "tf_half_pixel_for_nn") return (x + 0.5) / scale;
  if (c == "half_pixel_symmetric") {
    const double adjustment = out_len / resized;
    const double center = in_len / 2.0;
    return center * (1 - adjustment) + (x + 0.5) / scale - 0.5;
  }
  // tf_crop_and_resize
  const double span = (roi_end - roi_start) * (in_len - 1);
  return roi_start * (in_len - 1) + (resized == 1 ? span / 2 : x * span / (resized - 1));
}

std::vector<double> cubic_coeffs(double r, double a) {
  auto far = [a](double t) { return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a; };  // 1 < |t| < 2
  auto near = [a](double t) { return ((a + 2) * t - (a + 3)) * t * t + 1; };       // |t| <= 1
  return {far(r + 1), near(r), near(1 - r), far(2 - r)};
}

AxisTaps make_taps(const PrepareContext& ctx, const Params& p, int64_t in_len, int64_t out_len,
                   double scale, double roi_start, double roi_end) {
  AxisTaps t;
  t.in_len = in_len;
  t.out_len = out_len;
  t.taps = p.mode == Mode::kNearest ? 1 : (p.mode == Mode::kLinear ? 2 : 4);
  t.idx.resize(out_len * t.taps, 0);
  t.w.resize(out_len * t.taps, 0.f);
  t.outside.resize(out_len, 0);
  if (out_len > 0 && in_len == 0)
    ctx.fail("cannot resize an axis of length 0 to length " + std::to_string(out_len));
  bool identity = out_len == in_len;
  for (int64_t j = 0; j < out_len; ++j) {
    const double x =
        source_coordinate(p, static_cast<double>(j), scale, in_len, out_len, roi_start, roi_end);
    if (p.coord == "tf_crop_and_resize" && (x < 0 || x > static_cast<double>(in_len - 1))) {
      t.outside[j] = 1;
      identity = false;
      continue;
    }
    double x0 = std::floor(x);
    double r = x - x0;
    int64_t* idx = &t.idx[j * t.taps];
    float* w = &t.w[j * t.taps];
    if (p.mode == Mode::kNearest) {
      bool up = false;
      if (r > 0) {
        if (p.nearest == "round_prefer_floor")
          up = r > 0.5;
        else if (p.nearest == "round_prefer_ceil")
          up = r >= 0.5;
        else if (p.nearest == "ceil")
          up = true;
        else if (p.nearest == "legacy")
          up = scale < 1;
      }
      idx[0] = std::clamp<int64_t>(static_cast<int64_t>(x0) + (up ? 1 : 0), 0, in_len - 1);
      w[0] = 1;
      identity = identity && idx[0] == j;
      continue;
    }
    // The reference takes the ratio in (0, 1]: an integer coordinate uses its left neighbour.
    if (r == 0) {
      x0 -= 1;
      r = 1;
    }
    const int64_t first = static_cast<int64_t>(x0) - (t.taps == 4 ? 1 : 0);
    std::vector<double> c =
        t.taps == 2 ? std::vector<double>{1 - r, r} : cubic_coeffs(r, p.cubic_a);
    double sum = 0;
    for (int k = 0; k < t.taps; ++k) {
      const int64_t i = first + k;
      if (p.exclude_outside && (i < 0 || i >= in_len)) c[k] = 0;
      sum += c[k];
    }
    for (int k = 0; k < t.taps; ++k) {
      idx[k] = std::clamp<int64_t>(first + k, 0, in_len - 1);
      w[k] = static_cast<float>(p.exclude_outside && sum != 0 ? c[k] / sum : c[k]);
      if (w[k] != 0 && idx[k] != j) identity = false;
      if (idx[k] == j && w[k] != 1 && w[k] != 0) identity = false;
    }
  }
  t.identity = identity;
  return t;
}

template <typename Out, typename A>
inline Out store(A v) {
  if constexpr (std::is_integral_v<Out>) {
    return kernels::tensor::from_double<Out>(static_cast<double>(v));
  } else {
    return Out(v);
  }
}

// One separable pass along an axis: out[o, j, i] = sum_t w[j,t] * in[o, idx[j,t], i].
template <int kTaps, typename In, typename Out, typename A>
void interpolate_pass(const In* in, Out* out, const AxisTaps& t, int64_t outer, int64_t inner,
                      A extrapolation, ThreadPool* pool) {
  const int64_t units = outer * t.out_len;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, inner));
  pool->parallel_for(units, grain, [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) {
      const int64_t o = u / t.out_len, j = u - o * t.out_len;
      Out* dst = out + u * inner;
      if (t.outside[j]) {
        for (int64_t i = 0; i < inner; ++i) dst[i] = store<Out>(extrapolation);
        continue;
      }
      const In* base = in + o * t.in_len * inner;
      const int64_t* idx = &t.idx[j * kTaps];
      const float* w = &t.w[j * kTaps];
      for (int64_t i = 0; i < inner; ++i) {
        A s = 0;
        for (int k = 0; k < kTaps; ++k)
          s += static_cast<A>(w[k]) * static_cast<A>(base[idx[k] * inner + i]);
        dst[i] = store<Out>(s);
      }
    }
  });
}

template <typename In, typename Out, typename A>
void run_pass(const In* in, Out* out, const AxisTaps& t, int64_t outer, int64_t inner,
              A extrapolation, ThreadPool* pool) {
  if (t.taps == 2) {
    interpolate_pass<2>(in, out, t, outer, inner, extrapolation, pool);
  } else {
    interpolate_pass<4>(in, out, t, outer, inner, extrapolation, pool);
  }
}

struct Pass {
  int64_t axis;
  int64_t outer, inner;
};

std::unique_ptr<Kernel> resize(PrepareContext& ctx, const Params& p,
                               const std::vector<double>& scales, const Shape& out,
                               const std::vector<double>& roi) {
  const Shape& in = ctx.shape(0);
  const DType dt = ctx.dtype(0);
  const size_t rank = in.size();
  std::vector<AxisTaps> taps;
  for (size_t d = 0; d < rank; ++d) {
    const double rs = roi.empty() ? 0.0 : roi[d], re = roi.empty() ? 1.0 : roi[rank + d];
    taps.push_back(make_taps(ctx, p, in[d], out[d], scales[d], rs, re));
  }
  ctx.set_output(0, dt, out);

  if (p.mode == Mode::kNearest) {
    std::vector<std::vector<int64_t>> maps(rank);
    for (size_t d = 0; d < rank; ++d) {
      maps[d] = taps[d].idx;
      for (int64_t j = 0; j < out[d]; ++j) {
        if (taps[d].outside[j]) maps[d][j] = -1;
      }
    }
    kernels::tensor::AxisMapCopy plan(dtype_size(dt), in, maps);
    std::vector<uint8_t> fill = kernels::tensor::scalar_bytes(ctx, dt, p.extrapolation);
    return make_kernel([plan = std::move(plan), fill](const KernelArgs& a) {
      plan.run(a.in[0], a.out[0], fill.data(), a.pool);
    });
  }

  // Passes over the axes that change, the most shrinking first.
  std::vector<int64_t> axes;
  for (size_t d = 0; d < rank; ++d) {
    if (!taps[d].identity) axes.push_back(static_cast<int64_t>(d));
  }
  std::stable_sort(axes.begin(), axes.end(), [&](int64_t a, int64_t b) {
    return static_cast<double>(out[a]) / std::max<int64_t>(1, in[a]) <
           static_cast<double>(out[b]) / std::max<int64_t>(1, in[b]);
  });
  std::vector<Pass> passes;
  Shape cur = in;
  int64_t max_mid = 0;  // largest intermediate, in elements
  for (size_t k = 0; k < axes.size(); ++k) {
    const int64_t d = axes[k];
    passes.push_back({d, prod(cur, 0, d), prod(cur, d + 1, rank)});
    cur[d] = out[d];
    if (k + 1 < axes.size()) max_mid = std::max(max_mid, shape_numel(cur));
  }
  const size_t in_bytes = static_cast<size_t>(shape_numel(in)) * dtype_size(dt);
  return kernels::tensor::dispatch_numeric(ctx, dt, [&](auto tag) -> std::unique_ptr<Kernel> {
    using T = decltype(tag);
    using A = std::conditional_t<std::is_same_v<T, double>, double, float>;
    ctx.request_scratch(static_cast<size_t>(max_mid) * 2 * sizeof(A) + 64);
    const A extrapolation = static_cast<A>(p.extrapolation);
    return make_kernel([=](const KernelArgs& a) {
      if (passes.empty()) {
        kernels::tensor::parallel_memcpy(a.out[0], a.in[0], in_bytes, a.pool);
        return;
      }
      A* buf[2] = {static_cast<A*>(a.scratch), static_cast<A*>(a.scratch) + max_mid};
      const T* x = static_cast<const T*>(a.in[0]);
      T* y = static_cast<T*>(a.out[0]);
      for (size_t k = 0; k < passes.size(); ++k) {
        const Pass& ps = passes[k];
        const AxisTaps& t = taps[ps.axis];
        const bool first = k == 0, last = k + 1 == passes.size();
        const A* mid_in = buf[(k + 1) % 2];
        A* mid_out = buf[k % 2];
        if (first && last)
          run_pass(x, y, t, ps.outer, ps.inner, extrapolation, a.pool);
        else if (first)
          run_pass(x, mid_out, t, ps.outer, ps.inner, extrapolation, a.pool);
        else if (last)
          run_pass(mid_in, y, t, ps.outer, ps.inner, extrapolation, a.pool);
        else
          run_pass(mid_in, mid_out, t, ps.outer, ps.inner, extrapolation, a.pool);
      }
    });
  });
}

// Output shape from scales (floor(in * scale), as the reference) and the scale of every axis.
Shape shape_from_scales(const PrepareContext& ctx, const Shape& in,
                        const std::vector<double>& scales) {
  Shape out(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    if (!(scales[d] > 0))
      ctx.fail("scales " + std::to_string(scales[d]) + " on axis " + std::to_string(d) +
               " must be positive");
    out[d] = static_cast<int64_t>(std::floor(scales[d] * static_cast<double>(in[d])));
  }
  return out;
}

Mode read_mode(const PrepareContext& ctx, bool cubic_allowed) {
  const std::string m = ctx.attr_string("mode", "nearest");
  if (m == "nearest") return Mode::kNearest;
  if (m == "linear" || m == "bilinear") return Mode::kLinear;
  if (m == "cubic" && cubic_allowed) return Mode::kCubic;
  ctx.fail("mode must be nearest, linear" + std::string(cubic_allowed ? " or cubic" : "") +
           ", got '" + m + "'");
}

// An optional input counts as given only when it has elements (models pass empty tensors too).
bool given(const PrepareContext& ctx, int i) {
  return ctx.has_input(i) && shape_numel(ctx.shape(i)) > 0;
}

}  // namespace

std::unique_ptr<Kernel> prepare_Resize(PrepareContext& ctx) {
  kernels::tensor::expect_data(ctx, 0);
  const Shape& in = ctx.shape(0);
  const int64_t rank = static_cast<int64_t>(in.size());
  if (rank == 0) ctx.fail("input 0 must have rank >= 1");
  Params p;
  p.mode = read_mode(ctx, ctx.opset() >= 11);
  if (ctx.attr_int("antialias", 0) != 0) ctx.unsupported("antialias=1 is not supported");
  const std::string policy = ctx.attr_string("keep_aspect_ratio_policy", "stretch");
  if (policy != "stretch")
    ctx.unsupported("keep_aspect_ratio_policy '" + policy + "' is not supported");
  const int scales_input = ctx.opset() >= 11 ? 2 : 1;
  if (ctx.opset() >= 11) {
    p.coord = ctx.attr_string("coordinate_transformation_mode", "half_pixel");
    p.nearest = ctx.attr_string("nearest_mode", "round_prefer_floor");
    p.cubic_a = ctx.attr_float("cubic_coeff_a", -0.75f);
    p.exclude_outside = ctx.attr_int("exclude_outside", 0) != 0;
    p.extrapolation = ctx.attr_float("extrapolation_value", 0.f);
  } else {  // Resize-10 behaves as Upsample
    p.coord = "asymmetric";
    p.nearest = "legacy";
  }
  static const char* kCoords[] = {
      "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
      "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
  if (std::find(std::begin(kCoords), std::end(kCoords), p.coord) == std::end(kCoords)) {
    ctx.fail("unknown coordinate_transformation_mode '" + p.coord + "'");
  }
  static const char* kNearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil",
                                   "legacy"};
  if (std::find(std::begin(kNearest), std::end(kNearest), p.nearest) == std::end(kNearest)) {
    ctx.fail("unknown nearest_mode '" + p.nearest + "'");
  }
  // opset 18 'axes': scales/sizes/roi list only these axes.
  std::vector<int64_t> axes;
  for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  if (ctx.has_attr("axes"))
    axes = kernels::tensor::normalize_axes(ctx, ctx.attr_ints("axes"), rank, "axes");
  const size_t na = axes.size();

  const bool has_scales = given(ctx, scales_input);
  const bool has_sizes = ctx.opset() >= 11 && given(ctx, 3);
  if (has_scales == has_sizes)
    ctx.fail("exactly one of scales (input 2) and sizes (input 3) must be given");
  std::vector<double> scales(rank, 1.0);
  Shape out = in;
  if (has_scales) {
    const std::vector<double> s = kernels::tensor::constant_doubles(ctx, scales_input);
    if (s.size() != na) {
      ctx.fail("scales have " + std::to_string(s.size()) + " entries, expected " +
               std::to_string(na) + " for input shape " + shape_to_string(in));
    }
    for (size_t i = 0; i < na; ++i) scales[axes[i]] = s[i];
    out = shape_from_scales(ctx, in, scales);
  } else {
    kernels::tensor::expect_index_type(ctx, 3);
    const std::vector<int64_t> s = ctx.constant_ints(3);
    if (s.size() != na) {
      ctx.fail("sizes " + shape_to_string(s) + " have " + std::to_string(s.size()) +
               " entries, expected " + std::to_string(na) + " for input shape " +
               shape_to_string(in));
    }
    for (size_t i = 0; i < na; ++i) {
      const int64_t d = axes[i];
      if (s[i] < 0) ctx.fail("sizes " + shape_to_string(s) + " have a negative entry");
      out[d] = s[i];
      scales[d] = in[d] > 0 ? static_cast<double>(s[i]) / static_cast<double>(in[d]) : 1.0;
      if (out[d] > 0 && scales[d] == 0)
        ctx.fail("cannot resize axis " + std::to_string(d) + " from 0");
    }
  }
  std::vector<double> roi;
  if (p.coord == "tf_crop_and_resize") {
    if (!given(ctx, 1))
      ctx.fail("coordinate_transformation_mode tf_crop_and_resize needs roi (input 1)");
    const std::vector<double> r = kernels::tensor::constant_doubles(ctx, 1);
    if (r.size() != 2 * na) {
      ctx.fail("roi has " + std::to_string(r.size()) + " entries, expected " +
               std::to_string(2 * na));
    }
    roi.assign(2 * rank, 0.0);
    for (int64_t d = 0; d < rank; ++d) roi[rank + d] = 1.0;
    for (size_t i = 0; i < na; ++i) {
      roi[axes[i]] = r[i];
      roi[rank + axes[i]] = r[na + i];
    }
  }
  return resize(ctx, p, scales, out, roi);
}

std::unique_ptr<Kernel> prepare_Upsample(PrepareContext& ctx) {
  kernels::tensor::expect_data(ctx, 0);
  const Shape& in = ctx.shape(0);
  Params p;
  p.mode = read_mode(ctx, false);
  p.coord = "asymmetric";
  p.nearest = "legacy";
  std::vector<double> scales;
  if (ctx.has_input(1)) {
    scales = kernels::tensor::constant_doubles(ctx, 1);
  } else {
    for (float f : ctx.attr_floats("scales")) scales.push_back(f);
  }
  if (scales.size() != in.size()) {
    ctx.fail("scales have " + std::to_string(scales.size()) + " entries, the input " +
             shape_to_string(in) + " has rank " + std::to_string(in.size()));
  }
  return resize(ctx, p, scales, shape_from_scales(ctx, in, scales), {});
}

}  // namespace softdpu::runtime
