#include "kernels/linalg/narrow_weight.h"

#include <vector>

#include "runtime/encoded_weights.h"
#include "runtime/precision.h"

namespace softdpu::kernels {

formats::WeightFormat node_weight_format(const runtime::PrepareContext& ctx) {
  return formats::parse_format(ctx.attr_string(runtime::kWeightFormatAttr, "fp32"));
}

QGemmOptions node_qgemm_options(const runtime::PrepareContext& ctx) {
  QGemmOptions o;
  if (ctx.attr_string(runtime::kActivationsAttr, "fp32") == "native")
    o.activations = QuantActivations::kNative;
  return o;
}

std::shared_ptr<formats::PackedMatrix> pack_weight(const float* b, int64_t k, int64_t n,
                                                   int64_t ldb, bool transposed, float scale,
                                                   const formats::WeightFormat& f) {
  const float* w = b;
  int64_t ldw = ldb;
  std::vector<float> tmp;
  // PackedMatrix::pack reads rows of K; copy only when B is K x N or must be scaled first
  // (scaling before quantisation keeps alpha inside the per-block scales).
  if (!transposed || scale != 1.f) {
    tmp.resize(static_cast<size_t>(n * k));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < k; ++j)
        tmp[i * k + j] = scale * (transposed ? b[i * ldb + j] : b[j * ldb + i]);
    w = tmp.data();
    ldw = k;
  }
  runtime::EncodedWeights* store = runtime::current_encoded_weights();
  if (!store) {
    return std::make_shared<formats::PackedMatrix>(formats::PackedMatrix::pack(w, n, k, ldw, f));
  }
  const std::string key = runtime::EncodedWeights::key(f, w, n, k, ldw);
  if (auto found = store->find(key)) return found;
  auto packed =
      std::make_shared<formats::PackedMatrix>(formats::PackedMatrix::pack(w, n, k, ldw, f));
  store->add(key, packed);
  return packed;
}

}  // namespace softdpu::kernels
