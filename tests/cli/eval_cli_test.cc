// softdpu eval and --precision auto through the real command line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/cli_runner.h"

namespace softdpu {
namespace {

using testing::CliResult;
using testing::run_cli;

const std::string kMlp = std::string(SOFTDPU_SOURCE_DIR) + "/models/fashion_mlp/1/model.onnx";

bool have_fashion_mnist() {
  return std::filesystem::exists("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
}

TEST(EvalCli, JsonFieldsAndPlot) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const std::string svg = (std::filesystem::temp_directory_path() / "softdpu_eval.svg").string();
  std::filesystem::remove(svg);
  CliResult r = run_cli("eval " + kMlp +
                        " --limit 300 --precision fp32,mxint8,mxfp4_e2m1 --json --plot " + svg);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 3u);
  for (const auto& row : j) {
    for (const char* key : {"precision", "top1", "agreement", "kl", "weight_bytes"})
      EXPECT_TRUE(row.contains(key)) << key;
  }
  EXPECT_EQ(j[0].at("precision"), "fp32");
  EXPECT_DOUBLE_EQ(j[0].at("agreement").get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(j[0].at("kl").get<double>(), 0.0);
  // Narrower formats store fewer weight bytes.
  EXPECT_GT(j[0].at("weight_bytes").get<size_t>(), j[1].at("weight_bytes").get<size_t>());
  EXPECT_GT(j[1].at("weight_bytes").get<size_t>(), j[2].at("weight_bytes").get<size_t>());
  EXPECT_GT(j[2].at("kl").get<double>(), 0.0);
  ASSERT_TRUE(std::filesystem::exists(svg));
  std::ifstream f(svg);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_NE(ss.str().find("fashion_mlp"), std::string::npos);
}

TEST(EvalCli, BadInputsAreClearErrors) {
  CliResult r = run_cli("eval " + kMlp + " --precision mxint9 --limit 10");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("mxint9"), std::string::npos) << r.err;
  r = run_cli("eval " + kMlp + " --dataset /nonexistent/dir --precision fp32");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("/nonexistent/dir"), std::string::npos) << r.err;
  r = run_cli("run " + kMlp + " --precision auto");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--budget"), std::string::npos) << r.err;
}

// eval takes run / bench's compression flags: the plan it measures is compressed (formats and
// weight bytes say so) and the row is labelled with the flags.
TEST(EvalCli, CompressionFlags) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  CliResult r = run_cli("eval " + kMlp + " --limit 200 --precision fp32 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const size_t dense_bytes = nlohmann::json::parse(r.out)[0].at("weight_bytes").get<size_t>();
  r = run_cli("eval " + kMlp + " --limit 200 --precision fp32 --json --circulant 8");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0].at("precision"), "fp32+circ8");
  EXPECT_EQ(j[0].at("layer_formats").at("/net/net.1/Gemm"), "circulant-b8");
  EXPECT_LT(j[0].at("weight_bytes").get<size_t>(), dense_bytes / 4);
  r = run_cli("eval " + kMlp +
              " --limit 200 --precision fp32 --json --prune 0.15 --codebook-bits 4");
  ASSERT_EQ(r.code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j[0].at("precision"), "fp32+prune0.15-cb4");
  EXPECT_EQ(j[0].at("layer_formats").at("/net/net.3/Gemm"), "sparse-cb4");
  r = run_cli("eval " + kMlp + " --limit 10 --precision fp32 --circulant 6");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("6"), std::string::npos) << r.err;
}

TEST(EvalCli, AutoPrecisionPrintsItsTable) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  CliResult r =
      run_cli("info " + kMlp + " --json --precision auto --budget 0.5 --calibration-samples 300");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("precision auto"), std::string::npos) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& layers = j.at("layer_formats");
  ASSERT_EQ(layers.size(), 3u);
  // Each layer the table prints is what the plan then used.
  for (auto it = layers.begin(); it != layers.end(); ++it) {
    EXPECT_NE(r.err.find(it.key()), std::string::npos) << it.key();
  }
}

TEST(CompileCli, EveryCommandTakesTheCompiledFile) {
  const std::string out = (std::filesystem::temp_directory_path() / "softdpu_cli.sdpu").string();
  CliResult r = run_cli("compile " + kMlp + " --precision mxfp6_e2m3 --keep-fp32 last -o " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_cli("info " + out + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("layer_formats").at("/net/net.1/Gemm"), "mxfp6_e2m3");
  EXPECT_EQ(j.at("layer_formats").at("/net/net.5/Gemm"), "fp32");
  r = run_cli("bench " + out + " --json --iterations 3 --warmup 1");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("precision"), "compiled");
  const std::string input =
      std::string(SOFTDPU_SOURCE_DIR) + "/tests/data/models/fashion_mlp/input.npy";
  r = run_cli("run " + out + " --input input=" + input + " -o " +
              std::filesystem::temp_directory_path().string());
  EXPECT_EQ(r.code, 0) << r.err;
  if (have_fashion_mnist()) {
    r = run_cli("eval " + out + " --limit 300 --json");
    ASSERT_EQ(r.code, 0) << r.err;
    const auto rows = nlohmann::json::parse(r.out);
    ASSERT_EQ(rows.size(), 2u);  // fp32 (the true reference) and the compiled precision
    EXPECT_EQ(rows[0].at("precision"), "fp32");
    EXPECT_EQ(rows[0].at("layer_formats").at("/net/net.1/Gemm"), "fp32");
    EXPECT_EQ(rows[1].at("precision"), "compiled");
    EXPECT_EQ(rows[1].at("layer_formats").at("/net/net.1/Gemm"), "mxfp6_e2m3");
    EXPECT_LT(rows[1].at("weight_bytes").get<size_t>(), rows[0].at("weight_bytes").get<size_t>());
  }
  // A damaged file is refused with the reason.
  std::string bytes;
  {
    std::ifstream f(out, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    bytes = ss.str();
  }
  bytes[bytes.size() - 200] ^= 1;
  std::ofstream(out, std::ios::binary | std::ios::trunc) << bytes;
  r = run_cli("info " + out);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("checksum"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace softdpu
