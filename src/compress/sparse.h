// EIE compression steps on a plain dense matrix: magnitude pruning to a density and k-means
// weight sharing (a codebook of at most 2^bits values, zero among them). The planner applies
// these to a layer's weight once; sparse_matrix.h stores the result the way EIE does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace softdpu::compress {

// Zeroes all but the round(density * n * k) largest-magnitude entries of the N x K matrix w (row
// stride ldw); ties at the threshold are broken by position (earlier kept). density in [0, 1].
void prune_by_magnitude(float* w, int64_t n, int64_t k, int64_t ldw, double density);

// Fraction of non-zero entries.
double density_of(const float* w, int64_t n, int64_t k, int64_t ldw);

// Shared values for `values` (the non-zeros of a layer): at most `entries` centroids, found by
// 1-D k-means (Lloyd) from a linear initialisation over [min, max] as in Deep Compression; when
// there are no more distinct values than entries, those values themselves (exact). Centroids are
// rounded to `precision` ("fp32", "bf16" or "fp16") and returned sorted, duplicates removed.
std::vector<float> kmeans_codebook(std::vector<float> values, int entries,
                                   const std::string& precision);

// Index of the centroid nearest to v (centroids sorted ascending, non-empty).
int nearest_centroid(const std::vector<float>& centroids, float v);

// Replaces every non-zero of w by its nearest shared value: kmeans_codebook over the non-zeros
// with 2^bits - 1 entries (the codebook's last entry is zero, which pruned weights use). Returns
// the non-zero centroids.
std::vector<float> share_weights(float* w, int64_t n, int64_t k, int64_t ldw, int bits,
                                 const std::string& precision);

}  // namespace softdpu::compress
