#include "formats/packed.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#include "formats/blocks.h"
#include "formats/element.h"
#include "formats/quantize.h"

namespace softdpu::formats {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// 4-bit code i of a block of `block` elements (layout in blocks.h).
void nibble_slot(int block, int i, int* byte, bool* high) {
  const int g = std::min(block, 32);
  const int j = i % g;
  *byte = i / g * (g / 2) + j % (g / 2);
  *high = j >= g / 2;
}

void put_nibble(uint8_t* q, int block, int i, uint8_t v) {
  int b;
  bool hi;
  nibble_slot(block, i, &b, &hi);
  q[b] = hi ? uint8_t((q[b] & 0x0F) | (v << 4)) : uint8_t((q[b] & 0xF0) | (v & 0x0F));
}

uint8_t get_nibble(const uint8_t* q, int block, int i) {
  int b;
  bool hi;
  nibble_slot(block, i, &b, &hi);
  return hi ? uint8_t(q[b] >> 4) : uint8_t(q[b] & 0x0F);
}

void put_6bit(uint8_t* q, int i, uint8_t v) {
  const int bit = 6 * i, b = bit / 8, s = bit % 8;
  const uint16_t cur = uint16_t(q[b] | (s > 2 ? q[b + 1] << 8 : 0));
  const uint16_t next = uint16_t((cur & ~(0x3F << s)) | ((v & 0x3F) << s));
  q[b] = uint8_t(next);
  if (s > 2) q[b + 1] = uint8_t(next >> 8);
}

uint8_t get_6bit(const uint8_t* q, int i) {
  const int bit = 6 * i, b = bit / 8, s = bit % 8;
  const uint16_t cur = uint16_t(q[b] | (s > 2 ? q[b + 1] << 8 : 0));
  return uint8_t((cur >> s) & 0x3F);
}

int8_t sign_extend_nibble(uint8_t v) {
  return int8_t(uint8_t(v << 4)) >> 4;
}

}  // namespace

