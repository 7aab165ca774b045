// The compression flags of run, bench and info (src/cli/common.cc) through the real command line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/cli_runner.h"

namespace softdpu {
namespace {

using testing::CliResult;
using testing::run_cli;

const std::string kMlp = std::string(SOFTDPU_SOURCE_DIR) + "/models/fashion_mlp/1/model.onnx";

TEST(CompressionCli, InfoJsonNamesFormatsAndErrors) {
  CliResult r =
      run_cli("info " + kMlp + " --json --circulant 16 --circulant-layers /net/net.1/Gemm " +
              "--prune 0.2 --codebook-bits 4");
  ASSERT_EQ(r.code, 0) << r.all;
  const auto j = nlohmann::json::parse(r.out);
  const auto& layers = j.at("layer_formats");
  EXPECT_EQ(layers.at("/net/net.1/Gemm"), "circulant-b16");
  EXPECT_EQ(layers.at("/net/net.3/Gemm"), "sparse-cb4");
  EXPECT_EQ(layers.at("/net/net.5/Gemm"), "sparse-cb4");
  const auto& err = j.at("layer_compression_error");
  ASSERT_EQ(err.size(), 3u) << r.out;
  for (const auto& [node, e] : err.items()) {
    EXPECT_GT(e.get<double>(), 0.0) << node;
    EXPECT_LT(e.get<double>(), 1.0) << node;
  }
  // net.1 is 256 x 784: 16 x 49 blocks of 16 floats.
  EXPECT_EQ(j.at("weight_bytes_by_format").at("circulant-b16"), 16 * 49 * 16 * 4);
}

TEST(CompressionCli, TextInfoPrintsProjectionErrors) {
  CliResult r = run_cli("info " + kMlp + " --circulant 8");
  ASSERT_EQ(r.code, 0) << r.all;
  EXPECT_NE(r.out.find("/net/net.1/Gemm circulant-b8 (relative Frobenius error 0."),
            std::string::npos)
      << r.out;
}

TEST(CompressionCli, BadValuesExitWithCode2) {
  for (const std::string& flags :
       {std::string("--circulant 3"), std::string("--circulant 0"), std::string("--prune 0"),
        std::string("--prune 2"), std::string("--prune 0.5 --codebook-bits 9"),
        std::string("--circulant 16 --circulant-layers /net/net.5/Gemm")}) {
    CliResult r = run_cli("info " + kMlp + " " + flags);
    EXPECT_EQ(r.code, 2) << flags << ": " << r.all;
    EXPECT_NE(r.all.find("error: "), std::string::npos) << flags << ": " << r.all;
  }
  CliResult r = run_cli("run " + kMlp + " --circulant 12");
  EXPECT_EQ(r.code, 2) << r.all;
  EXPECT_NE(r.all.find("power of two"), std::string::npos) << r.all;
}

}  // namespace
}  // namespace softdpu
