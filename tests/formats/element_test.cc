// Element codecs: known values from the OCP MX v1.0 tables (max normal, smallest subnormal,
// NaN/Inf codes), saturation, ties in both rounding modes, and code round trips; bf16 and fp16
// conversions with their saturation policy.
#include "formats/element.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace softdpu::formats {
namespace {

constexpr Rounding kEven = Rounding::kEven, kNearest = Rounding::kNearest;

struct Known {
  ElemKind kind;
  float max_normal, min_normal, min_subnormal;
  uint8_t max_code;
};

// OCP MX v1.0, table 2 (FP8 from the OFP8 spec); INT8 is 1.6 fixed point.
const Known kKnown[] = {
    {ElemKind::kE4M3, 448.f, 0x1p-6f, 0x1p-9f, 0x7E},
    {ElemKind::kE5M2, 57344.f, 0x1p-14f, 0x1p-16f, 0x7B},
    {ElemKind::kE3M2, 28.f, 0.25f, 0.0625f, 0x1F},
    {ElemKind::kE2M3, 7.5f, 1.f, 0.125f, 0x1F},
    {ElemKind::kE2M1, 6.f, 1.f, 0.5f, 0x7},
};

TEST(FormatsElement, KnownValues) {
  for (const Known& k : kKnown) {
    const ElemSpec& s = elem_spec(k.kind);
    SCOPED_TRACE(int(k.kind));
    EXPECT_EQ(s.max_norm, k.max_normal);
    EXPECT_EQ(decode_elem(k.max_code, s), k.max_normal);
    EXPECT_EQ(encode_elem(k.max_normal, s), k.max_code);
    EXPECT_EQ(decode_elem(1, s), k.min_subnormal);
    EXPECT_EQ(decode_elem(uint8_t(1 << s.mbits), s), k.min_normal);
    const uint8_t sign = uint8_t(1u << (s.code_bits - 1));
    EXPECT_EQ(decode_elem(sign | k.max_code, s), -k.max_normal);
    EXPECT_TRUE(std::signbit(decode_elem(sign, s)));  // -0
    // Saturation, not overflow, and subnormals are kept.
    for (Rounding r : {kEven, kNearest}) {
      EXPECT_EQ(quantize_elem(k.max_normal * 4, s, r), k.max_normal);
      EXPECT_EQ(quantize_elem(-k.max_normal * 1.01f, s, r), -k.max_normal);
      EXPECT_EQ(quantize_elem(k.min_subnormal, s, r), k.min_subnormal);
      EXPECT_EQ(quantize_elem(k.min_subnormal * 3, s, r), k.min_subnormal * 3);
    }
  }
  EXPECT_TRUE(std::isnan(decode_elem(0x7F, elem_spec(ElemKind::kE4M3))));
  EXPECT_TRUE(std::isnan(decode_elem(0xFF, elem_spec(ElemKind::kE4M3))));
  EXPECT_EQ(decode_elem(0x7C, elem_spec(ElemKind::kE5M2)), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(decode_elem(0x7D, elem_spec(ElemKind::kE5M2))));
  const ElemSpec& i8 = elem_spec(ElemKind::kInt8);
  EXPECT_EQ(i8.max_norm, 127.f / 64.f);
  EXPECT_EQ(decode_elem(0x7F, i8), 127.f / 64.f);
  EXPECT_EQ(decode_elem(0x81, i8), -127.f / 64.f);
  EXPECT_EQ(quantize_elem(3.f, i8, kEven), 127.f / 64.f);
  EXPECT_EQ(quantize_elem(-2.f, i8, kEven), -127.f / 64.f);  // never -128
}

TEST(FormatsElement, TiesInBothRoundings) {
  struct Tie {
    ElemKind kind;
    float v, even, nearest;
  };
  const Tie ties[] = {
      {ElemKind::kE2M1, 2.5f, 2.f, 3.f},
      {ElemKind::kE2M1, 5.f, 4.f, 6.f},
      {ElemKind::kE2M1, 0.25f, 0.f, 0.5f},
      {ElemKind::kE2M1, 1.25f, 1.f, 1.5f},
      {ElemKind::kE2M1, -1.75f, -2.f, -2.f},
      {ElemKind::kE2M1, 0.75f, 1.f, 1.f},
      {ElemKind::kE4M3, 1.0625f, 1.f, 1.125f},
      {ElemKind::kE4M3, 1.1875f, 1.25f, 1.25f},
      {ElemKind::kE4M3, 0x1p-10f, 0.f, 0x1p-9f},
      {ElemKind::kE5M2, 1.125f, 1.f, 1.25f},
      {ElemKind::kE3M2, 0.09375f, 0.125f, 0.125f},
      {ElemKind::kE2M3, 0.0625f, 0.f, 0.125f},
      {ElemKind::kInt8, 2.5f / 64, 2.f / 64, 3.f / 64},
      {ElemKind::kInt8, 0.5f / 64, 0.f, 1.f / 64},
      {ElemKind::kInt8, -1.5f / 64, -2.f / 64, -2.f / 64},
  };
  for (const Tie& t : ties) {
    SCOPED_TRACE(::testing::Message() << "kind " << int(t.kind) << " v " << t.v);
    EXPECT_EQ(quantize_elem(t.v, elem_spec(t.kind), kEven), t.even);
    EXPECT_EQ(quantize_elem(t.v, elem_spec(t.kind), kNearest), t.nearest);
  }
  // Below half way rounds down, above rounds up, in both modes.
  EXPECT_EQ(quantize_elem(2.49f, elem_spec(ElemKind::kE2M1), kNearest), 2.f);
  EXPECT_EQ(quantize_elem(2.51f, elem_spec(ElemKind::kE2M1), kEven), 3.f);
  // A negative value that rounds to zero keeps its sign (as microxcaling's sign(x) * 0).
  EXPECT_TRUE(std::signbit(quantize_elem(-0.1f, elem_spec(ElemKind::kE2M1), kEven)));
}

TEST(FormatsElement, EveryCodeRoundTrips) {
  for (ElemKind kind : {ElemKind::kInt8, ElemKind::kE4M3, ElemKind::kE5M2, ElemKind::kE3M2,
                        ElemKind::kE2M3, ElemKind::kE2M1}) {
    const ElemSpec& s = elem_spec(kind);
    for (int c = 0; c < (1 << s.code_bits); ++c) {
      const float v = decode_elem(uint8_t(c), s);
      if (std::isnan(v) || std::isinf(v)) continue;
      if (kind == ElemKind::kInt8 && c == 0x80) continue;  // -128 is outside MXINT8's range
      SCOPED_TRACE(::testing::Message() << "kind " << int(kind) << " code " << c);
      EXPECT_EQ(encode_elem(v, s), c);
      EXPECT_EQ(quantize_elem(v, s, kEven), v);  // representable values are fixed points
      EXPECT_EQ(quantize_elem(v, s, kNearest), v);
    }
  }
}

TEST(FormatsElement, NonFiniteElementsPassThroughTheElementQuantiser) {
  const float inf = std::numeric_limits<float>::infinity();
  for (ElemKind kind : {ElemKind::kE4M3, ElemKind::kE2M1, ElemKind::kInt8}) {
    EXPECT_TRUE(std::isnan(quantize_elem(NAN, elem_spec(kind), kEven)));
    EXPECT_EQ(quantize_elem(-inf, elem_spec(kind), kEven), -inf);
  }
}

TEST(FormatsElement, Bf16) {
  EXPECT_EQ(float_to_bf16(1.f, kEven), 0x3F80);
  EXPECT_EQ(float_to_bf16(-2.f, kEven), 0xC000);
  const float tie = 1.f + 0x1p-8f;  // half way between 1 and 1 + 2^-7
  EXPECT_EQ(float_to_bf16(tie, kEven), 0x3F80);
  EXPECT_EQ(float_to_bf16(tie, kNearest), 0x3F81);
  const float tie_odd = 1.f + 0x1p-7f + 0x1p-8f;
  EXPECT_EQ(float_to_bf16(tie_odd, kEven), 0x3F82);
  EXPECT_EQ(float_to_bf16(std::numeric_limits<float>::max(), kEven), 0x7F7F);  // saturates
  EXPECT_EQ(float_to_bf16(-std::numeric_limits<float>::infinity(), kEven), 0xFF80);
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(NAN, kEven))));
  EXPECT_EQ(bf16_to_float(0x3F81), 1.f + 0x1p-7f);
  for (uint32_t h = 0; h < 0x10000; h += 7) {
    const float v = bf16_to_float(uint16_t(h));
    if (!std::isnan(v)) {
      EXPECT_EQ(float_to_bf16(v, kEven), h);
    }
  }
}

