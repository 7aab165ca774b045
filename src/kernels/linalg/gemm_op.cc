// ONNX Gemm: Y = act(alpha * A' * B' + beta * C), A' = transA ? A^T : A, B' likewise, C
// unidirectionally broadcast to [M, N]. A constant B (the usual weight matrix) is packed once
// here with alpha folded in; a run-time B is packed into scratch on every run. A constant B
// the planner marked narrow (docs/precision.md) is packed as a formats::PackedMatrix instead and
// the product runs through kernels::qgemm with the same epilogue.
#include <memory>

#include "kernels/activation.h"
#include "kernels/linalg/compressed_weight.h"
#include "kernels/linalg/gemm.h"
#include "kernels/linalg/narrow_weight.h"
#include "kernels/quant/qgemm.h"
#include "runtime/kernel.h"

namespace softdpu::runtime {

using kernels::GemmEpilogue;
using kernels::PackedB;

namespace {

// How C reaches the output: folded into the epilogue as a per-column or per-row bias when its
// broadcast makes it one, otherwise written into Y first and accumulated onto.
enum class CMode { kNone, kColumn, kRow, kFull };

int64_t round16(int64_t n) {
  return (n + 15) / 16 * 16;
}

}  // namespace

std::unique_ptr<Kernel> prepare_Gemm(PrepareContext& ctx) {
  ctx.expect_dtype(0, {DType::kFloat32});
  ctx.expect_dtype(1, {DType::kFloat32});
  ctx.expect_rank(0, 2, 2);
  ctx.expect_rank(1, 2, 2);
  const bool trans_a = ctx.attr_int("transA", 0) != 0;
  const bool trans_b = ctx.attr_int("transB", 0) != 0;
  const float alpha = ctx.attr_float("alpha", 1.f);
  const float beta = ctx.attr_float("beta", 1.f);
  const kernels::Activation act = kernels::fused_activation(ctx);

  const Shape& sa = ctx.shape(0);
  const Shape& sb = ctx.shape(1);
  const int64_t m = trans_a ? sa[1] : sa[0];
  const int64_t k = trans_a ? sa[0] : sa[1];
  const int64_t kb = trans_b ? sb[1] : sb[0];
  const int64_t n = trans_b ? sb[0] : sb[1];
  if (k != kb) {
    ctx.fail("inner dimensions differ: A " + shape_to_string(sa) + (trans_a ? " (transA)" : "") +
             " gives K=" + std::to_string(k) + ", B " + shape_to_string(sb) +
             (trans_b ? " (transB)" : "") + " gives K=" + std::to_string(kb));
  }
  ctx.set_output(0, DType::kFloat32, {m, n});

  CMode cmode = CMode::kNone;
  Shape sc;
  if (ctx.has_input(2) && beta != 0.f) {
    ctx.expect_dtype(2, {DType::kFloat32});
    ctx.expect_rank(2, 0, 2);
    sc = ctx.shape(2);
    const int64_t cm = sc.size() == 2 ? sc[0] : 1;
    const int64_t cn = sc.empty() ? 1 : sc.back();
    if ((cm != 1 && cm != m) || (cn != 1 && cn != n)) {
      ctx.fail("input 2 ('" + ctx.input(2).name + "') of shape " + shape_to_string(sc) +
               " cannot be broadcast to the output [" + std::to_string(m) + ", " +
               std::to_string(n) + "]");
    }
    if (cm == 1)
      cmode = CMode::kColumn;  // one value per column (or a scalar)
    else if (cn == 1)
      cmode = CMode::kRow;
    else
      cmode = CMode::kFull;
  }
  // A[i, k] at a[i * rs + k * cs]: a transposed A is read in place.
  const int64_t a_rs = trans_a ? 1 : k;
  const int64_t a_cs = trans_a ? m : 1;

  if (!ctx.kernel_wanted()) return nullptr;
  std::shared_ptr<PackedB> packed;
  std::shared_ptr<formats::PackedMatrix> narrow;
  std::shared_ptr<compress::CompressedMatrix> cm;  // docs/compression.md
  const formats::WeightFormat wf = kernels::node_weight_format(ctx);
  const kernels::QGemmOptions qo = kernels::node_qgemm_options(ctx);
  const compress::CompressionSpec cs = kernels::node_compression(ctx);
  if (ctx.is_constant(1) && cs.kind != compress::CompressionSpec::Kind::kNone) {
    cm = kernels::pack_compressed(cs, ctx.constant_as<float>(1), k, n, trans_b ? k : n, trans_b,
                                  alpha);
  } else if (ctx.is_constant(1) && wf.id != formats::FormatId::kFp32) {
    narrow =
        kernels::pack_weight(ctx.constant_as<float>(1), k, n, trans_b ? k : n, trans_b, alpha, wf);
  } else if (ctx.is_constant(1)) {
    packed = std::make_shared<PackedB>(
        PackedB::pack(ctx.constant_as<float>(1), k, n, trans_b ? k : n, trans_b, alpha));
  }
  if (packed || narrow || cm) ctx.release_constant(1);
  // A constant C that folds into a bias is scaled by beta once, here.
  std::shared_ptr<std::vector<float>> bias;
  if ((cmode == CMode::kColumn || cmode == CMode::kRow) && ctx.is_constant(2)) {
    const float* c = ctx.constant_as<float>(2);
    const int64_t len = cmode == CMode::kColumn ? n : m;
    bias = std::make_shared<std::vector<float>>(len);
    for (int64_t i = 0; i < len; ++i) (*bias)[i] = beta * c[shape_numel(sc) == 1 ? 0 : i];
  }
  // Scratch: [qgemm's buffer][A^T for qgemm when transA][packed B when run-time][bias vector
  // when run-time C folds into one]. qgemm reads A row-major, so a transposed A is copied.
  const size_t q_bytes = narrow ? kernels::round64(kernels::qgemm_scratch_bytes(m, *narrow, qo))
                         : cm   ? kernels::round64(cm->scratch_bytes(m))
                                : 0;
  const size_t at_bytes = (narrow || cm) && trans_a ? kernels::round64(m * k * sizeof(float)) : 0;
  const int64_t b_floats = packed || narrow || cm ? 0 : round16(kernels::packed_b_floats(k, n));
  const int64_t bias_len = cmode == CMode::kColumn ? n : (cmode == CMode::kRow ? m : 0);
  const int64_t bias_floats = bias ? 0 : round16(bias_len);
  ctx.request_scratch(q_bytes + at_bytes +
                      static_cast<size_t>(b_floats + bias_floats) * sizeof(float));

  return make_kernel([=](const KernelArgs& args) {
    const float* a = static_cast<const float*>(args.in[0]);
    float* y = static_cast<float*>(args.out[0]);
    uint8_t* base = static_cast<uint8_t*>(args.scratch);
    float* scratch = reinterpret_cast<float*>(base + q_bytes + at_bytes);
    GemmEpilogue ep;
    ep.activation = act;
    const float* c = cmode == CMode::kNone ? nullptr : static_cast<const float*>(args.in[2]);
    const float* vec = bias ? bias->data() : nullptr;
    if (!vec && (cmode == CMode::kColumn || cmode == CMode::kRow)) {
      float* v = scratch + b_floats;
      const bool scalar = shape_numel(sc) == 1;
      for (int64_t i = 0; i < bias_len; ++i) v[i] = beta * c[scalar ? 0 : i];
      vec = v;
    }
    if (cmode == CMode::kColumn) ep.bias = vec;
    if (cmode == CMode::kRow) ep.row_bias = vec;
    if (cmode == CMode::kFull) {
      // C is a full [M, N] matrix here (every broadcast form folds into a bias above).
      for (int64_t i = 0; i < m * n; ++i) y[i] = beta * c[i];
      ep.accumulate = true;
    }
    if (narrow || cm) {
      if (trans_a) {
        float* at = reinterpret_cast<float*>(base + q_bytes);
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < k; ++j) at[i * k + j] = a[i * a_rs + j * a_cs];
        a = at;
      }
      if (cm)
        cm->apply(m, a, k, y, n, ep, args.pool, base);
      else
        kernels::qgemm(m, a, k, *narrow, y, n, ep, args.pool, qo, base);
      return;
    }
    kernels::PackedBView bv;
    if (packed) {
      bv = packed->view();
    } else {
      kernels::pack_b(static_cast<const float*>(args.in[1]), k, n, trans_b ? k : n, trans_b, alpha,
                      scratch);
      bv = {scratch, k, n};
    }
    kernels::gemm_packed(m, a, a_rs, a_cs, bv, y, n, ep, args.pool);
  });
}

}  // namespace softdpu::runtime
