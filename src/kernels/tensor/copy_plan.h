// Plan-time descriptions of pure data movement, shared by the tensor ops. Each is built once in
// prepare (where all the index arithmetic happens) and run() only moves bytes.
//
//  StridedCopy  an N-d box copied between two strided layouts: Slice, Concat, Split, Transpose,
//               Expand, Tile, DepthToSpace, SpaceToDepth. Simplified at plan time to the
//               cheapest of: memcpy of contiguous blocks, a cache-blocked 2-D transpose, or a
//               strided element loop.
//  AxisMapCopy  out[i0, .., ir] = in[map0[i0], .., mapr[ir]] with per-axis index maps, -1 meaning
//               "fill value": Pad (all modes), nearest Resize, Compress.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "softdpu/tensor.h"

namespace softdpu::kernels::tensor {

class StridedCopy {
 public:
  StridedCopy() = default;
  // Copies the box `dims`: element (i0..ir) goes from src[src_offset + sum ik*src_strides[k]] to
  // dst[dst_offset + sum ik*dst_strides[k]]. Strides and offsets count elements of elem_size
  // bytes; src strides may be 0 (broadcast) or negative (reversed slices).
  StridedCopy(size_t elem_size, const Shape& dims, const std::vector<int64_t>& src_strides,
              const std::vector<int64_t>& dst_strides, int64_t src_offset = 0,
              int64_t dst_offset = 0);

  void run(const void* src, void* dst, ThreadPool* pool) const;
  // Bytes written by run().
  int64_t bytes() const { return bytes_; }

 private:
  enum class Kind { kEmpty, kBlock, kTranspose, kElements };
  void run_range(const uint8_t* src, uint8_t* dst, int64_t begin, int64_t end) const;

  Kind kind_ = Kind::kEmpty;
  size_t elem_ = 0;
  int64_t bytes_ = 0;
  int64_t src_off_ = 0, dst_off_ = 0;  // bytes
  // Outer loops (bytes strides), outermost first.
  std::vector<int64_t> dims_, src_, dst_;
  // kBlock: n_ bytes per outer step. kElements: n_ elements with strides s_/d_ (bytes).
  int64_t n_ = 0, s_ = 0, d_ = 0;
  // kTranspose: dst[ib*db_ + ia] = src[ia*sa_ + ib] over na_ x nb_ (db_, sa_ in elements);
  // units split nb_ into blocks of kTileB rows for parallelism and cache reuse.
  int64_t na_ = 0, nb_ = 0, sa_ = 0, db_ = 0, b_blocks_ = 1;
};

class AxisMapCopy {
 public:
  AxisMapCopy() = default;
  // maps[k][j] is the input index along axis k read by output index j, or -1 for "write the fill
  // value"; maps[k].size() is the output dim. The input is contiguous with shape in_shape.
  AxisMapCopy(size_t elem_size, const Shape& in_shape,
              const std::vector<std::vector<int64_t>>& maps);

  // fill points at one element (only read when some map holds -1).
  void run(const void* src, void* dst, const void* fill, ThreadPool* pool) const;

 private:
  struct Segment {
    int64_t dst;  // element offset in the output row
    int64_t len;  // elements
    int64_t src;  // element offset in the input row of the first element, -1: fill
  };
  void run_range(const uint8_t* src, uint8_t* dst, const uint8_t* fill, int64_t begin,
                 int64_t end) const;
  void fill_elems(uint8_t* dst, const uint8_t* fill, int64_t n) const;

  size_t elem_ = 0;
  bool empty_ = true;
  int64_t row_ = 0;  // output elements per row (last axis)
  // Outer axes: per axis, per output index, the input element offset or -1.
  std::vector<std::vector<int64_t>> outer_;
  // The last axis as runs: contiguous input runs copy with memcpy; when runs are short (nearest
  // upsampling) a plain gather over gather_ is cheaper than a segment walk.
  std::vector<Segment> segments_;
  std::vector<int64_t> gather_;  // per output element of a row: input offset or -1
  bool use_gather_ = false;
};

}  // namespace softdpu::kernels::tensor
