#include "kernels/tensor/copy_plan.h"

#include <emmintrin.h>
#include <xmmintrin.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "softdpu/status.h"

namespace softdpu::kernels::tensor {

namespace {

// Loop nests deeper than this come only from absurd ranks (Tile doubles the rank of its plan).
constexpr size_t kMaxLoops = 32;
// Smallest amount of work worth handing to another thread (the pool wake-up costs ~1-2 us).
constexpr int64_t kMinChunkBytes = 64 * 1024;
// Transpose tiles: kTileB destination rows (the source-contiguous dim) by kTileA destination
// columns. The tile (32 KiB of floats) stays in L1 and its pages in the TLB while the source
// streams along its rows; kTileB is also the unit of work split across threads. Sizes picked
// by measuring the 4-D layout changes of CNNs and attention heads (bench in the report).
constexpr int64_t kTileB = 32;
constexpr int64_t kTileA = 256;

template <size_t N>
struct WordOf;
template <>
struct WordOf<1> {
  using type = uint8_t;
};
template <>
struct WordOf<2> {
  using type = uint16_t;
};
template <>
struct WordOf<4> {
  using type = uint32_t;
};
template <>
struct WordOf<8> {
  using type = uint64_t;
};

// One element moved with a fixed-size memcpy: a single load/store, with no aliasing assumptions
// about what type the bytes hold.
template <size_t N>
inline void move_elem(uint8_t* d, const uint8_t* s) {
  typename WordOf<N>::type w;
  std::memcpy(&w, s, N);
  std::memcpy(d, &w, N);
}

template <size_t N>
void strided_elems(uint8_t* d, int64_t ds, const uint8_t* s, int64_t ss, int64_t n) {
  for (int64_t i = 0; i < n; ++i) move_elem<N>(d + i * ds, s + i * ss);
}

void strided_elems_any(size_t elem, uint8_t* d, int64_t ds, const uint8_t* s, int64_t ss,
                       int64_t n) {
  switch (elem) {
    case 1: return strided_elems<1>(d, ds, s, ss, n);
    case 2: return strided_elems<2>(d, ds, s, ss, n);
    case 4: return strided_elems<4>(d, ds, s, ss, n);
    case 8: return strided_elems<8>(d, ds, s, ss, n);
    default:
      for (int64_t i = 0; i < n; ++i) std::memcpy(d + i * ds, s + i * ss, elem);
  }
}

// dst[ib*db + ia] = src[ia*sa + ib] for ib in [b0, b1), ia in [0, na); strides in elements.
// 4- and 8-byte elements move as 4x4 / 2x2 register transposes (SSE2, baseline x86-64); the
// shuffles only move bits, so any type of that size (floats with NaN payloads too) is exact.
template <size_t N>
void transpose_rows(uint8_t* d, const uint8_t* s, int64_t na, int64_t sa, int64_t b0, int64_t b1,
                    int64_t db) {
  constexpr int64_t V = N == 4 ? 4 : (N == 8 ? 2 : 1);  // register tile side
  for (int64_t a0 = 0; a0 < na; a0 += kTileA) {
    const int64_t a1 = std::min(na, a0 + kTileA);
    int64_t bv = b0 + (b1 - b0) / V * V;  // end of the register-tiled columns
    if constexpr (V > 1) {
      // Rows of V source lines outer, columns inner: the source streams along its rows and the
      // destination tile (b1 - b0 rows) stays in L1 and in the TLB.
      int64_t ia = a0;
      for (; ia + V <= a1; ia += V) {
        for (int64_t ib = b0; ib < bv; ib += V) {
          const uint8_t* sp = s + (ia * sa + ib) * N;
          uint8_t* dp = d + (ib * db + ia) * N;
          if constexpr (N == 4) {
            __m128 r0 = _mm_loadu_ps(reinterpret_cast<const float*>(sp));
            __m128 r1 = _mm_loadu_ps(reinterpret_cast<const float*>(sp + sa * 4));
            __m128 r2 = _mm_loadu_ps(reinterpret_cast<const float*>(sp + sa * 8));
            __m128 r3 = _mm_loadu_ps(reinterpret_cast<const float*>(sp + sa * 12));
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            _mm_storeu_ps(reinterpret_cast<float*>(dp), r0);
            _mm_storeu_ps(reinterpret_cast<float*>(dp + db * 4), r1);
            _mm_storeu_ps(reinterpret_cast<float*>(dp + db * 8), r2);
            _mm_storeu_ps(reinterpret_cast<float*>(dp + db * 12), r3);
          } else {
            const __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sp));
            const __m128i r1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sp + sa * 8));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dp), _mm_unpacklo_epi64(r0, r1));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dp + db * 8), _mm_unpackhi_epi64(r0, r1));
          }
        }
      }
      for (; ia < a1; ++ia) {  // leftover rows
        for (int64_t ib = b0; ib < bv; ++ib)
          move_elem<N>(d + (ib * db + ia) * N, s + (ia * sa + ib) * N);
      }
    } else {
      bv = b0;
    }
    int64_t ib = bv;
    for (; ib < b1; ++ib) {
      uint8_t* dp = d + ib * db * N;
      const uint8_t* sp = s + ib * N;
      for (int64_t ia = a0; ia < a1; ++ia) move_elem<N>(dp + ia * N, sp + ia * sa * N);
    }
  }
}

}  // namespace

