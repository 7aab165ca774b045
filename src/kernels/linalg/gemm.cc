// Packing, the scalar reference twin, ISA dispatch and threading for the packed GEMM. The
// register-blocked microkernels live in gemm_avx512.cc / gemm_avx2.cc; the portable path over
// the packed layout is here.
#include "kernels/linalg/gemm.h"

#include <algorithm>
#include <cstring>

#include "core/cpu.h"
#include "kernels/linalg/gemm_kernels.h"

namespace softdpu::kernels {

void pack_b(const float* b, int64_t k, int64_t n, int64_t ldb, bool transposed, float scale,
            float* dst) {
  const int64_t panels = (n + kGemmPanel - 1) / kGemmPanel;
  for (int64_t p = 0; p < panels; ++p) {
    float* d = dst + p * k * kGemmPanel;
    const int64_t n0 = p * kGemmPanel;
    const int64_t w = std::min(kGemmPanel, n - n0);
    for (int64_t kk = 0; kk < k; ++kk) {
      float* row = d + kk * kGemmPanel;
      if (transposed) {
        for (int64_t j = 0; j < w; ++j) row[j] = scale * b[(n0 + j) * ldb + kk];
      } else {
        const float* src = b + kk * ldb + n0;
        for (int64_t j = 0; j < w; ++j) row[j] = scale * src[j];
      }
      for (int64_t j = w; j < kGemmPanel; ++j) row[j] = 0.f;
    }
  }
}

PackedB PackedB::pack(const float* b, int64_t k, int64_t n, int64_t ldb, bool transposed,
                      float scale) {
  PackedB p;
  p.k_ = k;
  p.n_ = n;
  p.data_.resize(static_cast<size_t>(packed_b_floats(k, n)));
  pack_b(b, k, n, ldb, transposed, scale, p.data_.data());
  return p;
}

void gemm_reference(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                    int64_t ldb, bool b_transposed, float* c, int64_t ldc, const GemmEpilogue& ep) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0;
      for (int64_t kk = 0; kk < k; ++kk)
        acc += a[i * lda + kk] * (b_transposed ? b[j * ldb + kk] : b[kk * ldb + j]);
      if (ep.accumulate) acc += c[i * ldc + j];
      if (ep.bias) acc += ep.bias[j];
      if (ep.row_bias) acc += ep.row_bias[i];
      c[i * ldc + j] = apply_activation(ep.activation, acc);
    }
  }
}

namespace detail {

// Portable path over the packed layout: a 16-lane inner loop the compiler vectorises with the
// baseline SSE2, so even the fallback streams B once.
void gemm_block_scalar(const GemmJob& job, int64_t m0, int64_t m1, int64_t p0, int64_t p1) {
  const int64_t k = job.k;
  for (int64_t g = 0; g < p1 - p0; ++g) {
    const int64_t p = gemv_group(job, p0, p1, 1, g);
    const float* bp = job.b + p * k * kGemmPanel;
    const int64_t n0 = p * kGemmPanel;
    const int64_t w = std::min(kGemmPanel, job.n - n0);
    for (int64_t i = m0; i < m1; ++i) {
      float acc[kGemmPanel] = {};
      const float* ai = job.a + i * job.a_rs;
      for (int64_t kk = 0; kk < k; ++kk) {
        const float x = ai[kk * job.a_cs];
        const float* row = bp + kk * kGemmPanel;
        for (int j = 0; j < kGemmPanel; ++j) acc[j] += x * row[j];
      }
      float* ci = job.c + i * job.ldc + n0;
      for (int64_t j = 0; j < w; ++j) {
        float v = acc[j];
        if (job.accumulate) v += ci[j];
        if (job.bias) v += job.bias[n0 + j];
        if (job.row_bias) v += job.row_bias[i];
        ci[j] = apply_activation(job.act, v);
      }
    }
  }
}

}  // namespace detail

