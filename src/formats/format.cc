#include "formats/format.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "formats/element.h"
#include "softdpu/status.h"

namespace softdpu::formats {
namespace {

// The table. The order of the rows follows FormatId; presets of the bfp family share kBfp. A
// function-local static, so that other static initialisers (benchmark registration) can use it.
const std::vector<FormatTraits>& table() {
  static const std::vector<FormatTraits> rows = {
      {"fp32", FormatId::kFp32, Family::kFloat, ElemKind::kNone, 1, 0, 0, "IEEE binary32"},
      {"bf16", FormatId::kBf16, Family::kFloat, ElemKind::kNone, 1, 0, 0, "bfloat16 (1/8/7)"},
      {"fp16", FormatId::kFp16, Family::kFloat, ElemKind::kNone, 1, 0, 0, "IEEE binary16 (1/5/10)"},
      {"int8", FormatId::kInt8, Family::kInt8Channel, ElemKind::kNone, 0, 0, 0,
       "symmetric int8, one fp32 scale per output channel"},
      {"mxint8", FormatId::kMxInt8, Family::kMx, ElemKind::kInt8, 32, 0, 0,
       "OCP MX: 32 x int8 (x 2^-6) + E8M0 scale"},
      {"mxfp8_e4m3", FormatId::kMxFp8E4M3, Family::kMx, ElemKind::kE4M3, 32, 0, 0,
       "OCP MX: 32 x FP8 E4M3 + E8M0 scale"},
      {"mxfp8_e5m2", FormatId::kMxFp8E5M2, Family::kMx, ElemKind::kE5M2, 32, 0, 0,
       "OCP MX: 32 x FP8 E5M2 + E8M0 scale"},
      {"mxfp6_e3m2", FormatId::kMxFp6E3M2, Family::kMx, ElemKind::kE3M2, 32, 0, 0,
       "OCP MX: 32 x FP6 E3M2 + E8M0 scale"},
      {"mxfp6_e2m3", FormatId::kMxFp6E2M3, Family::kMx, ElemKind::kE2M3, 32, 0, 0,
       "OCP MX: 32 x FP6 E2M3 + E8M0 scale"},
      {"mxfp4_e2m1", FormatId::kMxFp4E2M1, Family::kMx, ElemKind::kE2M1, 32, 0, 0,
       "OCP MX: 32 x FP4 E2M1 + E8M0 scale"},
      {"ms-fp8", FormatId::kBfp, Family::kBfp, ElemKind::kNone, 16, 2, 5,
       "BrainWave ms-fp8: block 16, 5-bit shared exponent, sign + 2 bits"},
      {"ms-fp9", FormatId::kBfp, Family::kBfp, ElemKind::kNone, 16, 3, 5,
       "BrainWave ms-fp9: block 16, 5-bit shared exponent, sign + 3 bits"},
      {"msfp12", FormatId::kBfp, Family::kBfp, ElemKind::kNone, 16, 3, 8,
       "MSFP12: block 16, 8-bit shared exponent, sign + 3 bits"},
      {"msfp16", FormatId::kBfp, Family::kBfp, ElemKind::kNone, 16, 7, 8,
       "MSFP16: block 16, 8-bit shared exponent, sign + 7 bits"},
      {"bfp:B,M,E", FormatId::kBfp, Family::kBfp, ElemKind::kNone, 0, 0, 0,
       "custom block floating point: block B, sign + M bits, E-bit shared exponent"},
  };
  return rows;
}

// Appends the parts (GCC 12 reports a false -Wrestrict for "literal" + std::string chains).
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::string s;
  (s.append(std::string_view(parts)), ...);
  return s;
}

const FormatTraits& custom_bfp_row() {
  return table().back();
}

WeightFormat from_row(const FormatTraits& t) {
  WeightFormat f;
  f.id = t.id;
  f.block = t.block;
  f.mantissa_bits = t.mantissa_bits;
  f.exponent_bits = t.exponent_bits;
  f.name = t.name;
  return f;
}

[[noreturn]] void bad_bfp(std::string_view name, const std::string& why) {
  throw Error(StatusCode::kInvalidArgument,
              cat("bad block floating point format '", name, "': ", why,
                  " (expected bfp:B,M,E with block B a power of two in [",
                  std::to_string(kBfpMinBlock), ", ", std::to_string(kBfpMaxBlock),
                  "], M mantissa bits in [", std::to_string(kBfpMinMantissa), ", ",
                  std::to_string(kBfpMaxMantissa), "], E exponent bits in [",
                  std::to_string(kBfpMinExponent), ", ", std::to_string(kBfpMaxExponent), "])"));
}

WeightFormat parse_bfp(std::string_view name) {
  std::string_view rest = name.substr(4);
  int v[3];
  for (int i = 0; i < 3; ++i) {
    const size_t comma = i < 2 ? rest.find(',') : rest.size();
    if (comma == std::string_view::npos) bad_bfp(name, "needs three comma-separated numbers");
    std::string_view part = rest.substr(0, comma);
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v[i]);
    if (part.empty() || ec != std::errc() || p != part.data() + part.size())
      bad_bfp(name, cat("'", part, "' is not a number"));
    rest = i < 2 ? rest.substr(comma + 1) : std::string_view();
  }
  const int b = v[0], m = v[1], e = v[2];
  if (b < kBfpMinBlock || b > kBfpMaxBlock || (b & (b - 1)) != 0)
    bad_bfp(name, cat("block size ", std::to_string(b), " is not a power of two in range"));
  if (m < kBfpMinMantissa || m > kBfpMaxMantissa)
    bad_bfp(name, cat("mantissa bits ", std::to_string(m), " out of range"));
  if (e < kBfpMinExponent || e > kBfpMaxExponent)
    bad_bfp(name, cat("exponent bits ", std::to_string(e), " out of range"));
  WeightFormat f;
  f.id = FormatId::kBfp;
  f.block = b;
  f.mantissa_bits = m;
  f.exponent_bits = e;
  f.name = std::string(name);
  return f;
}

}  // namespace