StridedCopy::StridedCopy(size_t elem_size, const Shape& dims,
                         const std::vector<int64_t>& src_strides,
                         const std::vector<int64_t>& dst_strides, int64_t src_offset,
                         int64_t dst_offset)
    : elem_(elem_size) {
  bytes_ = shape_numel(dims) * static_cast<int64_t>(elem_size);
  if (bytes_ == 0) return;  // kEmpty
  const int64_t e = static_cast<int64_t>(elem_size);
  src_off_ = src_offset * e;
  dst_off_ = dst_offset * e;

  // Size-1 dims move nothing; adjacent dims that are contiguous in both layouts are one loop.
  std::vector<int64_t> d, s, t;
  for (size_t i = dims.size(); i-- > 0;) {
    if (dims[i] == 1) continue;
    if (!d.empty() && src_strides[i] == s.back() * d.back() &&
        dst_strides[i] == t.back() * d.back()) {
      d.back() *= dims[i];
      continue;
    }
    d.push_back(dims[i]);
    s.push_back(src_strides[i]);
    t.push_back(dst_strides[i]);
  }
  std::reverse(d.begin(), d.end());
  std::reverse(s.begin(), s.end());
  std::reverse(t.begin(), t.end());
  if (d.size() > kMaxLoops) {
    throw Error(StatusCode::kUnsupported, "tensor copy needs " + std::to_string(d.size()) +
                                              " nested loops, more than " +
                                              std::to_string(kMaxLoops));
  }

  auto take = [&](size_t i) {
    const int64_t n = d[i];
    d.erase(d.begin() + i);
    s.erase(s.begin() + i);
    t.erase(t.begin() + i);
    return n;
  };
  auto find = [&](auto pred) {
    for (size_t i = d.size(); i-- > 0;) {
      if (pred(i)) return static_cast<int64_t>(i);
    }
    return int64_t{-1};
  };

  if (d.empty()) {
    kind_ = Kind::kBlock;
    n_ = e;
  } else if (int64_t c = find([&](size_t i) { return s[i] == 1 && t[i] == 1; }); c >= 0) {
    kind_ = Kind::kBlock;
    n_ = take(c) * e;
  } else {
    const int64_t a = find([&](size_t i) { return t[i] == 1; });
    const int64_t b = find([&](size_t i) { return s[i] == 1; });
    if (a >= 0 && b >= 0 &&
        (elem_size == 1 || elem_size == 2 || elem_size == 4 || elem_size == 8)) {
      kind_ = Kind::kTranspose;
      na_ = d[a];
      sa_ = s[a];
      nb_ = d[b];
      db_ = t[b];
      take(std::max(a, b));
      take(std::min(a, b));
      b_blocks_ = (nb_ + kTileB - 1) / kTileB;
    } else {
      // The destination-innermost loop runs innermost so writes stay sequential.
      size_t inner = d.size() - 1;
      for (size_t i = 0; i < d.size(); ++i) {
        if (std::abs(t[i]) < std::abs(t[inner])) inner = i;
      }
      kind_ = Kind::kElements;
      s_ = s[inner] * e;
      d_ = t[inner] * e;
      n_ = take(inner);
    }
  }
  dims_ = d;
  for (int64_t& x : s) x *= e;
  for (int64_t& x : t) x *= e;
  src_ = s;
  dst_ = t;
}

