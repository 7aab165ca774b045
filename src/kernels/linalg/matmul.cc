// ONNX MatMul with numpy semantics: 1-D operands are promoted (and the added axis removed
// again), leading batch axes broadcast. Three plans:
//  - B without batch axes (the weight-matrix case): A's batch axes fold into M, one product with
//    B packed once at plan time (or into scratch per run when B is an activation);
//  - a constant A with a narrow run-time B (MatMul(W, x)): Y^T = B^T A^T with A^T packed, so the
//    weights still stream once through the matrix-vector path;
//  - otherwise one product per broadcast batch entry.
// A constant 2-D B the planner marked narrow (docs/precision.md) takes the first plan with a
// formats::PackedMatrix and kernels::qgemm instead of PackedB.
#include <memory>
#include <vector>

#include "kernels/activation.h"
#include "kernels/linalg/compressed_weight.h"
#include "kernels/linalg/gemm.h"
#include "kernels/linalg/matmul_shape.h"
#include "kernels/linalg/narrow_weight.h"
#include "kernels/quant/qgemm.h"
#include "runtime/kernel.h"

namespace softdpu::runtime {

using kernels::GemmEpilogue;
using kernels::PackedB;
using kernels::PackedBView;

namespace {

int64_t round16(int64_t n) {
  return (n + 15) / 16 * 16;
}

}  // namespace

std::unique_ptr<Kernel> prepare_MatMul(PrepareContext& ctx) {
  ctx.expect_dtype(0, {DType::kFloat32});
  ctx.expect_dtype(1, {DType::kFloat32});
  const kernels::Activation act = kernels::fused_activation(ctx);
  const kernels::MatMulShape ms = kernels::resolve_matmul_shape(ctx, 0, 1);
  const int64_t m = ms.m, k = ms.k, n = ms.n;
  const Shape& batch_a = ms.batch_a;
  const Shape& batch_b = ms.batch_b;
  const Shape& batch = ms.batch;
  ctx.set_output(0, DType::kFloat32, ms.out);
  if (!ctx.kernel_wanted()) return nullptr;

  GemmEpilogue ep;
  ep.activation = act;
  const bool b_const = ctx.is_constant(1);

  if (batch_b.empty() || shape_numel(batch_b) == 1) {
    const bool a_batched = shape_numel(batch_a) > 1 || batch.size() > batch_a.size();
    // A[.., M, K] rows are contiguous, so the batch folds into M (B broadcasts over it).
    const int64_t rows = shape_numel(batch) * m;
    if (!b_const && ctx.is_constant(0) && !a_batched && n <= 8) {
      // Y^T[N, M] = B^T[N, K] * A^T[K, M] with the constant A packed transposed.
      auto pa = std::make_shared<PackedB>(PackedB::pack(ctx.constant_as<float>(0), k, m, k, true));
      ctx.release_constant(0);
      if (n > 1) ctx.request_scratch(static_cast<size_t>(n * m) * sizeof(float));
      return make_kernel([=](const KernelArgs& args) {
        const float* b = static_cast<const float*>(args.in[1]);
        float* y = static_cast<float*>(args.out[0]);
        float* yt = n == 1 ? y : static_cast<float*>(args.scratch);
        kernels::gemm_packed(n, b, 1, n, pa->view(), yt, m, ep, args.pool);
        if (n > 1) {
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) y[i * n + j] = yt[j * m + i];
        }
      });
    }
    const compress::CompressionSpec cs = kernels::node_compression(ctx);
    if (b_const && cs.kind != compress::CompressionSpec::Kind::kNone) {  // docs/compression.md
      auto cm = kernels::pack_compressed(cs, ctx.constant_as<float>(1), k, n, n, false, 1.f);
      ctx.release_constant(1);
      ctx.request_scratch(cm->scratch_bytes(rows));
      return make_kernel([=](const KernelArgs& args) {
        cm->apply(rows, static_cast<const float*>(args.in[0]), k, static_cast<float*>(args.out[0]),
                  n, ep, args.pool, args.scratch);
      });
    }
    const formats::WeightFormat wf = kernels::node_weight_format(ctx);
    if (b_const && wf.id != formats::FormatId::kFp32) {
      auto narrow = kernels::pack_weight(ctx.constant_as<float>(1), k, n, n, false, 1.f, wf);
      ctx.release_constant(1);
      const kernels::QGemmOptions qo = kernels::node_qgemm_options(ctx);
      ctx.request_scratch(kernels::qgemm_scratch_bytes(rows, *narrow, qo));
      return make_kernel([=](const KernelArgs& args) {
        kernels::qgemm(rows, static_cast<const float*>(args.in[0]), k, *narrow,
                       static_cast<float*>(args.out[0]), n, ep, args.pool, qo, args.scratch);
      });
    }
    std::shared_ptr<PackedB> packed;
    if (b_const) {
      packed = std::make_shared<PackedB>(PackedB::pack(ctx.constant_as<float>(1), k, n, n, false));
      ctx.release_constant(1);
    } else {
      ctx.request_scratch(static_cast<size_t>(kernels::packed_b_floats(k, n)) * sizeof(float));
    }
    return make_kernel([=](const KernelArgs& args) {
      const float* a = static_cast<const float*>(args.in[0]);
      float* y = static_cast<float*>(args.out[0]);
      PackedBView bv;
      if (packed) {
        bv = packed->view();
      } else {
        float* s = static_cast<float*>(args.scratch);
        kernels::pack_b(static_cast<const float*>(args.in[1]), k, n, n, false, 1.f, s);
        bv = {s, k, n};
      }
      kernels::gemm_packed(rows, a, k, 1, bv, y, n, ep, args.pool);
    });
  }

