#include "compress/circulant.h"

#include <algorithm>
#include <cmath>

namespace softdpu::compress {

CirculantVectors project_circulant(const float* w, int64_t n, int64_t k, int64_t ldw, int block,
                                   double* rel_error) {
  CirculantVectors v;
  v.n = n;
  v.k = k;
  v.block = block;
  v.p = (n + block - 1) / block;
  v.q = (k + block - 1) / block;
  v.c.assign(static_cast<size_t>(v.p * v.q * block), 0.f);
  std::vector<double> sum(block), cnt(block);
  for (int64_t i = 0; i < v.p; ++i) {
    for (int64_t j = 0; j < v.q; ++j) {
      std::fill(sum.begin(), sum.end(), 0.0);
      std::fill(cnt.begin(), cnt.end(), 0.0);
      const int64_t r_end = std::min<int64_t>(block, n - i * block);
      const int64_t s_end = std::min<int64_t>(block, k - j * block);
      for (int64_t r = 0; r < r_end; ++r) {
        const float* row = w + (i * block + r) * ldw + j * block;
        for (int64_t s = 0; s < s_end; ++s) {
          const int64_t d = (r - s + block) % block;
          sum[d] += row[s];
          cnt[d] += 1;
        }
      }
      float* c = v.c.data() + (i * v.q + j) * block;
      for (int d = 0; d < block; ++d) c[d] = cnt[d] > 0 ? static_cast<float>(sum[d] / cnt[d]) : 0.f;
    }
  }
  if (rel_error) {
    double err = 0, norm = 0;
    for (int64_t r = 0; r < n; ++r) {
      for (int64_t s = 0; s < k; ++s) {
        const double x = w[r * ldw + s];
        const float* c = v.at(r / block, s / block);
        const double e = x - c[((r % block) - (s % block) + block) % block];
        err += e * e;
        norm += x * x;
      }
    }
    *rel_error = norm > 0 ? std::sqrt(err / norm) : 0.0;
  }
  return v;
}

bool is_block_circulant(const float* w, int64_t n, int64_t k, int64_t ldw, int block,
                        double rel_tol) {
  // Cheap rejection first: inside a circulant block, w[r][s] == w[r-1][s-1]; a dense trained
  // matrix fails this on its first entries, so detection costs nothing on ordinary layers.
  double max_abs = 0;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t s = 0; s < k; ++s) max_abs = std::max(max_abs, std::fabs(double(w[r * ldw + s])));
  const double tol = rel_tol * max_abs;
  for (int64_t r = 1; r < std::min<int64_t>(n, block); ++r) {
    for (int64_t s = 1; s < std::min<int64_t>(k, block); ++s) {
      if (std::fabs(double(w[r * ldw + s]) - w[(r - 1) * ldw + s - 1]) > tol) return false;
    }
  }
  // Every entry against its block's wrapped-diagonal average.
  CirculantVectors v = project_circulant(w, n, k, ldw, block);
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t s = 0; s < k; ++s) {
      const float* c = v.at(r / block, s / block);
      if (std::fabs(double(w[r * ldw + s]) - c[((r % block) - (s % block) + block) % block]) > tol)
        return false;
    }
  }
  return true;
}

int detect_circulant_block(const float* w, int64_t n, int64_t k, int64_t ldw, double rel_tol) {
  for (int b = 256; b >= 4; b /= 2) {
    if (b > n || b > k) continue;
    if (is_block_circulant(w, n, k, ldw, b, rel_tol)) return b;
  }
  return 0;
}

void expand_circulant(const CirculantVectors& v, float* w, int64_t ldw) {
  const int b = v.block;
  for (int64_t r = 0; r < v.n; ++r) {
    for (int64_t s = 0; s < v.k; ++s) {
      w[r * ldw + s] = v.at(r / b, s / b)[((r % b) - (s % b) + b) % b];
    }
  }
}

}  // namespace softdpu::compress
