#include "kernels/linalg/compressed_weight.h"

#include <vector>

#include "runtime/compression.h"

namespace softdpu::kernels {

compress::CompressionSpec node_compression(const runtime::PrepareContext& ctx) {
  const std::string s = ctx.attr_string(runtime::kCompressionAttr, "none");
  try {
    return compress::CompressionSpec::parse(s);
  } catch (const Error& e) {
    ctx.fail(e.what());
  }
}

std::shared_ptr<compress::CompressedMatrix> pack_compressed(const compress::CompressionSpec& spec,
                                                            const float* b, int64_t k, int64_t n,
                                                            int64_t ldb, bool transposed,
                                                            float scale) {
  if (spec.kind == compress::CompressionSpec::Kind::kNone) return nullptr;
  std::vector<float> w(static_cast<size_t>(n * k));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j)
      w[i * k + j] = scale * (transposed ? b[i * ldb + j] : b[j * ldb + i]);
  return compress::make_compressed(spec, w.data(), n, k, k);
}

}  // namespace softdpu::kernels