TEST(FormatsElement, Fp16) {
  EXPECT_EQ(float_to_fp16(1.f, kEven), 0x3C00);
  EXPECT_EQ(float_to_fp16(65504.f, kEven), 0x7BFF);
  EXPECT_EQ(float_to_fp16(65520.f, kEven), 0x7BFF);  // IEEE would give Inf: saturates
  EXPECT_EQ(float_to_fp16(-1e9f, kEven), 0xFBFF);
  EXPECT_EQ(float_to_fp16(std::numeric_limits<float>::infinity(), kEven), 0x7C00);
  EXPECT_EQ(float_to_fp16(0x1p-24f, kEven), 0x0001);  // smallest subnormal
  EXPECT_EQ(float_to_fp16(0x1p-25f, kEven), 0x0000);  // tie with 0: even
  EXPECT_EQ(float_to_fp16(0x1p-25f, kNearest), 0x0001);
  EXPECT_EQ(float_to_fp16(3 * 0x1p-25f, kEven), 0x0002);
  EXPECT_EQ(float_to_fp16(1.f + 0x1p-11f, kEven), 0x3C00);
  EXPECT_EQ(float_to_fp16(1.f + 0x1p-11f, kNearest), 0x3C01);
  EXPECT_EQ(float_to_fp16(1.f - 0x1p-12f, kEven), 0x3C00);  // rounds up into the next binade
  EXPECT_TRUE(std::isnan(fp16_to_float(float_to_fp16(NAN, kEven))));
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float v = fp16_to_float(uint16_t(h));
    if (!std::isnan(v)) {
      EXPECT_EQ(float_to_fp16(v, kEven), h) << h;
    }
  }
}

}  // namespace
}  // namespace softdpu::formats
