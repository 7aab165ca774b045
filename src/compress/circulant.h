// Block-circulant matrices (CirCNN): an N x K weight cut into b x b blocks (p = ceil(N/b) block
// rows, q = ceil(K/b) block columns; the last ones are cut short when b does not divide N or K),
// each block circulant: B[r][s] = c[(r - s) mod b] for one length-b vector c (its first column).
// These are the plain-matrix operations: projection of a dense matrix to the nearest
// block-circulant one, lossless detection, expansion back to dense. The FFT product is in
// circulant_matrix.h.
#pragma once

#include <cstdint>
#include <vector>

namespace softdpu::compress {

// First-column vectors of every block, [p][q][b] row-major.
struct CirculantVectors {
  int64_t n = 0, k = 0;  // the matrix dimensions (not padded)
  int block = 0;
  int64_t p = 0, q = 0;
  std::vector<float> c;
  const float* at(int64_t i, int64_t j) const { return c.data() + (i * q + j) * block; }
};

// Nearest block-circulant matrix in the Frobenius norm: c[d] of each block is the average of the
// block's wrapped diagonal d (entries with (r - s) mod b == d) over the entries inside the matrix
// (a block cut short by the edge averages only the entries it has; a wrapped diagonal with none
// gets 0). *rel_error (when not null) = ||W - proj(W)||_F / ||W||_F (0 for an all-zero W).
CirculantVectors project_circulant(const float* w, int64_t n, int64_t k, int64_t ldw, int block,
                                   double* rel_error = nullptr);

// True when w equals its block-circulant projection to within rel_tol relative to the largest
// |w| (every entry, so one outlier is enough to say no).
bool is_block_circulant(const float* w, int64_t n, int64_t k, int64_t ldw, int block,
                        double rel_tol = 1e-6);

// The largest power-of-two block in [4, 256] for which is_block_circulant holds and that fits
// the matrix (b <= min(n, k)); 0 when none.
int detect_circulant_block(const float* w, int64_t n, int64_t k, int64_t ldw,
                           double rel_tol = 1e-6);

// Writes the dense N x K matrix (row stride ldw) the vectors define.
void expand_circulant(const CirculantVectors& v, float* w, int64_t ldw);

}  // namespace softdpu::compress
