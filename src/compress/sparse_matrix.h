// An EIE sparse weight (Han et al., ISCA'16): W (N x K, rows = outputs) stored column by column
// (CSC), one entry per non-zero:
//   - 4-bit relative row index z: the zeros between this entry and the previous one in the
//     column (the first entry counts from row 0); a gap over 15 gets a padding entry of value 0;
//   - the value: a 4-bit index into a shared codebook (weight sharing: entry 0 is the zero the
//     padding uses, entries 1..2^bits-1 the shared values), or the exact fp32 value when the
//     layer was stored losslessly (codebook_bits = 0);
//   - column pointers per column.
// Rows are interleaved over `pes` processing elements as in EIE: row r belongs to PE r % pes and
// each PE holds its own CSC over its rows, so PEs (threads) write disjoint outputs with no
// synchronisation. apply() visits only the non-zero activations x[j] (ReLU outputs are mostly
// zero) and, for each, only the column's stored entries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compress/compressed_matrix.h"
#include "compress/sparse_row_entries.h"

namespace softdpu::compress {

struct SparseOptions {
  int pes = 1;                           // row interleave (EIE's processing elements)
  int codebook_bits = 0;                 // 0 = exact values; 1..4 = shared values (4-bit entries)
  std::string codebook_values = "fp32";  // precision of the shared values: fp32, bf16, fp16
  // Codebook layers on AVX-512 CPUs: also derive the row-indexed kernel layout
  // (sparse_row_entries.h) and run apply() on it; false keeps the EIE kernels (benchmarks' A/B).
  bool row_entries = true;
  // Runs the previous AVX-512 row-entry loop instead (RowEntryLoop::kShiftMask): benchmarks' A/B.
  bool previous_row_entry_loop = false;
};

class SparseMatrix final : public CompressedMatrix {
 public:
  // Encodes the non-zeros of w (N x K, row stride ldw). With a codebook, the shared values come
  // from kmeans_codebook (exact when w has no more distinct non-zeros than 2^bits - 1).
  SparseMatrix(const float* w, int64_t n, int64_t k, int64_t ldw, const SparseOptions& opt);

  int64_t rows() const override { return n_; }
  int64_t cols() const override { return k_; }
  size_t scratch_bytes(int64_t m) const override;
  void apply(int64_t m, const float* x, int64_t ldx, float* y, int64_t ldy,
             const kernels::GemmEpilogue& ep, ThreadPool* pool, void* scratch) const override;
  // The EIE storage (entries, column pointers, codebook): the format of the layer.
  size_t bytes() const override;
  // The row-indexed kernel layout held next to it (0 when not derived): what apply() streams
  // then.
  size_t row_entry_bytes() const;
  bool has_row_entries() const { return pe_[0].row_entries.blocks > 0; }
  std::string format() const override;

  // The dense matrix the encoding represents (tests: round trips; the reference for apply()).
  void decode(float* w, int64_t ldw) const;
  int64_t entries() const;          // stored entries, padding included
  int64_t padding_entries() const;  // of which padding zeros
  const std::vector<float>& codebook() const { return codebook_; }
  int pes() const { return static_cast<int>(pe_.size()); }

  // The reference twin of apply(): one entry at a time, the row and the codebook product computed
  // per entry. apply() multiplies the codebook by x once per column and decodes rows 8 at a time
  // (SWAR); with AVX-512 the weights of 16 entries come from one vpermps and stay in a register
  // (sparse_columns_avx512.cc), elsewhere from a table load per entry (plain C++). With row
  // entries and AVX-512, apply() runs their kernel (sparse_row_entries_avx512.cc).
  void apply_scalar(int64_t m, const float* x, int64_t ldx, float* y, int64_t ldy,
                    const kernels::GemmEpilogue& ep, void* scratch) const;
  // The scalar twin of the row-entry kernel (has_row_entries() only).
  void apply_row_entries_scalar(int64_t m, const float* x, int64_t ldx, float* y, int64_t ldy,
                                const kernels::GemmEpilogue& ep, void* scratch) const;

 private:
  struct Pe {
    int64_t rows = 0;                // rows this PE owns: r = pe + i * pes
    std::vector<uint32_t> col_ptr;   // K + 1 entry offsets
    std::vector<uint8_t> code;       // per entry: (codebook index << 4) | z
    std::vector<float> value;        // per entry, exact values only (codebook_bits = 0)
    detail::RowEntries row_entries;  // kernel layout derived from code / col_ptr (or empty)
  };
  enum class Kernel { kFast, kEieScalar, kRowEntriesScalar };
  void run_pe(int p, int64_t m, const float* x, int64_t ldx, float* y, int64_t ldy,
              const kernels::GemmEpilogue& ep, float* scratch, Kernel kernel) const;
  // Accumulators of one batch row into scratch[0 .. rows).
  void run_row_entries(const detail::RowEntries& re, const float* x, float* scratch,
                       bool avx512) const;
  int64_t pe_scratch_floats() const;  // per PE: accumulators, then the active-column list

  int64_t n_, k_;
  int bits_;
  detail::RowEntryLoop row_entry_loop_;
  std::string values_;
  std::vector<float> codebook_;  // 2^bits entries, [0] = 0 (empty when exact)
  std::vector<Pe> pe_;
};

}  // namespace softdpu::compress
