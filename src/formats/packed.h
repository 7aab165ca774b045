// Packed weight matrices: W (N rows = outputs, K columns = the reduction axis), row-major, each
// row encoded in its format's storage blocks along K (formats/blocks.h), K padded to a whole
// number of blocks. This is what the quantised matrix products (kernels/quant/qgemm.h) stream,
// and what the planner stores per weight at plan time.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "formats/format.h"

namespace softdpu::formats {

class PackedMatrix {
 public:
  PackedMatrix() = default;

  // Encodes w (n x k, row i at w + i * ldw, ldw >= k) in format f. Scalar reference encoders,
  // plan-time only. NaN/Inf follow the policy in formats/quantize.h.
  static PackedMatrix pack(const float* w, int64_t n, int64_t k, int64_t ldw, const WeightFormat& f,
                           Rounding r = Rounding::kEven);

  // A deep copy (copies of a PackedMatrix otherwise share one buffer).
  PackedMatrix clone() const;
  // Adopts codes encoded earlier (a compiled .sdpu file, runtime/sdpu_file.h) without copying:
  // `data` holds n rows of storage_row_bytes(f, k) bytes, 64-byte aligned, followed by at least
  // 64 readable bytes; it is only read. `row_scales`: n floats for int8, empty otherwise.
  static PackedMatrix adopt(const WeightFormat& f, int64_t n, int64_t k,
                            std::shared_ptr<uint8_t> data, std::vector<float> row_scales);

  const WeightFormat& format() const { return format_; }
  int64_t rows() const { return n_; }
  int64_t cols() const { return k_; }
  int64_t blocks_per_row() const { return blocks_; }
  int64_t padded_cols() const { return blocks_ * storage_block(format_); }
  int64_t row_bytes() const { return row_bytes_; }
  const uint8_t* data() const { return data_.get(); }
  const uint8_t* row(int64_t i) const { return data_.get() + i * row_bytes_; }
  // int8: the n per-row scales; null for every other format.
  const float* row_scales() const { return row_scales_.empty() ? nullptr : row_scales_.data(); }
  // Bytes a full product streams: codes, block headers and row scales.
  size_t bytes() const { return size_t(n_ * row_bytes_) + row_scales_.size() * sizeof(float); }

  // The exact values the packed codes stand for (scalar reference decoder): row i's k values,
  // or the whole n x k matrix.
  void decode_row(int64_t i, float* out) const;
  std::vector<float> decode() const;

 private:
  WeightFormat format_;
  int64_t n_ = 0, k_ = 0, blocks_ = 0, row_bytes_ = 0;
  // 64-byte aligned, with 64 spare bytes after the last row so SIMD decoders may load a full
  // vector at the last block.
  std::shared_ptr<uint8_t> data_;
  std::vector<float> row_scales_;
};

// Codec of one storage block, for tests and tools: encodes `n` (<= block) floats into the block
// at dst (header + codes, storage_block_bytes(f) bytes), and decodes a block to storage_block(f)
// floats. `scale` is int8's row scale (int8_row_scale, used by both directions); other formats
// keep their scale in the block header and ignore it.
void encode_block(const WeightFormat& f, const float* x, int n, Rounding r, float scale,
                  uint8_t* dst);
void decode_block(const WeightFormat& f, const uint8_t* src, float scale, float* out);

}  // namespace softdpu::formats
