// `softdpu quantize` as a user runs it: reproduces the microxcaling reference vectors bit for bit
// for the six MX formats and both roundings (the must-show), and refuses bad input with
// a clear message and exit code 2.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "core/npy.h"
#include "support/cli_runner.h"

namespace softdpu {
namespace {

using testing::CliResult;
using testing::run_cli;

namespace fs = std::filesystem;
const std::string kData = std::string(SOFTDPU_SOURCE_DIR) + "/tests/data/mx-reference";

class FormatsQuantizeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("softdpu_quantize_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(FormatsQuantizeCli, ReproducesTheMxReferenceBitForBit) {
  const char* const files[][2] = {{"int8", "mxint8"},         {"fp8_e4m3", "mxfp8_e4m3"},
                                  {"fp8_e5m2", "mxfp8_e5m2"}, {"fp6_e3m2", "mxfp6_e3m2"},
                                  {"fp6_e2m3", "mxfp6_e2m3"}, {"fp4_e2m1", "mxfp4_e2m1"}};
  for (const auto& f : files) {
    for (const char* rounding : {"even", "nearest"}) {
      const std::string out = path(std::string(f[1]) + "_" + rounding + ".npy");
      const CliResult r = run_cli(std::string("quantize --format ") + f[1] + " --rounding " +
                                  rounding + " " + kData + "/input.npy " + out);
      ASSERT_EQ(r.code, 0) << r.all;
      const Tensor got = read_npy(out);
      const Tensor want = read_npy(kData + "/" + f[0] + "_" + rounding + ".npy");
      ASSERT_EQ(got.shape(), want.shape());
      ASSERT_EQ(got.dtype(), DType::kFloat32);
      EXPECT_EQ(std::memcmp(got.data(), want.data(), want.nbytes()), 0) << f[1] << " " << rounding;
    }
  }
}

TEST_F(FormatsQuantizeCli, PadsTheLastBlockAndTakesAnyRank) {
  Tensor t(DType::kFloat32, {2, 3, 37});
  for (int64_t i = 0; i < t.numel(); ++i) t.data_as<float>()[i] = float(i % 11) - 5.f;
  write_npy(path("in.npy"), t);
  const CliResult r = run_cli("quantize --format msfp12 " + path("in.npy") + " " + path("out.npy"));
  ASSERT_EQ(r.code, 0) << r.all;
  EXPECT_NE(r.all.find("zero padded"), std::string::npos) << r.all;
  EXPECT_EQ(read_npy(path("out.npy")).shape(), t.shape());
}

TEST_F(FormatsQuantizeCli, BadInputIsAClearErrorWithExitCode2) {
  write_npy(path("f.npy"), Tensor(DType::kFloat32, {4, 32}));
  write_npy(path("i.npy"), Tensor(DType::kInt64, {4, 32}));
  CliResult r = run_cli("quantize --format mxfp5 " + path("f.npy") + " " + path("o.npy"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.all.find("unknown weight format 'mxfp5'; valid formats: fp32"), std::string::npos)
      << r.all;
  r = run_cli("quantize --format bfp:12,3,8 " + path("f.npy") + " " + path("o.npy"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.all.find("block size 12"), std::string::npos) << r.all;
  r = run_cli("quantize --format mxint8 " + path("i.npy") + " " + path("o.npy"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.all.find("int64"), std::string::npos) << r.all;
  EXPECT_NE(r.all.find("float32"), std::string::npos) << r.all;
  r = run_cli("quantize --format mxint8 --rounding up " + path("f.npy") + " " + path("o.npy"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.all.find("unknown rounding 'up'"), std::string::npos) << r.all;
  r = run_cli("quantize --format mxint8 " + path("missing.npy") + " " + path("o.npy"));
  EXPECT_EQ(r.code, 2);
  EXPECT_FALSE(fs::exists(path("o.npy")));
}

}  // namespace
}  // namespace softdpu
