#include "compress/sparse_matrix.h"

#include <algorithm>
#include <cstring>

#include "compress/epilogue.h"
#include "compress/sparse.h"
#include "compress/sparse_columns.h"
#include "compress/sparse_row_entries.h"
#include "core/cpu.h"

namespace softdpu::compress {
namespace {

// acc[row] += w(e) * x for one column's entries begin..end, with the row numbers decoded 8 at a
// time in a general-purpose register (SWAR): the 8 low nibbles z, plus 1 each, become the 8 row
// offsets from the previous entry by one multiply by 0x0101...01 (a byte-wise prefix sum; at most
// 8 * 16 = 128 per byte, so no carry crosses a byte). That leaves the loop-carried row chain one
// add per 8 entries and each entry two loads (its value, its accumulator) and a store, all in L1.
// `weight(e, code)` gives the entry's weight already multiplied by x.
// (An AVX-512 gather / FMA / scatter version of this loop was 2.4x slower on the development
// machine, an AMD Zen 4, whose scatter is slow: docs/compression.md.)
template <typename Weight>
inline void column(const uint8_t* code, uint32_t begin, uint32_t end, float* acc, Weight weight) {
  int64_t row = -1;  // row of the previous entry
  uint32_t e = begin;
  for (; e + 8 <= end; e += 8) {
    uint64_t w;
    std::memcpy(&w, code + e, 8);  // little-endian: entry e + j is byte j
    const uint64_t rows =
        ((w & 0x0F0F0F0F0F0F0F0Full) + 0x0101010101010101ull) * 0x0101010101010101ull;
    for (int j = 0; j < 8; ++j) {
      acc[row + static_cast<int64_t>((rows >> (8 * j)) & 0xFF)] +=
          weight(e + j, static_cast<uint32_t>(w >> (8 * j + 4)) & 15);
    }
    row += static_cast<int64_t>(rows >> 56);
  }
  for (; e < end; ++e) {
    row += 1 + (code[e] & 15);
    acc[row] += weight(e, static_cast<uint32_t>(code[e] >> 4));
  }
}

}  // namespace

SparseMatrix::SparseMatrix(const float* w, int64_t n, int64_t k, int64_t ldw,
                           const SparseOptions& opt)
    : n_(n),
      k_(k),
      bits_(opt.codebook_bits),
      row_entry_loop_(opt.previous_row_entry_loop ? detail::RowEntryLoop::kShiftMask
                                                  : detail::RowEntryLoop::kBextr),
      values_(opt.codebook_values) {
  const int pes = std::max(1, std::min<int>(opt.pes, static_cast<int>(std::max<int64_t>(1, n))));
  std::vector<float> shared;
  if (bits_ > 0) {
    std::vector<float> nz;
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c)
        if (w[r * ldw + c] != 0.f) nz.push_back(w[r * ldw + c]);
    shared = kmeans_codebook(std::move(nz), (1 << bits_) - 1, values_);
    shared.erase(std::remove(shared.begin(), shared.end(), 0.f), shared.end());
    codebook_.assign(size_t{1} << bits_, 0.f);
    std::copy(shared.begin(), shared.end(), codebook_.begin() + 1);
  }
  pe_.resize(pes);
  for (int p = 0; p < pes; ++p) {
    Pe& pe = pe_[p];
    pe.rows = n > p ? (n - p + pes - 1) / pes : 0;
    pe.col_ptr.assign(static_cast<size_t>(k + 1), 0);
    for (int64_t c = 0; c < k; ++c) {
      int64_t last = -1;  // local row of the previous entry
      for (int64_t i = 0; i < pe.rows; ++i) {
        const float v = w[(p + i * pes) * ldw + c];
        if (v == 0.f) continue;
        // Padding zeros carry the column across gaps the 4-bit index cannot express.
        while (i - last - 1 > 15) {
          pe.code.push_back(15);
          if (bits_ == 0) pe.value.push_back(0.f);
          last += 16;
        }
        const uint8_t z = static_cast<uint8_t>(i - last - 1);
        if (bits_ > 0) {
          const int idx = shared.empty() ? 0 : 1 + nearest_centroid(shared, v);
          pe.code.push_back(static_cast<uint8_t>(idx << 4 | z));
        } else {
          pe.code.push_back(z);
          pe.value.push_back(v);
        }
        last = i;
      }
      pe.col_ptr[c + 1] = static_cast<uint32_t>(pe.code.size());
    }
    // The kernel layout is derived from the EIE encoding itself, so both represent one matrix.
    if (bits_ > 0 && opt.row_entries && detected_isa() == Isa::kAvx512 && pe.rows > 0)
      pe.row_entries = detail::RowEntries::from_csc(pe.rows, k, pe.col_ptr, pe.code);
  }
}

