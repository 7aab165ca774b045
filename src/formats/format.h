// Weight formats: the one table that names and describes every numeric format softdpu can store
// weights in (DESIGN.md §5.3: "a numeric format is described once").
//
// Families:
//   float  fp32, bf16, fp16                    one value per element, no shared scale
//   int8   int8                                symmetric int8, one fp32 scale per output channel
//   (row) mx     mxint8, mxfp8_e4m3, mxfp8_e5m2,     OCP Microscaling v1.0: blocks of 32 along K,
//   one
//          mxfp6_e3m2, mxfp6_e2m3, mxfp4_e2m1  E8M0 scale (2^(e-127), 0xFF = NaN) per block
//   bfp    ms-fp8, ms-fp9, msfp12, msfp16,     BrainWave-style block floating point: blocks of B,
//          bfp:B,M,E                           one shared exponent, sign + M magnitude bits each
//
// Names are the ones used everywhere (CLI, configs, docs); docs/formats.md has the layouts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace softdpu::formats {

enum class FormatId : uint8_t {
  kFp32,
  kBf16,
  kFp16,
  kInt8,
  kMxInt8,
  kMxFp8E4M3,
  kMxFp8E5M2,
  kMxFp6E3M2,
  kMxFp6E2M3,
  kMxFp4E2M1,
  kBfp,
};

enum class Family : uint8_t { kFloat, kInt8Channel, kMx, kBfp };

// Element encodings of the MX formats (OCP MX v1.0 §5.3).
enum class ElemKind : uint8_t { kNone, kInt8, kE4M3, kE5M2, kE3M2, kE2M3, kE2M1 };

// Rounding of values that fall between two representable ones. kEven (ties to even) is the
// default; kNearest rounds ties away from zero (microxcaling's "nearest").
enum class Rounding : uint8_t { kEven, kNearest };

// "even" | "nearest"; throws Error(kInvalidArgument) listing both for anything else.
Rounding parse_rounding(std::string_view name);
const char* rounding_name(Rounding r);

// One row of the table.
struct FormatTraits {
  const char* name;  // canonical name ("bfp:B,M,E" for the custom family row)
  FormatId id;
  Family family;
  ElemKind elem;      // MX element encoding (kNone otherwise)
  int block;          // elements per shared scale: 32 (mx), B (bfp), 0 = a whole row (int8), 1
  int mantissa_bits;  // bfp presets: magnitude bits per element (0 otherwise)
  int exponent_bits;  // bfp presets: shared-exponent bits (0 otherwise)
  const char* description;
};

// A parsed format name: the table row plus the block parameters (filled in for every family so
// that code never needs to look twice).
struct WeightFormat {
  FormatId id = FormatId::kFp32;
  int block = 1;          // elements sharing one scale; 0 = the whole row (int8)
  int mantissa_bits = 0;  // bfp only
  int exponent_bits = 0;  // bfp only
  std::string name = "fp32";

  Family family() const;
  bool operator==(const WeightFormat& o) const {
    return id == o.id && block == o.block && mantissa_bits == o.mantissa_bits &&
           exponent_bits == o.exponent_bits;
  }
};

// Every row, in the order of the enum (the bfp row last).
const std::vector<FormatTraits>& format_table();
const FormatTraits& traits(FormatId id);

// Parses a name (exact, lower-case). Throws Error(kInvalidArgument): unknown names get the list of
// valid ones; bad bfp parameters get the valid ranges (see kBfp* below).
WeightFormat parse_format(std::string_view name);
// "fp32, bf16, ..., bfp:B,M,E" for help texts and error messages.
std::string format_name_list();

// Custom block floating point limits: B a power of two in [16, 256] (the SIMD decoders work on
// 16-element chunks), M in [1, 7] (sign + M bits fit an int8 container), E in [2, 8] (the shared
// exponent is stored in one byte, biased by 127, so 0xFF stays free for NaN).
constexpr int kBfpMinBlock = 16, kBfpMaxBlock = 256;
constexpr int kBfpMinMantissa = 1, kBfpMaxMantissa = 7;
constexpr int kBfpMinExponent = 2, kBfpMaxExponent = 8;

// --- storage geometry (packed weights, see formats/packed.h) ---

// Bits of one stored element code: 32/16/8 for float/int8, 8/8/8/6/6/4 for MX, 4 (M <= 3) or 8
// for bfp (the magnitude is kept in a nibble or byte container).
int storage_elem_bits(const WeightFormat& f);
// Elements per storage block along K (rows are padded to a whole number of blocks): the scale
// block for mx/bfp, 16 for float and int8 (so every row is a whole number of SIMD chunks).
int storage_block(const WeightFormat& f);
// Bytes of one storage block: header (E8M0 scale or shared exponent: 1 byte) + codes.
int storage_block_bytes(const WeightFormat& f);
// Bytes of one packed row of `k` elements, and of the per-row fp32 scales (int8 only).
int64_t storage_row_bytes(const WeightFormat& f, int64_t k);
// Storage bits per weight for an n x k matrix, every header and scale included.
double storage_bits_per_weight(const WeightFormat& f, int64_t n, int64_t k);
// Information bits per weight of the format itself (element bits + scale bits / block; int8's
// per-row scale is not counted): 32, 16, 16, 8, 8.25, 8.25, 8.25, 6.25, 6.25, 4.25, ...
double format_bits_per_weight(const WeightFormat& f);

}  // namespace softdpu::formats
