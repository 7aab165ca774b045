// The MX quantiser against Microsoft's microxcaling library: tests/data/mx-reference holds
// input.npy and the dequantised output of mx.mx_ops.quantize_mx_op for the six MX element formats
// and both roundings (copied from ../shared/testdata/mx-reference, see its README). Every value
// must match bit for bit, through quantize_dequantize (what `softdpu quantize` runs) and, as
// values, through the packed storage (encode + decode of the same blocks).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/npy.h"
#include "formats/format.h"
#include "formats/packed.h"
#include "formats/quantize.h"

namespace softdpu::formats {
namespace {

namespace fs = std::filesystem;

// The copy inside the repository, so CI never depends on a directory beside it.
std::string data_dir() {
  return std::string(SOFTDPU_SOURCE_DIR) + "/tests/data/mx-reference";
}

uint32_t bits(float v) {
  uint32_t b;
  std::memcpy(&b, &v, 4);
  return b;
}

struct Case {
  const char* file;  // microxcaling's element format name
  const char* format;
  Rounding rounding;
};

const Case kCases[] = {
    {"int8", "mxint8", Rounding::kEven},         {"int8", "mxint8", Rounding::kNearest},
    {"fp8_e4m3", "mxfp8_e4m3", Rounding::kEven}, {"fp8_e4m3", "mxfp8_e4m3", Rounding::kNearest},
    {"fp8_e5m2", "mxfp8_e5m2", Rounding::kEven}, {"fp8_e5m2", "mxfp8_e5m2", Rounding::kNearest},
    {"fp6_e3m2", "mxfp6_e3m2", Rounding::kEven}, {"fp6_e3m2", "mxfp6_e3m2", Rounding::kNearest},
    {"fp6_e2m3", "mxfp6_e2m3", Rounding::kEven}, {"fp6_e2m3", "mxfp6_e2m3", Rounding::kNearest},
    {"fp4_e2m1", "mxfp4_e2m1", Rounding::kEven}, {"fp4_e2m1", "mxfp4_e2m1", Rounding::kNearest},
};

class FormatsMxReference : public ::testing::TestWithParam<Case> {};

TEST_P(FormatsMxReference, QuantizeDequantizeIsBitExact) {
  const Case& c = GetParam();
  const Tensor in = read_npy(data_dir() + "/input.npy");
  const Tensor want =
      read_npy(data_dir() + "/" + c.file + "_" + rounding_name(c.rounding) + ".npy");
  ASSERT_EQ(in.dtype(), DType::kFloat32);
  ASSERT_EQ(in.shape(), (Shape{32, 256}));
  ASSERT_EQ(want.shape(), in.shape());
  const int64_t rows = in.shape()[0], cols = in.shape()[1];
  std::vector<float> got(in.numel());
  const WeightFormat f = parse_format(c.format);
  quantize_dequantize(in.data_as<float>(), rows, cols, f, c.rounding, got.data());
  int mismatches = 0;
  for (int64_t i = 0; i < in.numel(); ++i) {
    const float w = want.data_as<float>()[i];
    if (bits(got[i]) != bits(w) && ++mismatches <= 8) {
      ADD_FAILURE() << c.format << " " << rounding_name(c.rounding) << " [" << i / cols << ", "
                    << i % cols << "] input " << in.data_as<float>()[i] << ": got " << got[i]
                    << " (0x" << std::hex << bits(got[i]) << "), want " << w << " (0x" << bits(w)
                    << ")" << std::dec;
    }
  }
  EXPECT_EQ(mismatches, 0);

  // The packed codes hold the same values (-0 and +0 compare equal: MXINT8 has no -0 code).
  const PackedMatrix p = PackedMatrix::pack(in.data_as<float>(), rows, cols, cols, f, c.rounding);
  const std::vector<float> dec = p.decode();
  int pack_mismatches = 0;
  for (int64_t i = 0; i < in.numel(); ++i) {
    if (dec[i] != want.data_as<float>()[i] && ++pack_mismatches <= 8)
      ADD_FAILURE() << "packed " << c.format << " [" << i / cols << ", " << i % cols << "]: got "
                    << dec[i] << ", want " << want.data_as<float>()[i];
  }
  EXPECT_EQ(pack_mismatches, 0);
}

INSTANTIATE_TEST_SUITE_P(Formats, FormatsMxReference, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.format) + "_" +
                                  rounding_name(info.param.rounding);
                         });

// The in-repository copy is the shared reference data, byte for byte (checked when the shared
// directory is there, as on developer machines).
TEST(FormatsMxReferenceData, CopyMatchesSharedData) {
  const fs::path shared =
      fs::path(SOFTDPU_SOURCE_DIR) / ".." / "shared" / "testdata" / "mx-reference";
  if (!fs::exists(shared)) GTEST_SKIP() << "no " << shared << " beside the repository";
  auto slurp = [](const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  };
  int files = 0;
  for (const auto& entry : fs::directory_iterator(shared)) {
    if (entry.path().extension() != ".npy") continue;
    ++files;
    EXPECT_EQ(slurp(entry.path()), slurp(fs::path(data_dir()) / entry.path().filename()))
        << entry.path().filename();
  }
  EXPECT_EQ(files, 13);
}

}  // namespace
}  // namespace softdpu::formats