Rounding parse_rounding(std::string_view name) {
  if (name == "even") return Rounding::kEven;
  if (name == "nearest") return Rounding::kNearest;
  throw Error(StatusCode::kInvalidArgument,
              cat("unknown rounding '", name,
                  "'; valid: even (round half to even, the default), nearest (round half away "
                  "from zero)"));
}

const char* rounding_name(Rounding r) {
  return r == Rounding::kEven ? "even" : "nearest";
}

Family WeightFormat::family() const {
  return traits(id).family;
}

const std::vector<FormatTraits>& format_table() {
  return table();
}

const FormatTraits& traits(FormatId id) {
  if (id == FormatId::kBfp) return custom_bfp_row();
  return table()[static_cast<size_t>(id)];
}

std::string format_name_list() {
  std::string s;
  for (const FormatTraits& t : table()) {
    if (!s.empty()) s += ", ";
    s += t.name;
  }
  return s;
}

WeightFormat parse_format(std::string_view raw) {
  std::string name(raw);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const FormatTraits& t : table()) {
    if (&t != &custom_bfp_row() && name == t.name) return from_row(t);
  }
  if (name.rfind("bfp:", 0) == 0) return parse_bfp(name);
  throw Error(StatusCode::kInvalidArgument,
              cat("unknown weight format '", raw, "'; valid formats: ", format_name_list()));
}

int storage_elem_bits(const WeightFormat& f) {
  switch (f.id) {
    case FormatId::kFp32: return 32;
    case FormatId::kBf16:
    case FormatId::kFp16: return 16;
    case FormatId::kBfp: return f.mantissa_bits <= 3 ? 4 : 8;
    default: break;
  }
  const ElemKind k = traits(f.id).elem;
  return k == ElemKind::kNone ? 8 : elem_spec(k).code_bits;
}

int storage_block(const WeightFormat& f) {
  const Family fam = f.family();
  return (fam == Family::kMx || fam == Family::kBfp) ? f.block : 16;
}

int storage_block_bytes(const WeightFormat& f) {
  const Family fam = f.family();
  const int header = (fam == Family::kMx || fam == Family::kBfp) ? 1 : 0;
  return header + storage_block(f) * storage_elem_bits(f) / 8;
}

int64_t storage_row_bytes(const WeightFormat& f, int64_t k) {
  const int64_t b = storage_block(f);
  return (k + b - 1) / b * storage_block_bytes(f);
}

double storage_bits_per_weight(const WeightFormat& f, int64_t n, int64_t k) {
  if (n <= 0 || k <= 0) return 0;
  double bytes = double(n) * double(storage_row_bytes(f, k));
  if (f.id == FormatId::kInt8) bytes += 4.0 * double(n);
  return bytes * 8.0 / (double(n) * double(k));
}

double format_bits_per_weight(const WeightFormat& f) {
  switch (f.family()) {
    case Family::kFloat: return f.id == FormatId::kFp32 ? 32 : 16;
    case Family::kInt8Channel: return 8;
    case Family::kMx: return elem_spec(traits(f.id).elem).code_bits + 8.0 / 32.0;
    case Family::kBfp: return 1.0 + f.mantissa_bits + double(f.exponent_bits) / f.block;
  }
  return 32;
}

}  // namespace softdpu::formats
