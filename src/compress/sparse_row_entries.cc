#include "compress/sparse_row_entries.h"

#include <algorithm>

namespace softdpu::compress::detail {

RowEntries RowEntries::from_csc(int64_t rows, int64_t cols, const std::vector<uint32_t>& col_ptr,
                                const std::vector<uint8_t>& code) {
  RowEntries s;
  s.rows = rows;
  s.cols = cols;
  s.blocks = (rows + kEntryBlockRows - 1) / kEntryBlockRows;
  // Visits column c's non-zeros in row order: f(row, codebook index).
  auto each = [&](int64_t c, auto&& f) {
    int64_t row = -1;
    for (uint32_t e = col_ptr[c]; e < col_ptr[c + 1]; ++e) {
      row += 1 + (code[e] & 15);
      if (code[e] >> 4) f(row, code[e] >> 4);
    }
  };
  // Counts per (block, column), then their offsets, then the entries.
  s.ptr.assign(static_cast<size_t>(s.blocks * cols + 1), 0);
  for (int64_t c = 0; c < cols; ++c)
    each(c, [&](int64_t row, int) { ++s.ptr[(row / kEntryBlockRows) * cols + c + 1]; });
  for (size_t i = 1; i < s.ptr.size(); ++i) s.ptr[i] += s.ptr[i - 1];
  s.entry.assign(s.ptr.back() + kEntrySlack, 0);
  std::vector<uint32_t> fill(s.ptr.begin(), s.ptr.end() - 1);
  for (int64_t c = 0; c < cols; ++c) {
    each(c, [&](int64_t row, int idx) {
      const int64_t b = row / kEntryBlockRows;
      s.entry[fill[b * cols + c]++] = static_cast<uint16_t>((row - b * kEntryBlockRows) << 4 | idx);
    });
  }
  const int64_t runs = std::max<int64_t>(1, s.blocks * cols);
  const int64_t mean_bytes = static_cast<int64_t>(s.ptr.back()) * 2 / runs;
  s.prefetch_lines = static_cast<int>(std::min<int64_t>(32, (mean_bytes + 63) / 64));
  return s;
}

size_t RowEntries::bytes() const {
  if (entry.empty()) return 0;
  return ptr.size() * sizeof(uint32_t) + (entry.size() - kEntrySlack) * sizeof(uint16_t);
}

void row_entries_scalar(const RowEntries& s, const float* codebook, const int32_t* active,
                        const float* x, int64_t n_active, float* acc) {
  std::fill(acc, acc + s.rows, 0.f);
  for (int64_t b = 0; b < s.blocks; ++b) {
    float* out = acc + b * kEntryBlockRows;
    for (int64_t a = 0; a < n_active; ++a) {
      const size_t at = static_cast<size_t>(b * s.cols + active[a]);
      for (uint32_t e = s.ptr[at]; e < s.ptr[at + 1]; ++e)
        out[s.entry[e] >> 4] += codebook[s.entry[e] & 15] * x[a];
    }
  }
}

}  // namespace softdpu::compress::detail