int64_t SparseMatrix::entries() const {
  int64_t e = 0;
  for (const Pe& pe : pe_) e += static_cast<int64_t>(pe.code.size());
  return e;
}

int64_t SparseMatrix::padding_entries() const {
  int64_t pad = 0;
  for (const Pe& pe : pe_) {
    for (size_t e = 0; e < pe.code.size(); ++e) {
      const bool zero = bits_ > 0 ? (pe.code[e] >> 4) == 0 : pe.value[e] == 0.f;
      pad += zero;
    }
  }
  return pad;
}

size_t SparseMatrix::bytes() const {
  size_t b = 0;
  for (const Pe& pe : pe_) {
    // Codebook entries pack two 4-bit fields in a byte; exact entries add the fp32 value.
    b += pe.code.size() + pe.value.size() * sizeof(float) + pe.col_ptr.size() * sizeof(uint32_t);
  }
  const size_t value_bytes = values_ == "fp32" ? 4 : 2;
  return b + codebook_.size() * value_bytes;
}

size_t SparseMatrix::row_entry_bytes() const {
  size_t b = 0;
  for (const Pe& pe : pe_) b += pe.row_entries.bytes();
  return b;
}

std::string SparseMatrix::format() const {
  if (bits_ == 0) return "sparse";
  return "sparse-cb" + std::to_string(bits_) + (values_ == "fp32" ? "" : "-" + values_);
}

void SparseMatrix::decode(float* w, int64_t ldw) const {
  const int pes = static_cast<int>(pe_.size());
  for (int64_t r = 0; r < n_; ++r) std::fill(w + r * ldw, w + r * ldw + k_, 0.f);
  for (int p = 0; p < pes; ++p) {
    const Pe& pe = pe_[p];
    for (int64_t c = 0; c < k_; ++c) {
      int64_t row = -1;
      for (uint32_t e = pe.col_ptr[c]; e < pe.col_ptr[c + 1]; ++e) {
        row += 1 + (pe.code[e] & 15);
        const float v = bits_ > 0 ? codebook_[pe.code[e] >> 4] : pe.value[e];
        if (v != 0.f) w[(p + row * pes) * ldw + c] = v;
      }
    }
  }
}

int64_t SparseMatrix::pe_scratch_floats() const {
  // Accumulators for PE 0's rows (it owns the most) rounded to 16 floats, then the active
  // columns (index, x) of the row-entry kernel.
  return (pe_[0].rows + 15) / 16 * 16 + 2 * k_;
}

size_t SparseMatrix::scratch_bytes(int64_t) const {
  // Each PE its own stretch, reused for every batch row.
  return static_cast<size_t>(pe_scratch_floats()) * pe_.size() * sizeof(float);
}

void SparseMatrix::run_row_entries(const detail::RowEntries& re, const float* x, float* scratch,
                                   bool avx512) const {
  // The non-zero activations (EIE's activation skipping), once for all row blocks.
  const int64_t acc_floats = (pe_[0].rows + 15) / 16 * 16;
  int32_t* active = reinterpret_cast<int32_t*>(scratch + acc_floats);
  float* xa = scratch + acc_floats + k_;
  int64_t na = 0;
  for (int64_t c = 0; c < k_; ++c) {
    if (x[c] == 0.f) continue;
    active[na] = static_cast<int32_t>(c);
    xa[na++] = x[c];
  }
  alignas(64) float cb[16] = {};
  std::copy(codebook_.begin(), codebook_.end(), cb);
  if (avx512) {
    detail::row_entries_avx512(re, cb, active, xa, na, scratch, row_entry_loop_);
  } else {
    detail::row_entries_scalar(re, cb, active, xa, na, scratch);
  }
}

