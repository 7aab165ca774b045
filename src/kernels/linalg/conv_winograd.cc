// Planning (tile grid, segments, weight transform), the padded even/odd plane copy, the scalar
// transforms (the reference twins of conv_winograd_avx512.cc), ISA dispatch and threading of
// the Winograd F(2x2, 3x3) convolution (conv_winograd.h).
#include "kernels/linalg/conv_winograd.h"

#include <algorithm>

#include "core/cpu.h"
#include "kernels/linalg/conv_direct.h"
#include "kernels/linalg/gemm.h"

namespace softdpu::kernels {

namespace {

constexpr int64_t kLanes = 16;
// V and Mo of one block (64 * (C + M) bytes per tile) stay in L2 with the weights alongside.
constexpr int64_t kBlockBytes = 256 * 1024;
constexpr int64_t kMaxSlots = 4;

}  // namespace

bool winograd_conv_applies(const Window& w, int64_t group) {
  return group == 1 && w.in[0] == 1 && w.k[0] == 1 && w.k[1] == 3 && w.k[2] == 3 &&
         w.stride[1] == 1 && w.stride[2] == 1 && w.dil[1] == 1 && w.dil[2] == 1;
}

// Measured (BM_Conv, docs/benchmarks.md): 1.2-1.8x faster than the direct conv from 32
// channels up; narrower layers were not measured and keep the direct conv.
bool winograd_conv_pays(int64_t c, int64_t m) {
  return c >= 32 && m >= 32;
}

std::shared_ptr<WinogradConv> plan_winograd_conv(const Window& w, int64_t c, int64_t m,
                                                 const float* weights) {
  auto p = std::make_shared<WinogradConv>();
  p->c = c;
  p->m = m;
  p->ih = w.in[1];
  p->iw = w.in[2];
  p->oh = w.out[1];
  p->ow = w.out[2];
  p->pad_t = w.pad[1];
  p->pad_l = w.pad[2];
  p->th = (p->oh + 1) / 2;
  p->tw = (p->ow + 1) / 2;
  p->tiles = p->th * p->tw;
  // Tile (ty, tx) reads padded rows 2ty .. 2ty + 3 and columns 2tx .. 2tx + 3.
  p->hp = 2 * p->th + 2;
  p->we = p->tw + 1;
  const int64_t per_tile = 64 * (c + m);
  const int64_t tiles16 = (p->tiles + kLanes - 1) / kLanes * kLanes;
  // At least two panels: the GEMM's 8 x 32 register tile (a single panel runs an 8 x 16 one,
  // 1.2x slower on the 128-channel 16x16 layer).
  p->block =
      std::min(std::max<int64_t>(kBlockBytes / per_tile / kLanes * kLanes, 2 * kLanes), tiles16);
  p->blocks = (p->tiles + p->block - 1) / p->block;
  p->slots = std::min(p->blocks, kMaxSlots);
  for (int64_t r = 0; r <= p->slots; ++r) p->range_block.push_back(r * p->blocks / p->slots);
  for (int64_t r = 0; r < p->slots; ++r) {
    // Tiles [t0, t1) read plane rows 2 * ty0 .. 2 * ty1 + 3.
    const int64_t t0 = p->range_block[r] * p->block;
    const int64_t t1 = std::min(p->tiles, p->range_block[r + 1] * p->block);
    const int64_t ty0 = t0 / p->tw, ty1 = (t1 - 1) / p->tw;
    p->range_row.push_back(2 * ty0);
    p->rows = std::max(p->rows, 2 * (ty1 - ty0) + 4);
  }

  const int64_t panels = tiles16 / kLanes;
  for (int64_t pn = 0; pn < panels; ++pn) {
    p->panel_seg.push_back(static_cast<int32_t>(p->segs.size()));
    for (int64_t j = 0; j < kLanes;) {
      const int64_t t = pn * kLanes + j;
      if (t >= p->tiles) break;
      const int64_t ty = t / p->tw, tx = t % p->tw;
      const int64_t run = std::min(kLanes - j, p->tw - tx);
      const int64_t end = std::min(j + run, p->tiles - pn * kLanes);
      p->segs.push_back({static_cast<int32_t>(pn), static_cast<int32_t>(j),
                         static_cast<int32_t>(end), static_cast<int32_t>(2 * ty * p->we + tx),
                         static_cast<int32_t>(2 * ty), static_cast<int32_t>(2 * tx)});
      j = end;
    }
  }
  p->panel_seg.push_back(static_cast<int32_t>(p->segs.size()));

  // U = G g G^T per (output, input) channel, in double, stored as 16 matrices M x C.
  static constexpr double kG[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  p->u.assign(static_cast<size_t>(16 * m * c), 0.f);
  for (int64_t o = 0; o < m; ++o) {
    for (int64_t ci = 0; ci < c; ++ci) {
      const float* g = weights + (o * c + ci) * 9;
      double gg[4][3];  // G g
      for (int i = 0; i < 4; ++i)
        for (int b = 0; b < 3; ++b)
          gg[i][b] = kG[i][0] * g[b] + kG[i][1] * g[3 + b] + kG[i][2] * g[6 + b];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) {
          const double v = gg[i][0] * kG[j][0] + gg[i][1] * kG[j][1] + gg[i][2] * kG[j][2];
          p->u[static_cast<size_t>(((i * 4 + j) * m + o) * c + ci)] = static_cast<float>(v);
        }
    }
  }
  return p;
}

int64_t winograd_macs(const WinogradConv& p) {
  return 16 * p.tiles * p.c * p.m;
}

namespace {

// Rows [row0, row1) of the zero-padded even/odd column planes of X: plane (ci, parity) row pr
// column k holds padded pixel (pr, 2k + parity), i.e. X[ci][pr - pad_t][2k + parity - pad_l],
// stored at row pr - row0.
void split_planes(const WinogradConv& p, const float* x, int64_t row0, int64_t row1,
                  float* planes) {
  const auto copy2 =
      active_isa() == Isa::kAvx512 ? &detail::copy_stride2_avx512 : &detail::copy_stride2_scalar;
  const int64_t plane = p.plane_floats();
  for (int64_t ci = 0; ci < p.c; ++ci) {
    for (int64_t par = 0; par < 2; ++par) {
      const int64_t first = p.pad_l - par;  // 2k >= first
      const int64_t lo = std::clamp<int64_t>(first <= 0 ? 0 : (first + 1) / 2, 0, p.we);
      const int64_t last = p.iw - 1 + p.pad_l - par;  // 2k <= last
      const int64_t hi = std::clamp<int64_t>(last < 0 ? 0 : last / 2 + 1, lo, p.we);
      const int64_t iw0 = 2 * lo + par - p.pad_l;
      float* dst = planes + (2 * ci + par) * plane;
      for (int64_t pr = row0; pr < row1; ++pr) {
        float* d = dst + (pr - row0) * p.we;
        const int64_t ir = pr - p.pad_t;
        if (ir < 0 || ir >= p.ih) {
          std::fill(d, d + p.we, 0.f);
          continue;
        }
        std::fill(d, d + lo, 0.f);
        copy2(x + (ci * p.ih + ir) * p.iw + iw0, hi - lo, d + lo);
        std::fill(d + hi, d + p.we, 0.f);
      }
    }
  }
}

}  // namespace

namespace detail {

void winograd_in_scalar(const WinogradConv& p, const float* planes, int64_t row0, int64_t p0,
                        int64_t p1, float* v) {
  const int64_t plane = p.plane_floats(), we = p.we, xi_stride = p.v_stride();
  for (int64_t pn = p0; pn < p1; ++pn) {
    for (int64_t ci = 0; ci < p.c; ++ci) {
      const float* e = planes + 2 * ci * plane;
      const float* o = e + plane;
      float* vp = v + (pn - p0) * p.c * kLanes + ci * kLanes;
      for (int64_t xi = 0; xi < 16; ++xi)
        std::fill(vp + xi * xi_stride, vp + xi * xi_stride + kLanes, 0.f);
      for (int32_t s = p.panel_seg[pn]; s < p.panel_seg[pn + 1]; ++s) {
        const WinogradConv::Seg& sg = p.segs[static_cast<size_t>(s)];
        for (int64_t j = sg.lane0; j < sg.lane1; ++j) {
          const int64_t off = sg.in - row0 * we + (j - sg.lane0);
          float d[4][4], t[4][4];
          for (int r = 0; r < 4; ++r) {
            d[r][0] = e[off + r * we];
            d[r][1] = o[off + r * we];
            d[r][2] = e[off + 1 + r * we];
            d[r][3] = o[off + 1 + r * we];
          }
          // B^T d, then (B^T d) B.
          for (int s2 = 0; s2 < 4; ++s2) {
            t[0][s2] = d[0][s2] - d[2][s2];
            t[1][s2] = d[1][s2] + d[2][s2];
            t[2][s2] = d[2][s2] - d[1][s2];
            t[3][s2] = d[1][s2] - d[3][s2];
          }
          for (int r = 0; r < 4; ++r) {
            vp[(r * 4 + 0) * xi_stride + j] = t[r][0] - t[r][2];
            vp[(r * 4 + 1) * xi_stride + j] = t[r][1] + t[r][2];
            vp[(r * 4 + 2) * xi_stride + j] = t[r][2] - t[r][1];
            vp[(r * 4 + 3) * xi_stride + j] = t[r][1] - t[r][3];
          }
        }
      }
    }
  }
}

void winograd_out_scalar(const WinogradConv& p, const float* mo, int64_t p0, int64_t p1,
                         const float* bias, const float* residual, const Activation& act,
                         float* y) {
  const int64_t xi_stride = p.mo_stride(), plane_out = p.oh * p.ow;
  for (int64_t oc = 0; oc < p.m; ++oc) {
    const float b = bias ? bias[oc] : 0.f;
    for (int64_t pn = p0; pn < p1; ++pn) {
      const float* mp = mo + oc * p.block + (pn - p0) * kLanes;
      for (int32_t s = p.panel_seg[pn]; s < p.panel_seg[pn + 1]; ++s) {
        const WinogradConv::Seg& sg = p.segs[static_cast<size_t>(s)];
        for (int64_t j = sg.lane0; j < sg.lane1; ++j) {
          float mv[4][4], t[2][4];
          for (int xi = 0; xi < 16; ++xi) mv[xi / 4][xi % 4] = mp[xi * xi_stride + j];
          // A^T m, then (A^T m) A.
          for (int s2 = 0; s2 < 4; ++s2) {
            t[0][s2] = mv[0][s2] + mv[1][s2] + mv[2][s2];
            t[1][s2] = mv[1][s2] - mv[2][s2] - mv[3][s2];
          }
          const int64_t row = sg.row, col = sg.col + 2 * (j - sg.lane0);
          for (int a = 0; a < 2; ++a) {
            const float out[2] = {t[a][0] + t[a][1] + t[a][2], t[a][1] - t[a][2] - t[a][3]};
            for (int c2 = 0; c2 < 2; ++c2) {
              if (row + a >= p.oh || col + c2 >= p.ow) continue;
              const int64_t i = oc * plane_out + (row + a) * p.ow + col + c2;
              float val = out[c2] + b;
              if (residual) val += residual[i];
              y[i] = apply_activation(act, val);
            }
          }
        }
      }
    }
  }
}

}  // namespace detail

void winograd_conv(const WinogradConv& p, const float* x, const float* bias, const float* residual,
                   const Activation& act, float* y, float* scratch, ThreadPool* pool) {
  const bool avx512 = active_isa() == Isa::kAvx512;
  const detail::WinogradInFn in_fn =
      avx512 ? &detail::winograd_in_avx512 : &detail::winograd_in_scalar;
  const detail::WinogradOutFn out_fn =
      avx512 ? &detail::winograd_out_avx512 : &detail::winograd_out_scalar;
  const int64_t panels_per_block = p.block / kLanes;
  const int64_t all_panels = static_cast<int64_t>(p.panel_seg.size()) - 1;
  // Range r in slot s: its plane rows, then its blocks (input transform, 16 products, output
  // transform), all on one thread.
  auto do_range = [&](int64_t r, int64_t s) {
    float* planes = scratch + s * p.slot_floats();
    float* v = planes + p.input_floats();
    float* mo = v + p.v_floats();
    const int64_t row0 = p.range_row[static_cast<size_t>(r)];
    split_planes(p, x, row0, std::min(p.hp, row0 + p.rows), planes);
    for (int64_t b = p.range_block[static_cast<size_t>(r)];
         b < p.range_block[static_cast<size_t>(r) + 1]; ++b) {
      const int64_t pa = b * panels_per_block, pb = std::min(all_panels, pa + panels_per_block);
      const int64_t nt = std::min(p.block, p.tiles - b * p.block);
      in_fn(p, planes, row0, pa, pb, v);
      for (int64_t xi = 0; xi < 16; ++xi) {
        gemm_packed(p.m, p.u.data() + xi * p.m * p.c, p.c, 1, {v + xi * p.v_stride(), p.c, nt},
                    mo + xi * p.mo_stride(), p.block, {}, nullptr);
      }
      out_fn(p, mo, pa, pb, bias, residual, act, y);
    }
  };
  const int threads = pool ? pool->threads() : 1;
  const int64_t ns = std::min({p.slots, p.threads, int64_t{threads}});
  if (ns <= 1) {
    for (int64_t r = 0; r < p.slots; ++r) do_range(r, 0);
    return;
  }
  // One pool job: thread s runs the contiguous ranges [s * slots / ns, (s + 1) * slots / ns),
  // i.e. a band of output rows, the same band the next layer's thread s reads (its own L2).
  pool->parallel_for(ns, 1, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s)
      for (int64_t r = s * p.slots / ns; r < (s + 1) * p.slots / ns; ++r) do_range(r, s);
  });
}

}  // namespace softdpu::kernels