  // Batched B: one product per output batch entry.
  const std::vector<int64_t>& off_a = ms.off_a;
  const std::vector<int64_t>& off_b = ms.off_b;
  const int64_t nb = shape_numel(batch_b);
  const int64_t slice = round16(kernels::packed_b_floats(k, n));
  std::shared_ptr<std::vector<PackedB>> packs;
  if (b_const) {
    packs = std::make_shared<std::vector<PackedB>>();
    const float* b = ctx.constant_as<float>(1);
    for (int64_t i = 0; i < nb; ++i) packs->push_back(PackedB::pack(b + i * k * n, k, n, n, false));
    ctx.release_constant(1);
  } else {
    ctx.request_scratch(static_cast<size_t>(nb * slice) * sizeof(float));
  }
  return make_kernel([=](const KernelArgs& args) {
    const float* a = static_cast<const float*>(args.in[0]);
    const float* b = static_cast<const float*>(args.in[1]);
    float* y = static_cast<float*>(args.out[0]);
    float* s = static_cast<float*>(args.scratch);
    if (!packs) {
      for (int64_t i = 0; i < nb; ++i)
        kernels::pack_b(b + i * k * n, k, n, n, false, 1.f, s + i * slice);
    }
    for (size_t e = 0; e < off_a.size(); ++e) {
      const PackedBView bv =
          packs ? (*packs)[off_b[e]].view() : PackedBView{s + off_b[e] * slice, k, n};
      kernels::gemm_packed(m, a + off_a[e] * m * k, k, 1, bv, y + e * m * n, n, ep, args.pool);
    }
  });
}

}  // namespace softdpu::runtime

namespace softdpu::kernels {

std::vector<int64_t> broadcast_batch_offsets(const Shape& batch, const Shape& out) {
  const int64_t total = shape_numel(out);
  std::vector<int64_t> offs(total, 0);
  const size_t r = out.size(), lead = r - batch.size();
  for (int64_t idx = 0; idx < total; ++idx) {
    int64_t rem = idx, off = 0, stride = 1;
    for (size_t d = r; d-- > 0;) {
      const int64_t i = rem % out[d];
      rem /= out[d];
      if (d >= lead) {
        const int64_t dim = batch[d - lead];
        if (dim != 1) off += i * stride;
        stride *= dim;
      }
    }
    offs[idx] = off;
  }
  return offs;
}

MatMulShape resolve_matmul_shape(const runtime::PrepareContext& ctx, int ia, int ib) {
  ctx.expect_rank(ia, 1, 16);
  ctx.expect_rank(ib, 1, 16);
  const Shape& sa = ctx.shape(ia);
  const Shape& sb = ctx.shape(ib);
  const bool a_vec = sa.size() == 1, b_vec = sb.size() == 1;
  MatMulShape r;
  r.m = a_vec ? 1 : sa[sa.size() - 2];
  r.k = sa.back();
  const int64_t kb = b_vec ? sb[0] : sb[sb.size() - 2];
  r.n = b_vec ? 1 : sb.back();
  if (r.k != kb) {
    ctx.fail("inner dimensions differ: A " + shape_to_string(sa) + " has K=" + std::to_string(r.k) +
             ", B " + shape_to_string(sb) + " has K=" + std::to_string(kb));
  }
  r.batch_a = Shape(sa.begin(), sa.end() - (a_vec ? 1 : 2));
  r.batch_b = Shape(sb.begin(), sb.end() - (b_vec ? 1 : 2));
  r.batch = runtime::broadcast_shapes(ctx, r.batch_a, r.batch_b);
  r.out = r.batch;
  if (!a_vec) r.out.push_back(r.m);
  if (!b_vec) r.out.push_back(r.n);
  r.off_a = broadcast_batch_offsets(r.batch_a, r.batch);
  r.off_b = broadcast_batch_offsets(r.batch_b, r.batch);
  return r;
}

}  // namespace softdpu::kernels
