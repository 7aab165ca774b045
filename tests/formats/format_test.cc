// The format table and its parser, storage geometry, the block floating point family against a
// naive formula written here, int8 per channel, the NaN/Inf policy and last-block padding.
#include "formats/format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "formats/blocks.h"
#include "formats/packed.h"
#include "formats/quantize.h"
#include "softdpu/status.h"

namespace softdpu::formats {
namespace {

const char* const kNames[] = {"fp32",       "bf16",       "fp16",       "int8",       "mxint8",
                              "mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4_e2m1",
                              "ms-fp8",     "ms-fp9",     "msfp12",     "msfp16"};

std::string error_of(const std::string& name) {
  try {
    parse_format(name);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::kInvalidArgument);
    return e.what();
  }
  return "";
}

TEST(FormatsTable, EveryNameParsesToItself) {
  for (const char* n : kNames) {
    const WeightFormat f = parse_format(n);
    EXPECT_EQ(f.name, n);
    EXPECT_EQ(parse_format(f.name), f);
  }
  EXPECT_EQ(format_table().size(), std::size(kNames) + 1);  // + the bfp:B,M,E row
  EXPECT_EQ(parse_format("MXFP4_E2M1").id, FormatId::kMxFp4E2M1);
}

TEST(FormatsTable, PresetsAreMembersOfTheBfpFamily) {
  EXPECT_EQ(parse_format("msfp12"), parse_format("bfp:16,3,8"));
  EXPECT_EQ(parse_format("msfp16"), parse_format("bfp:16,7,8"));
  EXPECT_EQ(parse_format("ms-fp8"), parse_format("bfp:16,2,5"));
  EXPECT_EQ(parse_format("ms-fp9"), parse_format("bfp:16,3,5"));
  const WeightFormat f = parse_format("bfp:64,5,6");
  EXPECT_EQ(f.block, 64);
  EXPECT_EQ(f.mantissa_bits, 5);
  EXPECT_EQ(f.exponent_bits, 6);
  EXPECT_EQ(f.name, "bfp:64,5,6");
}

TEST(FormatsTable, UnknownNamesListTheValidOnes) {
  const std::string msg = error_of("mxfp5");
  EXPECT_NE(msg.find("unknown weight format 'mxfp5'"), std::string::npos) << msg;
  for (const char* n : kNames) EXPECT_NE(msg.find(n), std::string::npos) << n;
  EXPECT_NE(msg.find("bfp:B,M,E"), std::string::npos);
  EXPECT_NE(error_of("").find("unknown weight format"), std::string::npos);
}

TEST(FormatsTable, BadBfpParameters) {
  EXPECT_NE(error_of("bfp:12,3,8").find("block size 12"), std::string::npos);
  EXPECT_NE(error_of("bfp:8,3,8").find("block size 8"), std::string::npos);
  EXPECT_NE(error_of("bfp:512,3,8").find("block size 512"), std::string::npos);
  EXPECT_NE(error_of("bfp:16,0,8").find("mantissa bits 0"), std::string::npos);
  EXPECT_NE(error_of("bfp:16,8,8").find("mantissa bits 8"), std::string::npos);
  EXPECT_NE(error_of("bfp:16,3,9").find("exponent bits 9"), std::string::npos);
  EXPECT_NE(error_of("bfp:16,3,1").find("exponent bits 1"), std::string::npos);
  EXPECT_NE(error_of("bfp:16,3").find("three comma-separated"), std::string::npos);
  EXPECT_NE(error_of("bfp:16,x,8").find("'x' is not a number"), std::string::npos);
  EXPECT_NE(error_of("bfp:16,3,8,1").find("not a number"), std::string::npos);
  EXPECT_EQ(error_of("bfp:16,3,8"), "");
}

TEST(FormatsTable, Rounding) {
  EXPECT_EQ(parse_rounding("even"), Rounding::kEven);
  EXPECT_EQ(parse_rounding("nearest"), Rounding::kNearest);
  try {
    parse_rounding("up");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("even"), std::string::npos);
  }
}

