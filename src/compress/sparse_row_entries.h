// The row-indexed kernel layout of an EIE codebook layer, derived at plan time from one PE's EIE
// CSC (sparse_matrix.h), which stays the stored format: per input column, one 16-bit entry per
// non-zero weight, (row << 4) | codebook index, the row counted within a block of 4096 rows.
//
// Why: the EIE loop is bound by its one scattered accumulator store per entry (an in-cache
// standalone copy ran as fast as plain scattered stores from precomputed rows and values), so the
// lever is the number of entries and the work around each store. Absolute rows need no padding
// entries (EIE's 4-bit relative index pads every gap over 15 rows: ~22% extra entries at 9%
// density, ~50% at 4%) and no row decode; the weights of 16 entries come from one vpermps of the
// scaled codebook (the low 4 bits of each entry are its index) and stay in a register. Measured in
// a standalone copy on an Alex-7-shaped layer: 1.4x fewer ns per call than the EIE AVX-512 loop.
// The cost is 2 bytes per non-zero instead of EIE's 1 byte per entry, held next to the EIE CSC.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace softdpu::compress::detail {

inline constexpr int64_t kEntryBlockRows = 4096;  // rows a 12-bit row index reaches
inline constexpr int kEntrySlack = 16;            // entries after the last (16-entry loads)

struct RowEntries {
  int64_t rows = 0, cols = 0, blocks = 0;  // blocks of kEntryBlockRows rows
  // Entries of row block b and column c: entry[ptr[b * cols + c] .. ptr[b * cols + c + 1]).
  std::vector<uint32_t> ptr;
  std::vector<uint16_t> entry;
  // 64-byte lines of entries the AVX-512 kernel prefetches for the next active column: the mean
  // (block, column) run, rounded up and capped at 32.
  int prefetch_lines = 0;

  // From one PE's EIE CSC: `rows` local rows, `col_ptr` (cols + 1 offsets), `code` entries
  // (codebook index << 4 | relative row z); padding entries (index 0) are dropped.
  static RowEntries from_csc(int64_t rows, int64_t cols, const std::vector<uint32_t>& col_ptr,
                             const std::vector<uint8_t>& code);
  size_t bytes() const;  // without the load slack
};

// acc[0 .. rows) = sum over the active columns a < n_active of codebook[index] * x[a] for the
// entries of column active[a] (codebook: 16 entries). The scalar twin (sparse_row_entries.cc)
// and the AVX-512 kernel (sparse_row_entries_avx512.cc) add in the same order, so they agree
// exactly.
void row_entries_scalar(const RowEntries& s, const float* codebook, const int32_t* active,
                        const float* x, int64_t n_active, float* acc);
// kBextr is the kernel; kShiftMask the previous loop (rows by shift + mask, a prefetch loop to
// the end of each column), kept selectable for A/B benchmarks (SparseOptions).
enum class RowEntryLoop { kBextr, kShiftMask };
void row_entries_avx512(const RowEntries& s, const float* codebook, const int32_t* active,
                        const float* x, int64_t n_active, float* acc,
                        RowEntryLoop loop = RowEntryLoop::kBextr);

}  // namespace softdpu::compress::detail