void StridedCopy::run(const void* src, void* dst, ThreadPool* pool) const {
  if (kind_ == Kind::kEmpty) return;
  int64_t units = kind_ == Kind::kTranspose ? b_blocks_ : 1;
  for (int64_t x : dims_) units *= x;
  const int64_t unit_bytes = std::max<int64_t>(1, bytes_ / units);
  const int64_t grain = std::max<int64_t>(1, kMinChunkBytes / unit_bytes);
  const auto* s = static_cast<const uint8_t*>(src);
  auto* d = static_cast<uint8_t*>(dst);
  pool->parallel_for(units, grain, [&](int64_t b, int64_t e) { run_range(s, d, b, e); });
}

void StridedCopy::run_range(const uint8_t* src, uint8_t* dst, int64_t begin, int64_t end) const {
  const int64_t per = kind_ == Kind::kTranspose ? b_blocks_ : 1;
  const size_t nd = dims_.size();
  std::array<int64_t, kMaxLoops> idx{};
  int64_t o = begin / per;
  int64_t blk = begin % per;
  int64_t so = src_off_, dof = dst_off_;
  for (size_t k = nd; k-- > 0;) {
    idx[k] = o % dims_[k];
    o /= dims_[k];
    so += idx[k] * src_[k];
    dof += idx[k] * dst_[k];
  }
  for (int64_t u = begin; u < end; ++u) {
    const uint8_t* s = src + so;
    uint8_t* d = dst + dof;
    switch (kind_) {
      case Kind::kBlock: std::memcpy(d, s, static_cast<size_t>(n_)); break;
      case Kind::kElements: strided_elems_any(elem_, d, d_, s, s_, n_); break;
      case Kind::kTranspose: {
        const int64_t b0 = blk * kTileB, b1 = std::min(nb_, b0 + kTileB);
        switch (elem_) {
          case 1: transpose_rows<1>(d, s, na_, sa_, b0, b1, db_); break;
          case 2: transpose_rows<2>(d, s, na_, sa_, b0, b1, db_); break;
          case 4: transpose_rows<4>(d, s, na_, sa_, b0, b1, db_); break;
          default: transpose_rows<8>(d, s, na_, sa_, b0, b1, db_); break;
        }
        if (++blk < per) continue;
        blk = 0;
        break;
      }
      case Kind::kEmpty: return;
    }
    for (size_t k = nd; k-- > 0;) {
      if (++idx[k] < dims_[k]) {
        so += src_[k];
        dof += dst_[k];
        break;
      }
      so -= (dims_[k] - 1) * src_[k];
      dof -= (dims_[k] - 1) * dst_[k];
      idx[k] = 0;
    }
  }
}

// --- AxisMapCopy

AxisMapCopy::AxisMapCopy(size_t elem_size, const Shape& in_shape,
                         const std::vector<std::vector<int64_t>>& maps)
    : elem_(elem_size) {
  for (const auto& m : maps) {
    if (m.empty()) return;  // empty output
  }
  if (maps.size() > kMaxLoops) {
    throw Error(StatusCode::kUnsupported, "tensor copy of rank " + std::to_string(maps.size()) +
                                              " exceeds " + std::to_string(kMaxLoops));
  }
  empty_ = false;
  if (maps.empty()) {  // a scalar
    row_ = 1;
    segments_.push_back({0, 1, 0});
    gather_.push_back(0);
    return;
  }
  int64_t stride = 1;
  std::vector<int64_t> strides(maps.size());
  for (size_t k = maps.size(); k-- > 0;) {
    strides[k] = stride;
    stride *= in_shape[k];
  }
  for (size_t k = 0; k + 1 < maps.size(); ++k) {
    std::vector<int64_t> off(maps[k].size());
    for (size_t j = 0; j < off.size(); ++j) off[j] = maps[k][j] < 0 ? -1 : maps[k][j] * strides[k];
    outer_.push_back(std::move(off));
  }
  const std::vector<int64_t>& last = maps.back();
  row_ = static_cast<int64_t>(last.size());
  gather_ = last;
  for (int64_t j = 0; j < row_; ++j) {
    const int64_t src = last[j];
    if (!segments_.empty()) {
      Segment& p = segments_.back();
      if ((src < 0 && p.src < 0) || (src >= 0 && p.src >= 0 && src == p.src + p.len)) {
        ++p.len;
        continue;
      }
    }
    segments_.push_back({j, 1, src});
  }
  use_gather_ = static_cast<int64_t>(segments_.size()) * 4 > row_;
}

