#include "kernels/linalg/conv_common.h"

#include <algorithm>
#include <string>

#include "kernels/linalg/gemm.h"

namespace softdpu::kernels {

Shape Window::out_shape() const {
  return Shape(out + 3 - nd, out + 3);
}

namespace {

std::string ints_to_string(const std::vector<int64_t>& v) {
  return shape_to_string(v);
}

std::vector<int64_t> ints_of_length(const runtime::PrepareContext& ctx, const char* name,
                                    size_t len, int64_t def, int64_t min_value) {
  std::vector<int64_t> v = ctx.attr_ints(name, std::vector<int64_t>(len, def));
  if (v.size() != len) {
    ctx.fail(std::string("attribute '") + name + "' has " + std::to_string(v.size()) + " values " +
             ints_to_string(v) + ", expected " + std::to_string(len));
  }
  for (int64_t x : v) {
    if (x < min_value) {
      ctx.fail(std::string("attribute '") + name + "' " + ints_to_string(v) +
               " must be >= " + std::to_string(min_value));
    }
  }
  return v;
}

}  // namespace

std::vector<int64_t> kernel_shape_attr(const runtime::PrepareContext& ctx, size_t nd,
                                       const std::vector<int64_t>* from_weight) {
  if (!ctx.has_attr("kernel_shape")) {
    if (!from_weight) ctx.fail("attribute 'kernel_shape' is required");
    return *from_weight;
  }
  std::vector<int64_t> k = ints_of_length(ctx, "kernel_shape", nd, 1, 1);
  if (from_weight && k != *from_weight) {
    ctx.fail("attribute 'kernel_shape' " + ints_to_string(k) + " differs from the weight's " +
             "spatial dimensions " + ints_to_string(*from_weight));
  }
  return k;
}

void expect_spatial_rank(const runtime::PrepareContext& ctx, int input, int max_nd) {
  const int r = static_cast<int>(ctx.shape(input).size());
  if (r < 3) {
    ctx.fail("input " + std::to_string(input) + " ('" + ctx.input(input).name + "') has shape " +
             shape_to_string(ctx.shape(input)) + ", expected [N, C, spatial...] (rank >= 3)");
  }
  if (r > 2 + max_nd) {
    ctx.unsupported("input " + std::to_string(input) + " has " + std::to_string(r - 2) +
                    " spatial dimensions; softdpu supports 1 to " + std::to_string(max_nd));
  }
}

Window resolve_window(const runtime::PrepareContext& ctx, const Shape& in_spatial,
                      const std::vector<int64_t>& kernel, bool ceil_mode, bool allow_dilations) {
  const size_t nd = in_spatial.size();
  Window w;
  w.nd = static_cast<int>(nd);
  const size_t off = 3 - nd;
  const std::vector<int64_t> strides = ints_of_length(ctx, "strides", nd, 1, 1);
  const std::vector<int64_t> dils =
      allow_dilations ? ints_of_length(ctx, "dilations", nd, 1, 1) : std::vector<int64_t>(nd, 1);
  const std::vector<int64_t> pads = ints_of_length(ctx, "pads", 2 * nd, 0, 0);
  const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" &&
      auto_pad != "SAME_LOWER") {
    ctx.fail("attribute 'auto_pad' is '" + auto_pad +
             "', expected NOTSET, VALID, SAME_UPPER or SAME_LOWER");
  }
  for (size_t i = 0; i < nd; ++i) {
    const size_t s = off + i;
    if (kernel[i] < 1) ctx.fail("kernel dimensions " + ints_to_string(kernel) + " must be >= 1");
    w.in[s] = in_spatial[i];
    w.k[s] = kernel[i];
    w.stride[s] = strides[i];
    w.dil[s] = dils[i];
    const int64_t dk = (kernel[i] - 1) * dils[i] + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      w.out[s] = (in_spatial[i] + strides[i] - 1) / strides[i];
      const int64_t total = std::max<int64_t>(0, (w.out[s] - 1) * strides[i] + dk - in_spatial[i]);
      // SAME_UPPER puts the odd extra pad at the end, SAME_LOWER at the beginning.
      w.pad[s] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      w.pad_end[s] = total - w.pad[s];
      continue;
    }
    if (auto_pad == "NOTSET") {
      w.pad[s] = pads[i];
      w.pad_end[s] = pads[nd + i];
    }
    const int64_t span = in_spatial[i] + w.pad[s] + w.pad_end[s] - dk;
    if (span < 0) {
      ctx.fail("window " + ints_to_string(kernel) + " (dilations " + ints_to_string(dils) +
               ") is larger than the padded input " + ints_to_string(in_spatial) +
               " in dimension " + std::to_string(i));
    }
    if (ceil_mode) {
      w.out[s] = (span + strides[i] - 1) / strides[i] + 1;
      // The last window must start inside the input or its leading padding.
      if ((w.out[s] - 1) * strides[i] >= in_spatial[i] + w.pad[s]) --w.out[s];
    } else {
      w.out[s] = span / strides[i] + 1;
    }
  }
  return w;
}