void SparseMatrix::run_pe(int p, int64_t m, const float* x, int64_t ldx, float* y, int64_t ldy,
                          const kernels::GemmEpilogue& ep, float* scratch, Kernel kernel) const {
  const Pe& pe = pe_[p];
  const int pes = static_cast<int>(pe_.size());
  const uint32_t* ptr = pe.col_ptr.data();
  const uint8_t* code = pe.code.data();
  const bool fast = kernel == Kernel::kFast;
  const bool avx512 = fast && active_isa() == Isa::kAvx512;
  const bool rows16 = pe.row_entries.blocks > 0 && (avx512 || kernel == Kernel::kRowEntriesScalar);
  float* acc = scratch;
  for (int64_t r = 0; r < m; ++r) {
    const float* xr = x + r * ldx;
    if (!rows16) std::fill(acc, acc + pe.rows, 0.f);
    if (rows16) {
      run_row_entries(pe.row_entries, xr, scratch, avx512);
    } else if (avx512) {
      // Weights picked by vpermps, kept in a register: sparse_columns_avx512.cc.
      const float* val = bits_ > 0 ? nullptr : pe.value.data();
      auto next_active = [&](int64_t c) {
        while (c < k_ && xr[c] == 0.f) ++c;  // EIE's activation skipping
        return c;
      };
      for (int64_t c = next_active(0), nc; c < k_; c = nc) {
        const float xc = xr[c];
        // The next active column's entries are elsewhere in memory (L2/L3 for large layers) and
        // too short a run for the hardware prefetcher: fetch them while this column runs.
        nc = next_active(c + 1);
        if (nc < k_)
          for (uint32_t e = ptr[nc]; e < ptr[nc + 1]; e += 64) __builtin_prefetch(code + e);
        alignas(64) float scaled[16] = {};
        if (bits_ > 0)
          for (size_t i = 0; i < codebook_.size(); ++i) scaled[i] = codebook_[i] * xc;
        detail::sparse_column_avx512(code + ptr[c], ptr[c + 1] - ptr[c], val ? nullptr : scaled,
                                     val ? val + ptr[c] : nullptr, xc, acc);
      }
    } else if (fast && bits_ > 0) {
      // The codebook times x once per column: one load per entry, no multiply.
      const float* cb = codebook_.data();
      const size_t ncb = codebook_.size();
      for (int64_t c = 0; c < k_; ++c) {
        const float xc = xr[c];
        if (xc == 0.f) continue;  // EIE's activation skipping
        float scaled[16] = {};
        for (size_t i = 0; i < ncb; ++i) scaled[i] = cb[i] * xc;
        column(code, ptr[c], ptr[c + 1], acc, [&](uint32_t, uint32_t idx) { return scaled[idx]; });
      }
    } else if (fast) {
      const float* val = pe.value.data();
      for (int64_t c = 0; c < k_; ++c) {
        const float xc = xr[c];
        if (xc == 0.f) continue;
        column(code, ptr[c], ptr[c + 1], acc, [&](uint32_t e, uint32_t) { return val[e] * xc; });
      }
    } else if (bits_ > 0) {
      const float* cb = codebook_.data();
      for (int64_t c = 0; c < k_; ++c) {
        const float xc = xr[c];
        if (xc == 0.f) continue;  // EIE's activation skipping
        int64_t row = -1;
        for (uint32_t e = ptr[c], end = ptr[c + 1]; e < end; ++e) {
          row += 1 + (code[e] & 15);
          acc[row] += cb[code[e] >> 4] * xc;
        }
      }
    } else {
      const float* val = pe.value.data();
      for (int64_t c = 0; c < k_; ++c) {
        const float xc = xr[c];
        if (xc == 0.f) continue;
        int64_t row = -1;
        for (uint32_t e = ptr[c], end = ptr[c + 1]; e < end; ++e) {
          row += 1 + (code[e] & 15);
          acc[row] += val[e] * xc;
        }
      }
    }
    // Scatter the PE's interleaved rows into the output row, then the epilogue on each.
    float* yr = y + r * ldy;
    if (pes == 1) {
      apply_epilogue(ep, r, 0, n_, acc, yr);
      continue;
    }
    for (int64_t i = 0; i < pe.rows; ++i) {
      const int64_t row = p + i * pes;
      apply_epilogue(ep, r, row, row + 1, acc + i, yr + row);
    }
  }
}

void SparseMatrix::apply_scalar(int64_t m, const float* x, int64_t ldx, float* y, int64_t ldy,
                                const kernels::GemmEpilogue& ep, void* scratch) const {
  float* s = static_cast<float*>(scratch);
  for (int p = 0; p < pes(); ++p)
    run_pe(p, m, x, ldx, y, ldy, ep, s + p * pe_scratch_floats(), Kernel::kEieScalar);
}

void SparseMatrix::apply_row_entries_scalar(int64_t m, const float* x, int64_t ldx, float* y,
                                            int64_t ldy, const kernels::GemmEpilogue& ep,
                                            void* scratch) const {
  float* s = static_cast<float*>(scratch);
  for (int p = 0; p < pes(); ++p)
    run_pe(p, m, x, ldx, y, ldy, ep, s + p * pe_scratch_floats(), Kernel::kRowEntriesScalar);
}

void SparseMatrix::apply(int64_t m, const float* x, int64_t ldx, float* y, int64_t ldy,
                         const kernels::GemmEpilogue& ep, ThreadPool* pool, void* scratch) const {
  if (m <= 0) return;
  float* s = static_cast<float*>(scratch);
  const int64_t stride = pe_scratch_floats();
  if (!pool || pes() == 1) {
    for (int p = 0; p < pes(); ++p) run_pe(p, m, x, ldx, y, ldy, ep, s + p * stride, Kernel::kFast);
    return;
  }
  pool->parallel_for(pes(), 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p)
      run_pe(static_cast<int>(p), m, x, ldx, y, ldy, ep, s + p * stride, Kernel::kFast);
  });
}

}  // namespace softdpu::compress