void AxisMapCopy::fill_elems(uint8_t* dst, const uint8_t* fill, int64_t n) const {
  if (n <= 0) return;
  std::memcpy(dst, fill, elem_);
  // Doubling copies: log2(n) memcpy calls instead of n element stores.
  int64_t done = 1;
  while (done < n) {
    const int64_t c = std::min(done, n - done);
    std::memcpy(dst + done * elem_, dst, static_cast<size_t>(c) * elem_);
    done += c;
  }
}

void AxisMapCopy::run(const void* src, void* dst, const void* fill, ThreadPool* pool) const {
  if (empty_) return;
  int64_t rows = 1;
  for (const auto& o : outer_) rows *= static_cast<int64_t>(o.size());
  const int64_t row_bytes = std::max<int64_t>(1, row_ * static_cast<int64_t>(elem_));
  const int64_t grain = std::max<int64_t>(1, kMinChunkBytes / row_bytes);
  const auto* s = static_cast<const uint8_t*>(src);
  auto* d = static_cast<uint8_t*>(dst);
  const auto* f = static_cast<const uint8_t*>(fill);
  pool->parallel_for(rows, grain, [&](int64_t b, int64_t e) { run_range(s, d, f, b, e); });
}

void AxisMapCopy::run_range(const uint8_t* src, uint8_t* dst, const uint8_t* fill, int64_t begin,
                            int64_t end) const {
  const size_t nd = outer_.size();
  const int64_t e = static_cast<int64_t>(elem_);
  std::array<int64_t, kMaxLoops> idx{};
  int64_t o = begin;
  for (size_t k = nd; k-- > 0;) {
    const int64_t n = static_cast<int64_t>(outer_[k].size());
    idx[k] = o % n;
    o /= n;
  }
  int64_t prev_base = -2;  // no previous row in this chunk
  for (int64_t r = begin; r < end; ++r) {
    uint8_t* drow = dst + r * row_ * e;
    int64_t base = 0;
    for (size_t k = 0; k < nd; ++k) {
      const int64_t off = outer_[k][idx[k]];
      if (off < 0) {
        base = -1;
        break;
      }
      base += off;
    }
    if (base < 0) {
      fill_elems(drow, fill, row_);
    } else if (base == prev_base) {
      // Nearest upsampling and edge padding repeat input rows: copy the finished output row.
      std::memcpy(drow, drow - row_ * e, static_cast<size_t>(row_ * e));
    } else if (use_gather_) {
      const uint8_t* srow = src + base * e;
      for (int64_t j = 0; j < row_; ++j) {
        const int64_t g = gather_[j];
        if (g < 0) {
          std::memcpy(drow + j * e, fill, elem_);
          continue;
        }
        switch (elem_) {
          case 1: move_elem<1>(drow + j, srow + g); break;
          case 2: move_elem<2>(drow + j * 2, srow + g * 2); break;
          case 4: move_elem<4>(drow + j * 4, srow + g * 4); break;
          case 8: move_elem<8>(drow + j * 8, srow + g * 8); break;
          default: std::memcpy(drow + j * e, srow + g * e, elem_);
        }
      }
    } else {
      const uint8_t* srow = src + base * e;
      for (const Segment& sg : segments_) {
        if (sg.src < 0) {
          fill_elems(drow + sg.dst * e, fill, sg.len);
        } else {
          std::memcpy(drow + sg.dst * e, srow + sg.src * e, static_cast<size_t>(sg.len * e));
        }
      }
    }
    prev_base = base < 0 ? -2 : base;
    for (size_t k = nd; k-- > 0;) {
      if (++idx[k] < static_cast<int64_t>(outer_[k].size())) break;
      idx[k] = 0;
    }
  }
}

}  // namespace softdpu::kernels::tensor