namespace {

int64_t floor_div(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

// One kernel tap's values for output pixels [p0, p0 + np) into t (np floats): whole output-row
// runs at a time, split into leading zeros, a strided copy and trailing zeros, so the common
// stride-1 interior is a plain vectorisable copy. Runs are a few pixels long, so GCC must not
// turn the loops into memcpy/memset calls (their call overhead exceeds the copy); hence the
// optimize attribute.
// The division-dependent parts of a tap, computed once per im2col call rather than per tap.
struct TapStart {
  int64_t od, oh, ow0;  // output coordinates of the first pixel
};
struct TapColumns {
  int64_t off, valid_lo, valid_hi;  // input column offset; output columns [lo, hi) inside the row
};

TapColumns tap_columns(const Window& w, int64_t kw) {
  const int64_t off = kw * w.dil[2] - w.pad[2];
  return {off, -floor_div(off, w.stride[2]), floor_div(w.in[2] - 1 - off, w.stride[2]) + 1};
}

__attribute__((optimize("no-tree-loop-distribute-patterns"))) void gather_tap(
    const float* __restrict xc, const Window& w, int64_t kd, int64_t kh, const TapColumns& col,
    const TapStart& start, int64_t np, float* __restrict t) {
  const int64_t s2 = w.stride[2], off = col.off;
  const int64_t valid_lo = col.valid_lo, valid_hi = col.valid_hi;
  const bool same_rows = s2 == 1 && w.stride[1] == 1 && w.out[2] == w.in[2];
  // Advanced run by run from the start coordinates (no division per run).
  int64_t od = start.od, oh = start.oh, ow0 = start.ow0;
  for (int64_t q = 0; q < np;) {
    const int64_t run = std::min(w.out[2] - ow0, np - q);
    float* out = t + q;
    const int64_t id = od * w.stride[0] - w.pad[0] + kd * w.dil[0];
    const int64_t ih = oh * w.stride[1] - w.pad[1] + kh * w.dil[1];
    const bool inside = id >= 0 && id < w.in[0] && ih >= 0 && ih < w.in[1];
    if (inside && same_rows && ow0 == 0 && run == w.out[2]) {
      // Stride 1 with out_w == in_w: consecutive output rows read consecutive input rows, so a
      // stack of whole rows is one contiguous copy; only the border columns are fixed up after.
      const int64_t rows = std::min({(np - q) / w.out[2], w.in[1] - ih, w.out[1] - oh});
      const int64_t len = rows * w.out[2];
      const int64_t base = (id * w.in[1] + ih) * w.in[2] + off;
      // Elements outside the channel plane are border columns (zeroed below); don't read them.
      const int64_t j0 = std::max<int64_t>(0, -base);
      const int64_t j1 = std::min(len, w.in_size() - base);
      for (int64_t j = j0; j < j1; ++j) out[j] = xc[base + j];
      for (int64_t r = 0; r < rows; ++r) {
        float* o = out + r * w.out[2];
        for (int64_t j = 0; j < std::min(valid_lo, w.out[2]); ++j) o[j] = 0.f;
        for (int64_t j = std::max<int64_t>(valid_hi, 0); j < w.out[2]; ++j) o[j] = 0.f;
      }
      q += len;
      oh += rows;
      if (oh == w.out[1]) {
        oh = 0;
        ++od;
      }
      continue;
    }
    if (!inside) {
      for (int64_t j = 0; j < run; ++j) out[j] = 0.f;
    } else {
      const float* row = xc + (id * w.in[1] + ih) * w.in[2];
      const int64_t lo = std::clamp(valid_lo, ow0, ow0 + run);
      const int64_t hi = std::clamp(valid_hi, lo, ow0 + run);
      for (int64_t j = 0; j < lo - ow0; ++j) out[j] = 0.f;
      if (hi > lo) {
        float* o = out + (lo - ow0);
        const float* src = row + lo * s2 + off;
        if (s2 == 1) {
          for (int64_t j = 0; j < hi - lo; ++j) o[j] = src[j];
        } else {
          for (int64_t j = 0; j < hi - lo; ++j) o[j] = src[j * s2];
        }
      }
      for (int64_t j = hi - ow0; j < run; ++j) out[j] = 0.f;
    }
    q += run;
    ow0 = 0;
    if (++oh == w.out[1]) {
      oh = 0;
      ++od;
    }
  }
}

// Pixels gathered per pass into a stack buffer (8 KiB) before they are spread into panels.
constexpr int64_t kChunk = 2048;

// Where im2col writes tap kidx = c * ks + kpos of pixel q: GEMM panels, rows (dst[q * K + kidx]),
// or rows with the taps ordered kernel position first (dst[q * K + kpos * C + c]).
enum class Im2colLayout { kPanels, kRows, kRowsTapMajor };

template <Im2colLayout kLayout>
__attribute__((optimize("no-tree-loop-distribute-patterns"))) void im2col(
    const float* x, const Window& w, int64_t channels, int64_t p0, int64_t np, float* dst) {
  const int64_t ks = w.k_size();
  const int64_t kk = channels * ks;
  alignas(64) float t[kChunk];
  // Per kernel column data for the usual kernel widths; wider kernels compute it per tap.
  constexpr int64_t kMaxCols = 16;
  TapColumns cols[kMaxCols];
  for (int64_t q0 = 0; q0 < np; q0 += kChunk) {
    const int64_t nq = std::min(kChunk, np - q0);
    const int64_t p = p0 + q0, o12 = w.out[1] * w.out[2];
    const TapStart start{p / o12, (p % o12) / w.out[2], p % w.out[2]};
    for (int64_t kw = 0; kw < std::min<int64_t>(w.k[2], kMaxCols); ++kw)
      cols[kw] = tap_columns(w, kw);
    for (int64_t c = 0; c < channels; ++c) {
      const float* xc = x + c * w.in_size();
      for (int64_t kd = 0; kd < w.k[0]; ++kd) {
        for (int64_t kh = 0; kh < w.k[1]; ++kh) {
          for (int64_t kw = 0; kw < w.k[2]; ++kw) {
            const int64_t kpos = (kd * w.k[1] + kh) * w.k[2] + kw;
            const int64_t kidx = c * ks + kpos;
            gather_tap(xc, w, kd, kh, kw < kMaxCols ? cols[kw] : tap_columns(w, kw), start, nq, t);
            if constexpr (kLayout == Im2colLayout::kPanels) {
              // q0 is a multiple of 16, so chunks start on a panel boundary.
              float* d = dst + (q0 / kGemmPanel) * kk * kGemmPanel + kidx * kGemmPanel;
              int64_t j = 0;
              for (; j + kGemmPanel <= nq; j += kGemmPanel, d += kk * kGemmPanel)
                for (int l = 0; l < kGemmPanel; ++l) d[l] = t[j + l];
              if (j < nq) {
                for (int l = 0; l < kGemmPanel; ++l) d[l] = j + l < nq ? t[j + l] : 0.f;
              }
            } else {
              const int64_t col = kLayout == Im2colLayout::kRows ? kidx : kpos * channels + c;
              for (int64_t j = 0; j < nq; ++j) dst[(q0 + j) * kk + col] = t[j];
            }
          }
        }
      }
    }
  }
}

}  // namespace

void im2col_panels(const float* x, const Window& w, int64_t channels, int64_t p0, int64_t np,
                   float* dst) {
  im2col<Im2colLayout::kPanels>(x, w, channels, p0, np, dst);
}

void im2col_rows(const float* x, const Window& w, int64_t channels, int64_t p0, int64_t np,
                 float* dst) {
  im2col<Im2colLayout::kRows>(x, w, channels, p0, np, dst);
}

void im2col_rows_tap_major(const float* x, const Window& w, int64_t channels, int64_t p0,
                           int64_t np, float* dst) {
  im2col<Im2colLayout::kRowsTapMajor>(x, w, channels, p0, np, dst);
}

}  // namespace softdpu::kernels
