#include "compress/sparse.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "formats/element.h"
#include "formats/format.h"

namespace softdpu::compress {
namespace {

float round_to(float v, const std::string& precision) {
  if (precision == "bf16")
    return formats::bf16_to_float(formats::float_to_bf16(v, formats::Rounding::kEven));
  if (precision == "fp16")
    return formats::fp16_to_float(formats::float_to_fp16(v, formats::Rounding::kEven));
  return v;
}

}  // namespace

void prune_by_magnitude(float* w, int64_t n, int64_t k, int64_t ldw, double density) {
  const int64_t total = n * k;
  const int64_t keep = std::llround(std::clamp(density, 0.0, 1.0) * static_cast<double>(total));
  if (keep >= total) return;
  std::vector<int64_t> order(static_cast<size_t>(total));
  std::iota(order.begin(), order.end(), int64_t{0});
  auto mag = [&](int64_t i) { return std::fabs(w[(i / k) * ldw + i % k]); };
  // Largest magnitude first, earlier position first among equals: a deterministic cut.
  std::nth_element(order.begin(), order.begin() + keep, order.end(), [&](int64_t a, int64_t b) {
    const float ma = mag(a), mb = mag(b);
    return ma != mb ? ma > mb : a < b;
  });
  for (auto it = order.begin() + keep; it != order.end(); ++it) w[(*it / k) * ldw + *it % k] = 0.f;
}

double density_of(const float* w, int64_t n, int64_t k, int64_t ldw) {
  if (n * k == 0) return 0.0;
  int64_t nz = 0;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c) nz += w[r * ldw + c] != 0.f;
  return static_cast<double>(nz) / static_cast<double>(n * k);
}

int nearest_centroid(const std::vector<float>& centroids, float v) {
  const auto it = std::lower_bound(centroids.begin(), centroids.end(), v);
  if (it == centroids.begin()) return 0;
  if (it == centroids.end()) return static_cast<int>(centroids.size()) - 1;
  const int hi = static_cast<int>(it - centroids.begin());
  return (v - centroids[hi - 1] <= centroids[hi] - v) ? hi - 1 : hi;
}

std::vector<float> kmeans_codebook(std::vector<float> values, int entries,
                                   const std::string& precision) {
  if (values.empty() || entries <= 0) return {};
  std::sort(values.begin(), values.end());
  std::vector<float> distinct = values;
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::vector<float> c;
  if (static_cast<int>(distinct.size()) <= entries) {
    c = distinct;
  } else {
    // Linear initialisation: Deep Compression found it keeps the large (rare, important) weights
    // better than density-based initialisations.
    const double lo = values.front(), hi = values.back();
    for (int i = 0; i < entries; ++i)
      c.push_back(static_cast<float>(lo + (hi - lo) * i / (entries - 1)));
    // The values are sorted, so each cluster is a contiguous run between the midpoints of
    // neighbouring centroids: with prefix sums an iteration costs O(entries log n), and Lloyd's
    // iteration can run to its fixed point even for layers with millions of weights.
    std::vector<double> prefix(values.size() + 1, 0.0);
    for (size_t i = 0; i < values.size(); ++i) prefix[i + 1] = prefix[i] + values[i];
    for (int iter = 0; iter < 1000; ++iter) {
      bool moved = false;
      size_t lo = 0;
      for (int i = 0; i < entries; ++i) {
        // Values up to the midpoint with the next centroid (ties go to the lower one, as
        // nearest_centroid decides them) belong to centroid i.
        size_t hi = values.size();
        if (i + 1 < entries) {
          const float mid = c[i] + (c[i + 1] - c[i]) / 2;
          hi = std::upper_bound(values.begin() + lo, values.end(), mid) - values.begin();
        }
        if (hi > lo) {
          const float nc = static_cast<float>((prefix[hi] - prefix[lo]) / double(hi - lo));
          moved |= nc != c[i];
          c[i] = nc;
        }
        lo = hi;
      }
      std::sort(c.begin(), c.end());
      if (!moved) break;
    }
  }
  for (float& v : c) v = round_to(v, precision);
  std::sort(c.begin(), c.end());
  c.erase(std::unique(c.begin(), c.end()), c.end());
  return c;
}

std::vector<float> share_weights(float* w, int64_t n, int64_t k, int64_t ldw, int bits,
                                 const std::string& precision) {
  std::vector<float> nz;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c)
      if (w[r * ldw + c] != 0.f) nz.push_back(w[r * ldw + c]);
  const std::vector<float> cb = kmeans_codebook(std::move(nz), (1 << bits) - 1, precision);
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t c = 0; c < k; ++c) {
      float& v = w[r * ldw + c];
      if (v != 0.f) v = cb[nearest_centroid(cb, v)];
    }
  }
  return cb;
}

}  // namespace softdpu::compress
