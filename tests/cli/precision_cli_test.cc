// The precision flags of run, bench and info (src/cli/common.cc) through the real command line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/cli_runner.h"

namespace softdpu {
namespace {

using testing::CliResult;
using testing::run_cli;

const std::string kMlp = std::string(SOFTDPU_SOURCE_DIR) + "/models/fashion_mlp/1/model.onnx";

const std::string kInput =
    std::string(SOFTDPU_SOURCE_DIR) + "/tests/data/models/fashion_mlp/input.npy";

TEST(PrecisionCli, InfoJsonReportsFormatsAndBytes) {
  CliResult r = run_cli("info " + kMlp + " --json --precision mxint8 --keep-fp32 first,last");
  ASSERT_EQ(r.code, 0) << r.all;
  const auto j = nlohmann::json::parse(r.out);
  const auto& layers = j.at("layer_formats");
  ASSERT_EQ(layers.size(), 3u) << r.out;
  EXPECT_EQ(layers.at("/net/net.1/Gemm"), "fp32");
  EXPECT_EQ(layers.at("/net/net.3/Gemm"), "mxint8");
  EXPECT_EQ(layers.at("/net/net.5/Gemm"), "fp32");
  const auto& by = j.at("weight_bytes_by_format");
  // net.3 is 128 x 256: 128 rows of 8 MXINT8 blocks of 33 bytes.
  EXPECT_EQ(by.at("mxint8").get<size_t>(), 128u * 8 * 33);
  EXPECT_EQ(by.at("fp32").get<size_t>() + by.at("mxint8").get<size_t>(),
            j.at("weight_bytes").get<size_t>());
}

TEST(PrecisionCli, FlagsOnRunAndBench) {
  CliResult r =
      run_cli("bench " + kMlp +
              " --json --iterations 3 --warmup 1 --precision mxfp4_e2m1 --layer-precision "
              "/net/net.5/Gemm=mxint8");
  ASSERT_EQ(r.code, 0) << r.all;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("precision"), "mxfp4_e2m1");
  EXPECT_TRUE(j.at("weight_bytes_by_format").contains("mxint8")) << r.out;
  EXPECT_TRUE(j.at("weight_bytes_by_format").contains("mxfp4_e2m1")) << r.out;
}

TEST(PrecisionCli, BadNamesExitTwoNamingThem) {
  CliResult r = run_cli("info " + kMlp + " --precision mxint9");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.all.find("'mxint9'"), std::string::npos) << r.all;
  EXPECT_NE(r.all.find("mxfp4_e2m1"), std::string::npos) << r.all;
  r = run_cli("run " + kMlp + " --input input=" + kInput + " --layer-precision nosuch=mxint8");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.all.find("'nosuch'"), std::string::npos) << r.all;
  r = run_cli("bench " + kMlp + " --layer-precision nosuch=mxint8");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.all.find("'nosuch'"), std::string::npos) << r.all;
  EXPECT_NE(r.all.find("/net/net.3/Gemm"), std::string::npos) << r.all;
  r = run_cli("info " + kMlp + " --layer-precision missing-equals");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.all.find("NODE=FORMAT"), std::string::npos) << r.all;
  r = run_cli("info " + kMlp + " --keep-fp32 first,ghost");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.all.find("'ghost'"), std::string::npos) << r.all;
}

}  // namespace
}  // namespace softdpu