TEST(FormatsTable, StorageGeometryMatchesTheBlockStructs) {
  EXPECT_EQ(storage_block_bytes(parse_format("mxint8")), int(sizeof(MxInt8Block)));
  EXPECT_EQ(storage_block_bytes(parse_format("mxfp8_e4m3")), int(sizeof(MxFp8Block)));
  EXPECT_EQ(storage_block_bytes(parse_format("mxfp8_e5m2")), int(sizeof(MxFp8Block)));
  EXPECT_EQ(storage_block_bytes(parse_format("mxfp6_e3m2")), int(sizeof(MxFp6Block)));
  EXPECT_EQ(storage_block_bytes(parse_format("mxfp6_e2m3")), int(sizeof(MxFp6Block)));
  EXPECT_EQ(storage_block_bytes(parse_format("mxfp4_e2m1")), int(sizeof(MxFp4Block)));
  EXPECT_EQ(storage_block_bytes(parse_format("msfp12")), int(sizeof(BfpNibbleBlock<16>)));
  EXPECT_EQ(storage_block_bytes(parse_format("ms-fp8")), int(sizeof(BfpNibbleBlock<16>)));
  EXPECT_EQ(storage_block_bytes(parse_format("msfp16")), int(sizeof(BfpByteBlock<16>)));
  EXPECT_EQ(storage_block_bytes(parse_format("bfp:32,3,8")), int(sizeof(BfpNibbleBlock<32>)));
  EXPECT_EQ(storage_block_bytes(parse_format("bfp:256,7,8")), int(sizeof(BfpByteBlock<256>)));
  EXPECT_EQ(storage_block_bytes(parse_format("int8")), int(sizeof(Int8Chunk)));
  EXPECT_EQ(storage_block_bytes(parse_format("bf16")), int(sizeof(Half16Chunk)));
  // Bits per weight at 4096 x 4096, every scale included.
  EXPECT_DOUBLE_EQ(storage_bits_per_weight(parse_format("fp32"), 4096, 4096), 32);
  EXPECT_DOUBLE_EQ(storage_bits_per_weight(parse_format("mxint8"), 4096, 4096), 8.25);
  EXPECT_DOUBLE_EQ(storage_bits_per_weight(parse_format("mxfp6_e2m3"), 4096, 4096), 6.25);
  EXPECT_DOUBLE_EQ(storage_bits_per_weight(parse_format("mxfp4_e2m1"), 4096, 4096), 4.25);
  EXPECT_DOUBLE_EQ(storage_bits_per_weight(parse_format("msfp12"), 4096, 4096), 4.5);
  EXPECT_DOUBLE_EQ(storage_bits_per_weight(parse_format("int8"), 4096, 4096), 8 + 32.0 / 4096);
  EXPECT_DOUBLE_EQ(format_bits_per_weight(parse_format("ms-fp8")), 3 + 5.0 / 16);
  EXPECT_DOUBLE_EQ(format_bits_per_weight(parse_format("msfp16")), 8.5);
  // K = 33 pads to two MX blocks.
  EXPECT_EQ(storage_row_bytes(parse_format("mxfp4_e2m1"), 33), 34);
}

// The naive block floating point formula: e = floor(log2(max|x|)) clamped to the E-bit range,
// q = round(x / 2^(e - M + 1)) clamped to M magnitude bits.
float bfp_naive(const std::vector<float>& block, size_t i, int m_bits, int e_bits, Rounding r) {
  double mx = 0;
  for (float v : block) mx = std::max(mx, std::fabs(double(v)));
  const int emax = (1 << (e_bits - 1)) - 1;
  int e = mx == 0 ? -emax : int(std::floor(std::log2(mx)));
  e = std::min(std::max(e, -emax), emax);
  const double step = std::pow(2.0, e - m_bits + 1);
  const double t = block[i] / step;
  double q = r == Rounding::kEven ? std::nearbyint(t) : std::round(t);
  const double qmax = std::pow(2.0, m_bits) - 1;
  q = std::min(std::max(q, -qmax), qmax);
  return float(q * step);
}

TEST(FormatsBfp, PresetsMatchTheNaiveFormula) {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.f, 1.f);
  for (const char* name : {"ms-fp8", "ms-fp9", "msfp12", "msfp16", "bfp:32,4,6", "bfp:64,1,3"}) {
    const WeightFormat f = parse_format(name);
    for (Rounding r : {Rounding::kEven, Rounding::kNearest}) {
      const int64_t cols = 5 * f.block;
      std::vector<float> in(static_cast<size_t>(cols)), out(static_cast<size_t>(cols));
      for (int64_t i = 0; i < cols; ++i) {
        // Magnitudes from 2^-24 to 2^24 so the exponent clamps are exercised for E < 8, plus
        // exact ties of the grid.
        const int blk = int(i / f.block);
        in[size_t(i)] = nd(rng) * std::ldexp(1.f, (blk - 2) * 12);
        if (i % 7 == 0) in[size_t(i)] = std::ldexp(2.5f, (blk - 2) * 12 - f.mantissa_bits);
      }
      quantize_dequantize(in.data(), 1, cols, f, r, out.data());
      const PackedMatrix p = PackedMatrix::pack(in.data(), 1, cols, cols, f, r);
      const std::vector<float> dec = p.decode();
      for (int64_t b = 0; b < cols / f.block; ++b) {
        std::vector<float> block(in.begin() + b * f.block, in.begin() + (b + 1) * f.block);
        for (int i = 0; i < f.block; ++i) {
          const size_t at = size_t(b * f.block + i);
          const float want = bfp_naive(block, size_t(i), f.mantissa_bits, f.exponent_bits, r);
          ASSERT_EQ(out[at], want) << name << " " << rounding_name(r) << " at " << at;
          ASSERT_EQ(dec[at], want) << name << " packed at " << at;
        }
      }
    }
  }
}