void encode_block(const WeightFormat& f, const float* x, int n, Rounding r, float scale,
                  uint8_t* dst) {
  const int block = storage_block(f);
  std::memset(dst, 0, size_t(storage_block_bytes(f)));
  switch (f.id) {
    case FormatId::kFp32: {
      float* d = reinterpret_cast<float*>(dst);
      for (int i = 0; i < n; ++i) d[i] = x[i];
      return;
    }
    case FormatId::kBf16:
    case FormatId::kFp16: {
      for (int i = 0; i < n; ++i) {
        const uint16_t h =
            f.id == FormatId::kBf16 ? float_to_bf16(x[i], r) : float_to_fp16(x[i], r);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      return;
    }
    case FormatId::kInt8:
      for (int i = 0; i < n; ++i) dst[i] = uint8_t(int8_quantize(x[i], scale, r));
      return;
    case FormatId::kBfp: {
      int8_t q[kBfpMaxBlock];
      bfp_quantize_block(x, n, f, r, dst, q);
      for (int i = 0; i < block; ++i) {
        if (f.mantissa_bits <= 3) {
          put_nibble(dst + 1, block, i, uint8_t(q[i]) & 0x0F);
        } else {
          dst[1 + i] = uint8_t(q[i]);
        }
      }
      return;
    }
    default: break;
  }
  // MX
  const ElemSpec& s = elem_spec(traits(f.id).elem);
  float q[kMxBlock];
  mx_quantize_block(x, n, s.kind, r, dst, q);
  const bool nan_block = dst[0] == kScaleNaN;
  for (int i = 0; i < kMxBlock; ++i) {
    const uint8_t code = nan_block ? 0 : encode_elem(q[i], s);  // the NaN scale says it all
    if (s.code_bits == 8) {
      dst[1 + i] = code;
    } else if (s.code_bits == 6) {
      put_6bit(dst + 1, i, code);
    } else {
      put_nibble(dst + 1, kMxBlock, i, code);
    }
  }
}

void decode_block(const WeightFormat& f, const uint8_t* src, float scale, float* out) {
  const int block = storage_block(f);
  switch (f.id) {
    case FormatId::kFp32: std::memcpy(out, src, sizeof(float) * block); return;
    case FormatId::kBf16:
    case FormatId::kFp16:
      for (int i = 0; i < block; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        out[i] = f.id == FormatId::kBf16 ? bf16_to_float(h) : fp16_to_float(h);
      }
      return;
    case FormatId::kInt8:
      for (int i = 0; i < block; ++i)
        out[i] = std::isnan(scale) ? kNaN : float(int8_t(src[i])) * scale;
      return;
    case FormatId::kBfp: {
      const float step = bfp_step(src[0], f.mantissa_bits);
      for (int i = 0; i < block; ++i) {
        const int8_t q = f.mantissa_bits <= 3 ? sign_extend_nibble(get_nibble(src + 1, block, i))
                                              : int8_t(src[1 + i]);
        out[i] = float(q) * step;
      }
      return;
    }
    default: break;
  }
  const ElemSpec& s = elem_spec(traits(f.id).elem);
  const float p = e8m0_to_float(src[0]);
  for (int i = 0; i < kMxBlock; ++i) {
    uint8_t code;
    if (s.code_bits == 8) {
      code = src[1 + i];
    } else if (s.code_bits == 6) {
      code = get_6bit(src + 1, i);
    } else {
      code = get_nibble(src + 1, kMxBlock, i);
    }
    out[i] = decode_elem(code, s) * p;
  }
}

namespace {
std::shared_ptr<uint8_t> aligned_buffer(size_t bytes) {
  uint8_t* raw = static_cast<uint8_t*>(std::aligned_alloc(64, bytes));
  if (!raw) throw std::bad_alloc();
  std::memset(raw, 0, bytes);
  return std::shared_ptr<uint8_t>(raw, [](uint8_t* q) { std::free(q); });
}
size_t buffer_bytes(int64_t n, int64_t row_bytes) {
  return (size_t(n * row_bytes) + 64 + 63) & ~size_t{63};
}
}  // namespace

PackedMatrix PackedMatrix::clone() const {
  PackedMatrix p = *this;
  if (data_) {
    p.data_ = aligned_buffer(buffer_bytes(n_, row_bytes_));
    std::memcpy(p.data_.get(), data_.get(), buffer_bytes(n_, row_bytes_));
  }
  return p;
}

PackedMatrix PackedMatrix::pack(const float* w, int64_t n, int64_t k, int64_t ldw,
                                const WeightFormat& f, Rounding r) {
  PackedMatrix p;
  p.format_ = f;
  p.n_ = n;
  p.k_ = k;
  const int block = storage_block(f), block_bytes = storage_block_bytes(f);
  p.blocks_ = (k + block - 1) / block;
  p.row_bytes_ = p.blocks_ * block_bytes;
  p.data_ = aligned_buffer(buffer_bytes(n, p.row_bytes_));
  uint8_t* raw = p.data_.get();
  if (f.id == FormatId::kInt8) p.row_scales_.resize(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    const float* row = w + i * ldw;
    const float scale = f.id == FormatId::kInt8 ? int8_row_scale(row, k) : 0.f;
    if (f.id == FormatId::kInt8) p.row_scales_[size_t(i)] = scale;
    uint8_t* dst = raw + i * p.row_bytes_;
    for (int64_t b = 0; b < p.blocks_; ++b) {
      const int64_t k0 = b * block;
      const int cnt = static_cast<int>(std::min<int64_t>(block, k - k0));
      encode_block(f, row + k0, cnt, r, scale, dst + b * block_bytes);
    }
  }
  return p;
}

PackedMatrix PackedMatrix::adopt(const WeightFormat& f, int64_t n, int64_t k,
                                 std::shared_ptr<uint8_t> data, std::vector<float> row_scales) {
  PackedMatrix p;
  p.format_ = f;
  p.n_ = n;
  p.k_ = k;
  p.blocks_ = (k + storage_block(f) - 1) / storage_block(f);
  p.row_bytes_ = p.blocks_ * storage_block_bytes(f);
  p.data_ = std::move(data);
  p.row_scales_ = std::move(row_scales);
  return p;
}

void PackedMatrix::decode_row(int64_t i, float* out) const {
  const int block = storage_block(format_), block_bytes = storage_block_bytes(format_);
  const float scale = row_scales_.empty() ? 0.f : row_scales_[size_t(i)];
  std::vector<float> tmp(static_cast<size_t>(block));
  for (int64_t b = 0; b < blocks_; ++b) {
    decode_block(format_, row(i) + b * block_bytes, scale, tmp.data());
    const int64_t k0 = b * block;
    const int64_t cnt = std::min<int64_t>(block, k_ - k0);
    std::copy(tmp.begin(), tmp.begin() + cnt, out + k0);
  }
}

std::vector<float> PackedMatrix::decode() const {
  std::vector<float> out(size_t(n_ * k_));
  for (int64_t i = 0; i < n_; ++i) decode_row(i, out.data() + i * k_);
  return out;
}

}  // namespace softdpu::formats
