// Planning, the phase-split input copy, the scalar tile (the reference twin of the SIMD tiles in
// conv_direct_avx512.cc / conv_direct_avx2.cc), ISA dispatch and threading of the direct conv.
#include "kernels/linalg/conv_direct.h"

#include <algorithm>

#include "core/cpu.h"
#include "kernels/linalg/gemm_kernels.h"

namespace softdpu::kernels {

namespace {

constexpr int64_t kLanes = 16;
// Slack after the phase-split input: the last vector of a row may read up to 15 floats past the
// plane (lanes that are never stored).
constexpr int64_t kSlack = kLanes;

}  // namespace

int64_t DirectConv::slot_floats() const {
  return (c * sh * sw * rows * wq + kSlack + 15) / 16 * 16;
}

bool direct_conv_applies(const Window& w, int64_t group) {
  if (group != 1 || w.k[0] != 1 || w.in[0] != 1) return false;  // 1-D / 2-D only
  // Lane use along output rows: at least 3/4 (14 of 16 for 14-wide maps, 28 of 32 for 28).
  const int64_t ow = w.out[2];
  const int64_t vecs = (ow + kLanes - 1) / kLanes;
  return ow * 4 >= vecs * kLanes * 3;
}

std::shared_ptr<DirectConv> plan_direct_conv(const Window& w, int64_t c, int64_t m,
                                             const float* weights, int threads) {
  auto p = std::make_shared<DirectConv>();
  p->win = w;
  p->c = c;
  p->m = m;
  p->sh = w.stride[1];
  p->sw = w.stride[2];
  const int64_t hp = w.in[1] + w.pad[1] + w.pad_end[1];
  const int64_t wp = w.in[2] + w.pad[2] + w.pad_end[2];
  p->hq = (hp + p->sh - 1) / p->sh;
  p->wq = (wp + p->sw - 1) / p->sw;
  const int64_t kh = w.k[1], kw = w.k[2], ks = kh * kw;
  p->k = c * ks;
  for (int64_t oh = 0; oh < w.out[1]; ++oh) {
    for (int64_t ow = 0; ow < w.out[2]; ow += kLanes) {
      const int64_t lanes = std::min(kLanes, w.out[2] - ow);
      p->vecs.push_back({static_cast<int32_t>(oh * p->wq + ow),
                         static_cast<int32_t>(oh * w.out[2] + ow), static_cast<int32_t>(lanes)});
    }
  }
  // Ranges: pairs of vectors (the tile loop's unit) split evenly, one range per planned
  // thread. A vector of output row oh reads plane rows oh .. oh + reach.
  const int64_t nv = static_cast<int64_t>(p->vecs.size()), pairs = (nv + 1) / 2;
  const int64_t ranges = std::clamp<int64_t>(threads, 1, pairs);
  const int64_t reach = (kh - 1) * w.dil[1] / p->sh;
  std::vector<int64_t> row_end;
  for (int64_t r = 0; r <= ranges; ++r)
    p->range_vec.push_back(static_cast<int32_t>(std::min(nv, 2 * (r * pairs / ranges))));
  for (int64_t r = 0; r < ranges; ++r) {
    const int64_t first = p->vecs[static_cast<size_t>(p->range_vec[r])].in / p->wq;
    const int64_t last = p->vecs[static_cast<size_t>(p->range_vec[r + 1] - 1)].in / p->wq;
    p->range_row.push_back(static_cast<int32_t>(first));
    row_end.push_back(std::min(p->hq, last + reach + 1));
    p->rows = std::max(p->rows, row_end.back() - first);
  }
  // Every slot holds exactly `rows` rows (a shorter range starts earlier), so the rows a vector
  // over-reads into are always copied ones; then each vector counts from its range's first row.
  for (int64_t r = 0; r < ranges; ++r) {
    const int64_t row0 = std::max<int64_t>(0, row_end[static_cast<size_t>(r)] - p->rows);
    p->range_row[static_cast<size_t>(r)] = static_cast<int32_t>(row0);
    for (int32_t v = p->range_vec[r]; v < p->range_vec[r + 1]; ++v)
      p->vecs[static_cast<size_t>(v)].in -= static_cast<int32_t>(row0 * p->wq);
  }
  const int64_t plane = p->rows * p->wq;
  p->koff.resize(static_cast<size_t>(p->k));
  p->phase_read.assign(static_cast<size_t>(p->sh * p->sw), false);
  for (int64_t ci = 0; ci < c; ++ci) {
    for (int64_t i = 0; i < kh; ++i) {
      for (int64_t j = 0; j < kw; ++j) {
        const int64_t dh = i * w.dil[1], dw = j * w.dil[2];
        const int64_t ph = dh % p->sh, pw = dw % p->sw;
        p->phase_read[static_cast<size_t>(ph * p->sw + pw)] = true;
        const int64_t off =
            ((ci * p->sh + ph) * p->sw + pw) * plane + (dh / p->sh) * p->wq + dw / p->sw;
        p->koff[static_cast<size_t>(ci * ks + i * kw + j)] = static_cast<int32_t>(off);
      }
    }
  }
  const int64_t tiles = (m + kDirectConvMr - 1) / kDirectConvMr;
  p->w.assign(static_cast<size_t>(tiles * p->k * kDirectConvMr), 0.f);
  for (int64_t oc = 0; oc < m; ++oc) {
    const int64_t t = oc / kDirectConvMr, r = oc % kDirectConvMr;
    for (int64_t k = 0; k < p->k; ++k)
      p->w[static_cast<size_t>((t * p->k + k) * kDirectConvMr + r)] = weights[oc * p->k + k];
  }
  return p;
}

namespace {

// X [C, H, W] into plane rows [rq0, rq0 + rows) of every zero-padded phase plane, stored from
// xs (planes of `rows` rows). Each plane row is a zero head, a (strided) copy of the input row
// and a zero tail; the bounds come from the phase and padding once per plane, so the copy loop
// has no test per element.
void phase_split(const DirectConv& p, const float* x, int64_t rq0, float* xs) {
  const Window& w = p.win;
  // A stride-2 row is a gather of every other float: a scalar loop costs as much as a third of
  // a stride-2 conv's tiles (resnet_cnn's 32->64 s2 3x3), the AVX-512 one a few percent.
  const auto copy2 =
      active_isa() == Isa::kAvx512 ? &detail::copy_stride2_avx512 : &detail::copy_stride2_scalar;
  const int64_t plane = p.rows * p.wq, h = w.in[1], wd = w.in[2], rq1 = rq0 + p.rows;
  for (int64_t pw = 0; pw < p.sw; ++pw) {
    // Plane columns cq read input column cq * sw + pw - pad: inside for cq in [lo, hi).
    const int64_t first = w.pad[2] - pw;  // cq * sw >= first
    const int64_t lo = std::clamp<int64_t>(first <= 0 ? 0 : (first + p.sw - 1) / p.sw, 0, p.wq);
    const int64_t last = wd - 1 + w.pad[2] - pw;  // cq * sw <= last
    const int64_t hi = std::clamp<int64_t>(last < 0 ? 0 : last / p.sw + 1, lo, p.wq);
    const int64_t iw0 = lo * p.sw + pw - w.pad[2];
    for (int64_t ci = 0; ci < p.c; ++ci) {
      const float* xc = x + ci * h * wd;
      for (int64_t ph = 0; ph < p.sh; ++ph) {
        // A 1x1 stride-2 conv reads one phase in four: the others are never built.
        if (!p.phase_read[static_cast<size_t>(ph * p.sw + pw)]) continue;
        float* dst = xs + ((ci * p.sh + ph) * p.sw + pw) * plane;
        for (int64_t rq = rq0; rq < rq1; ++rq) {
          float* d = dst + (rq - rq0) * p.wq;
          const int64_t ih = rq * p.sh + ph - w.pad[1];
          if (ih < 0 || ih >= h) {
            std::fill(d, d + p.wq, 0.f);
            continue;
          }
          const float* src = xc + ih * wd + iw0;
          std::fill(d, d + lo, 0.f);
          if (p.sw == 1) {
            std::copy(src, src + (hi - lo), d + lo);
          } else if (p.sw == 2) {
            copy2(src, hi - lo, d + lo);
          } else {
            for (int64_t j = 0; j < hi - lo; ++j) d[lo + j] = src[j * p.sw];
          }
          std::fill(d + hi, d + p.wq, 0.f);
        }
      }
    }
  }
}

detail::DirectTileFn select_tiles() {
  switch (active_isa()) {
    case Isa::kAvx512: return &detail::direct_conv_tiles_avx512;
    case Isa::kAvx2: return &detail::direct_conv_tiles_avx2;
    case Isa::kScalar: break;
  }
  return &detail::direct_conv_tiles_scalar;
}

}  // namespace

namespace detail {

void copy_stride2_scalar(const float* src, int64_t n, float* dst) {
  for (int64_t j = 0; j < n; ++j) dst[j] = src[2 * j];
}

void direct_conv_tiles_scalar(const DirectConv& p, const float* xs, int64_t tile, int64_t v0,
                              int64_t v1, const float* bias, const float* residual,
                              const Activation& act, float* y) {
  const int64_t plane_out = p.win.out_size();
  const int64_t m0 = tile * kDirectConvMr, mr = std::min(kDirectConvMr, p.m - m0);
  const float* wt = p.w.data() + tile * p.k * kDirectConvMr;
  for (int64_t v = v0; v < v1; ++v) {
    const DirectConv::Vec& vec = p.vecs[static_cast<size_t>(v)];
    float acc[kDirectConvMr][kLanes] = {};
    for (int64_t k = 0; k < p.k; ++k) {
      const float* b = xs + p.koff[static_cast<size_t>(k)] + vec.in;
      for (int64_t r = 0; r < mr; ++r) {
        const float a = wt[k * kDirectConvMr + r];
        for (int64_t j = 0; j < vec.lanes; ++j) acc[r][j] += a * b[j];
      }
    }
    for (int64_t r = 0; r < mr; ++r) {
      const int64_t o = (m0 + r) * plane_out + vec.out;
      for (int64_t j = 0; j < vec.lanes; ++j) {
        float v = acc[r][j] + (bias ? bias[m0 + r] : 0.f);
        if (residual) v += residual[o + j];
        y[o + j] = apply_activation(act, v);
      }
    }
  }
}

}  // namespace detail

void direct_conv(const DirectConv& p, const float* x, const float* bias, const float* residual,
                 const Activation& act, float* y, float* scratch, ThreadPool* pool) {
  const detail::DirectTileFn fn = select_tiles();
  const bool in_register = detail::act_in_register(act.kind);
  const Activation tile_act = in_register ? act : Activation{};
  const int64_t tiles = (p.m + kDirectConvMr - 1) / kDirectConvMr;
  const int64_t plane_out = p.win.out_size();
  // Range r: its phase planes (the SIMD tiles read up to 15 lanes past a slot's last plane: keep
  // those floats defined), then pixel vectors outer, output-channel tiles inner: a pair of
  // vectors' input rows (every tap) stays in L1 while the tiles pass over it, and the weights
  // stream in order from L2.
  auto do_range = [&](int64_t r) {
    float* xs = scratch + r * p.slot_floats();
    std::fill(xs + p.c * p.sh * p.sw * p.rows * p.wq, xs + p.slot_floats(), 0.f);
    phase_split(p, x, p.range_row[static_cast<size_t>(r)], xs);
    const int64_t v0 = p.range_vec[static_cast<size_t>(r)];
    const int64_t v1 = p.range_vec[static_cast<size_t>(r) + 1];
    for (int64_t v = v0; v < v1; v += 2)
      for (int64_t t = 0; t < tiles; ++t)
        fn(p, xs, t, v, std::min(v + 2, v1), bias, residual, tile_act, y);
    if (in_register) return;
    const DirectConv::Vec& last = p.vecs[static_cast<size_t>(v1 - 1)];
    const int64_t o0 = p.vecs[static_cast<size_t>(v0)].out, o1 = last.out + last.lanes;
    for (int64_t oc = 0; oc < p.m; ++oc)
      apply_activation_inplace(act, y + oc * plane_out + o0, o1 - o0);
  };
  const int64_t ranges = p.ranges();
  const int64_t ns = std::min<int64_t>(ranges, pool ? pool->threads() : 1);
  if (ns <= 1) {
    for (int64_t r = 0; r < ranges; ++r) do_range(r);
    return;
  }
  // One pool job; thread s runs the contiguous ranges [s * ranges / ns, (s + 1) * ranges / ns),
  // the band of output rows the next layer's thread s reads.
  pool->parallel_for(ns, 1, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s)
      for (int64_t r = s * ranges / ns; r < (s + 1) * ranges / ns; ++r) do_range(r);
  });
}

}  // namespace softdpu::kernels