namespace {

using BlockFn = void (*)(const detail::GemmJob&, int64_t, int64_t, int64_t, int64_t);

BlockFn select_block_fn() {
  switch (active_isa()) {
    case Isa::kAvx512: return &detail::gemm_block_avx512;
    case Isa::kAvx2: return &detail::gemm_block_avx2;
    case Isa::kScalar: break;
  }
  return &detail::gemm_block_scalar;
}

// Below this many multiply-adds a chunk is not worth a hand-off to another thread (a wake-up
// and the join cost about a microsecond each; 64K MACs take ~1-3 us on one core).
constexpr int64_t kMinChunkMacs = 64 * 1024;

// K == 0: the product is zero, only the epilogue remains.
void epilogue_only(int64_t m, int64_t n, float* c, int64_t ldc, const GemmEpilogue& ep) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float v = ep.accumulate ? c[i * ldc + j] : 0.f;
      if (ep.bias) v += ep.bias[j];
      if (ep.row_bias) v += ep.row_bias[i];
      c[i * ldc + j] = apply_activation(ep.activation, v);
    }
  }
}

}  // namespace

void gemm_packed(int64_t m, const float* a, int64_t a_row_stride, int64_t a_col_stride,
                 PackedBView b, float* c, int64_t ldc, const GemmEpilogue& ep, ThreadPool* pool) {
  if (m <= 0 || b.n <= 0) return;
  if (b.k <= 0) {
    epilogue_only(m, b.n, c, ldc, ep);
    return;
  }
  detail::GemmJob job;
  job.m = m;
  job.n = b.n;
  job.k = b.k;
  job.a = a;
  job.a_rs = a_row_stride;
  job.a_cs = a_col_stride;
  job.b = b.data;
  job.c = c;
  job.ldc = ldc;
  job.bias = ep.bias;
  job.row_bias = ep.row_bias;
  job.accumulate = ep.accumulate;
  job.tile_prefetch = ep.tile_prefetch;
  job.reverse_panels = ep.reverse_panels && m == 1;
  const bool act_after = !detail::act_in_register(ep.activation.kind);
  if (!act_after) job.act = ep.activation;

  const BlockFn fn = select_block_fn();
  const int64_t panels = (b.n + kGemmPanel - 1) / kGemmPanel;
  auto run = [&](int64_t m0, int64_t m1, int64_t p0, int64_t p1) {
    fn(job, m0, m1, p0, p1);
    if (act_after) {
      // Applied per finished block, while its rows are still in L1.
      const int64_t n0 = p0 * kGemmPanel, n1 = std::min(b.n, p1 * kGemmPanel);
      for (int64_t i = m0; i < m1; ++i)
        apply_activation_inplace(ep.activation, c + i * ldc + n0, n1 - n0);
    }
  };

  const int threads = pool ? pool->threads() : 1;
  const int64_t macs = m * b.k * b.n;
  if (threads <= 1 || macs < 2 * kMinChunkMacs) {
    run(0, m, 0, panels);
    return;
  }
  // Split N in whole units (the gemv path works on groups of 4 panels, the tiles on pairs) when
  // there are enough of them, otherwise split M in whole 8-row tiles.
  const int64_t unit = m == 1 ? 4 : 2;
  const int64_t units = (panels + unit - 1) / unit;
  const int64_t m_tiles = (m + 7) / 8;
  if (units >= threads || m_tiles < 2 * threads) {
    const int64_t unit_macs = m * b.k * unit * kGemmPanel;
    const int64_t grain = std::max<int64_t>(1, kMinChunkMacs / std::max<int64_t>(1, unit_macs));
    pool->parallel_for(units, grain, [&](int64_t u0, int64_t u1) {
      run(0, m, u0 * unit, std::min(panels, u1 * unit));
    });
  } else {
    const int64_t tile_macs = 8 * b.k * b.n;
    const int64_t grain = std::max<int64_t>(1, kMinChunkMacs / std::max<int64_t>(1, tile_macs));
    pool->parallel_for(m_tiles, grain, [&](int64_t t0, int64_t t1) {
      run(t0 * 8, std::min(m, t1 * 8), 0, panels);
    });
  }
}

void gemm_packed(int64_t m, const float* a, int64_t lda, const PackedB& b, float* c, int64_t ldc,
                 const GemmEpilogue& ep, ThreadPool* pool) {
  gemm_packed(m, a, lda, 1, b.view(), c, ldc, ep, pool);
}

}  // namespace softdpu::kernels