TEST(FormatsInt8, PerChannelScale) {
  const float w[2][4] = {{1.f, -0.5f, 0.25f, 0.f}, {-254.f, 1.f, 2.f, 3.f}};
  const PackedMatrix p = PackedMatrix::pack(&w[0][0], 2, 4, 4, parse_format("int8"));
  ASSERT_NE(p.row_scales(), nullptr);
  EXPECT_EQ(p.row_scales()[0], 1.f / 127);
  EXPECT_EQ(p.row_scales()[1], 2.f);
  const std::vector<float> d = p.decode();
  EXPECT_EQ(d[0], 1.f);
  EXPECT_NEAR(d[1], -0.5f, 0.5f / 127);
  EXPECT_EQ(d[4], -254.f);
  EXPECT_EQ(d[5], 0.f);  // round(0.5) = 0 with ties to even
  EXPECT_EQ(d[7], 4.f);  // round(1.5) = 2
  const PackedMatrix n =
      PackedMatrix::pack(&w[0][0], 2, 4, 4, parse_format("int8"), Rounding::kNearest);
  EXPECT_EQ(n.decode()[5], 2.f);  // round(0.5) = 1 away from zero
}

// The documented policy: a NaN or Inf poisons its scale group (whole MX/bfp block, whole int8
// row); element-wise formats keep NaN and Inf per element.
TEST(FormatsNonFinite, PoisonsTheScaleGroup) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
  for (const char* name : {"mxint8", "mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3",
                           "mxfp4_e2m1", "msfp12", "msfp16", "ms-fp8", "bfp:32,5,8", "int8"}) {
    const WeightFormat f = parse_format(name);
    for (float bad : {nan, inf, -inf}) {
      SCOPED_TRACE(::testing::Message() << name << " " << bad);
      const int64_t cols = 64;  // two blocks of 32 (four of 16), one row for int8
      std::vector<float> in(cols, 0.5f), qdq(cols);
      in[3] = bad;
      quantize_dequantize(in.data(), 1, cols, f, Rounding::kEven, qdq.data());
      const PackedMatrix p = PackedMatrix::pack(in.data(), 1, cols, cols, f);
      const std::vector<float> dec = p.decode();
      const int64_t group = f.id == FormatId::kInt8 ? cols : f.block;
      for (int64_t i = 0; i < cols; ++i) {
        EXPECT_EQ(std::isnan(qdq[size_t(i)]), i < group) << i;
        EXPECT_EQ(std::isnan(dec[size_t(i)]), i < group) << i;
      }
      if (f.family() == Family::kMx || f.family() == Family::kBfp) {
        EXPECT_EQ(p.row(0)[0], kScaleNaN);
      }
      if (f.id == FormatId::kInt8) {
        EXPECT_TRUE(std::isnan(p.row_scales()[0]));
      }
    }
  }
}

TEST(FormatsNonFinite, ElementwiseFormatsKeepThem) {
  const float inf = std::numeric_limits<float>::infinity();
  const float in[4] = {std::nanf(""), inf, -inf, 1e30f};
  for (const char* name : {"fp32", "bf16", "fp16"}) {
    float out[4];
    quantize_dequantize(in, 1, 4, parse_format(name), Rounding::kEven, out);
    EXPECT_TRUE(std::isnan(out[0])) << name;
    EXPECT_EQ(out[1], inf) << name;
    EXPECT_EQ(out[2], -inf) << name;
    EXPECT_TRUE(std::isfinite(out[3])) << name;  // finite values saturate
  }
}

// A last partial block is quantised as if padded with zeros.
TEST(FormatsQuantize, LastBlockIsZeroPadded) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(-2.f, 2.f);
  for (const char* name : {"mxfp4_e2m1", "mxint8", "msfp12", "bfp:64,4,8"}) {
    const WeightFormat f = parse_format(name);
    const int64_t cols = 2 * f.block + 5, padded = 3 * f.block;
    std::vector<float> in(static_cast<size_t>(padded), 0.f), a(static_cast<size_t>(cols)),
        b(static_cast<size_t>(padded));
    for (int64_t i = 0; i < cols; ++i) in[size_t(i)] = d(rng);
    quantize_dequantize(in.data(), 1, cols, f, Rounding::kEven, a.data());
    quantize_dequantize(in.data(), 1, padded, f, Rounding::kEven, b.data());
    for (int64_t i = 0; i < cols; ++i) EXPECT_EQ(a[size_t(i)], b[size_t(i)]) << name << " " << i;
  }
}

}  // namespace
}  // namespace softdpu::formats
