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

int64_t DirectConv::input_floats() const {
  return c * sh * sw * hq * wq + kSlack;
}

bool direct_conv_applies(const Window& w, int64_t group) {
  if (group != 1 || w.k[0] != 1 || w.in[0] != 1) return false;  // 1-D / 2-D only
  // Lane use along output rows: at least 3/4 (14 of 16 for 14-wide maps, 28 of 32 for 28).
  const int64_t ow = w.out[2];
  const int64_t vecs = (ow + kLanes - 1) / kLanes;
  return ow * 4 >= vecs * kLanes * 3;
}

std::shared_ptr<DirectConv> plan_direct_conv(const Window& w, int64_t c, int64_t m,
                                             const float* weights) {
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
  const int64_t plane = p->hq * p->wq;
  p->koff.resize(static_cast<size_t>(p->k));
  for (int64_t ci = 0; ci < c; ++ci) {
    for (int64_t i = 0; i < kh; ++i) {
      for (int64_t j = 0; j < kw; ++j) {
        const int64_t dh = i * w.dil[1], dw = j * w.dil[2];
        const int64_t ph = dh % p->sh, pw = dw % p->sw;
        const int64_t off =
            ((ci * p->sh + ph) * p->sw + pw) * plane + (dh / p->sh) * p->wq + dw / p->sw;
        p->koff[static_cast<size_t>(ci * ks + i * kw + j)] = static_cast<int32_t>(off);
      }
    }
  }
  for (int64_t oh = 0; oh < w.out[1]; ++oh) {
    for (int64_t ow = 0; ow < w.out[2]; ow += kLanes) {
      const int64_t lanes = std::min(kLanes, w.out[2] - ow);
      p->vecs.push_back({static_cast<int32_t>(oh * p->wq + ow),
                         static_cast<int32_t>(oh * w.out[2] + ow), static_cast<int32_t>(lanes)});
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

// X [C, H, W] into the zero-padded phase planes of channels [c0, c1).
void phase_split(const DirectConv& p, const float* x, int64_t c0, int64_t c1, float* xs) {
  const Window& w = p.win;
  const int64_t plane = p.hq * p.wq, h = w.in[1], wd = w.in[2];
  for (int64_t ci = c0; ci < c1; ++ci) {
    const float* xc = x + ci * h * wd;
    for (int64_t ph = 0; ph < p.sh; ++ph) {
      for (int64_t pw = 0; pw < p.sw; ++pw) {
        float* dst = xs + ((ci * p.sh + ph) * p.sw + pw) * plane;
        for (int64_t rq = 0; rq < p.hq; ++rq) {
          float* d = dst + rq * p.wq;
          const int64_t ih = rq * p.sh + ph - w.pad[1];
          if (ih < 0 || ih >= h) {
            std::fill(d, d + p.wq, 0.f);
            continue;
          }
          const float* row = xc + ih * wd;
          for (int64_t cq = 0; cq < p.wq; ++cq) {
            const int64_t iw = cq * p.sw + pw - w.pad[2];
            d[cq] = iw >= 0 && iw < wd ? row[iw] : 0.f;
          }
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

// Multiply-adds below which a work item is not worth handing to another thread.
constexpr int64_t kMinItemMacs = 32 * 1024;

}  // namespace

namespace detail {

void direct_conv_tiles_scalar(const DirectConv& p, const float* xs, int64_t tile, int64_t v0,
                              int64_t v1, const float* bias, const Activation& act, float* y) {
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
      float* o = y + (m0 + r) * plane_out + vec.out;
      for (int64_t j = 0; j < vec.lanes; ++j)
        o[j] = apply_activation(act, acc[r][j] + (bias ? bias[m0 + r] : 0.f));
    }
  }
}

}  // namespace detail

void direct_conv(const DirectConv& p, const float* x, const float* bias, const Activation& act,
                 float* y, float* scratch, ThreadPool* pool) {
  // The SIMD tiles read up to 15 lanes past a plane's end; keep those floats defined.
  std::fill(scratch + p.input_floats() - kSlack, scratch + p.input_floats(), 0.f);
  const int threads = pool ? pool->threads() : 1;
  if (threads > 1 && p.c > 1) {
    pool->parallel_for(p.c, 1, [&](int64_t c0, int64_t c1) { phase_split(p, x, c0, c1, scratch); });
  } else {
    phase_split(p, x, 0, p.c, scratch);
  }
  const detail::DirectTileFn fn = select_tiles();
  const bool in_register = detail::act_in_register(act.kind);
  const Activation tile_act = in_register ? act : Activation{};
  const int64_t tiles = (p.m + kDirectConvMr - 1) / kDirectConvMr;
  const int64_t nv = static_cast<int64_t>(p.vecs.size());
  const int64_t plane_out = p.win.out_size();
  auto run = [&](int64_t tile, int64_t v0, int64_t v1) {
    fn(p, scratch, tile, v0, v1, bias, tile_act, y);
    if (in_register) return;
    const int64_t o0 = p.vecs[static_cast<size_t>(v0)].out;
    const int64_t o1 =
        p.vecs[static_cast<size_t>(v1 - 1)].out + p.vecs[static_cast<size_t>(v1 - 1)].lanes;
    for (int64_t oc = tile * kDirectConvMr; oc < std::min(p.m, (tile + 1) * kDirectConvMr); ++oc)
      apply_activation_inplace(act, y + oc * plane_out + o0, o1 - o0);
  };
  const int64_t macs = p.m * p.k * plane_out;
  if (threads <= 1 || macs < 2 * kMinItemMacs) {
    for (int64_t t = 0; t < tiles; ++t) run(t, 0, nv);
    return;
  }
  // Output-channel tiles when there are enough to share, else pixel vectors as well.
  const int64_t vsplit = tiles >= 2 * threads ? 1 : threads;
  const int64_t items = tiles * vsplit;
  pool->parallel_for(items, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t t = i / vsplit, part = i % vsplit;
      const int64_t v0 = nv * part / vsplit, v1 = nv * (part + 1) / vsplit;
      if (v1 > v0) run(t, v0, v1);
    }
  });
}

}  // namespace softdpu::kernels
