// The softdpu command as a user meets it: each bad input gives a clear message on stderr and a
// non-zero exit, never a crash; good input gives the expected files and JSON.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "support/cli_runner.h"
#include "support/model_builder.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

using testing::CliResult;
using testing::run_cli;

namespace fs = std::filesystem;
const std::string kMlp = std::string(SOFTDPU_SOURCE_DIR) + "/models/fashion_mlp/1/model.onnx";

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("softdpu_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void write(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
  }
  fs::path dir_;
};

TEST_F(Cli, RunWritesOutputsAndInfoJsonDescribesModel) {
  write_npy(path("x.npy"), testing::random_tensor({1, 1, 28, 28}, 0, 1));
  CliResult r =
      run_cli("run " + kMlp + " --input input=" + path("x.npy") + " --output-dir " + path("out"));
  ASSERT_EQ(r.code, 0) << r.all;
  Tensor y = read_npy(path("out/logits.npy"));
  EXPECT_EQ(y.shape(), (Shape{1, 10}));
  r = run_cli("info " + kMlp + " --json");
  ASSERT_EQ(r.code, 0) << r.all;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["parameters"].get<int64_t>(), 200000);
  EXPECT_GT(j["weight_bytes"].get<int64_t>(), 800000);
  EXPECT_GT(j["arena_bytes"].get<int64_t>(), 0);
}

TEST_F(Cli, BenchJsonHasTheFields) {
  CliResult r = run_cli("bench " + kMlp + " --iterations 20 --warmup 2 --json");
  ASSERT_EQ(r.code, 0) << r.all;
  auto j = nlohmann::json::parse(r.out);
  for (const char* k :
       {"p50_us", "p90_us", "p99_us", "max_us", "throughput_per_s", "peak_rss_bytes"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  EXPECT_LE(j["p50_us"].get<double>(), j["max_us"].get<double>());
}

TEST_F(Cli, TruncatedAndCorruptModels) {
  std::ifstream f(kMlp, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  write("truncated.onnx", bytes.substr(0, bytes.size() / 3));
  CliResult r = run_cli("info " + path("truncated.onnx"));
  EXPECT_EQ(r.code, 1) << r.all;
  EXPECT_NE(r.all.find("truncated.onnx"), std::string::npos) << r.all;
  EXPECT_NE(r.all.find("does not parse"), std::string::npos) << r.all;
  write("corrupt.onnx", std::string(1000, '\x07'));
  r = run_cli("info " + path("corrupt.onnx"));
  EXPECT_EQ(r.code, 1) << r.all;
  EXPECT_NE(r.all.find("error:"), std::string::npos) << r.all;
  r = run_cli("info " + path("missing.onnx"));
  EXPECT_EQ(r.code, 2) << r.all;
}

TEST_F(Cli, UnknownOp) {
  testing::ModelBuilder m;
  m.input("x", DType::kFloat32, {1, 4}).output("y", DType::kFloat32, {1, 4});
  m.node("NotAnOnnxOp", {"x"}, {"y"}, "mystery");
  write("unknown.onnx", m.bytes());
  CliResult r = run_cli("info " + path("unknown.onnx"));
  EXPECT_EQ(r.code, 1) << r.all;
  EXPECT_NE(r.all.find("NotAnOnnxOp"), std::string::npos) << r.all;
  EXPECT_NE(r.all.find("mystery"), std::string::npos) << r.all;
}

TEST_F(Cli, WrongInputNameShapeTypeAndMalformedNpy) {
  write_npy(path("x.npy"), testing::random_tensor({1, 1, 28, 28}, 0, 1));
  CliResult r = run_cli("run " + kMlp + " --input image=" + path("x.npy") + " -o " + path("out"));
  EXPECT_EQ(r.code, 2) << r.all;
  EXPECT_NE(r.all.find("'input'"), std::string::npos) << r.all;

  write_npy(path("bad_shape.npy"), testing::random_tensor({1, 28, 28}, 0, 1));
  r = run_cli("run " + kMlp + " --input input=" + path("bad_shape.npy") + " -o " + path("out"));
  EXPECT_EQ(r.code, 2) << r.all;
  EXPECT_NE(r.all.find("'input'"), std::string::npos) << r.all;
  EXPECT_NE(r.all.find("[1, 28, 28]"), std::string::npos) << r.all;

  write_npy(path("ints.npy"), Tensor(DType::kInt64, {1, 1, 28, 28}));
  r = run_cli("run " + kMlp + " --input input=" + path("ints.npy") + " -o " + path("out"));
  EXPECT_EQ(r.code, 2) << r.all;
  EXPECT_NE(r.all.find("int64"), std::string::npos) << r.all;

  write("broken.npy", "\x93NUMPY\x01\x00garbage");
  r = run_cli("run " + kMlp + " --input input=" + path("broken.npy") + " -o " + path("out"));
  EXPECT_EQ(r.code, 2) << r.all;
  EXPECT_NE(r.all.find("broken.npy"), std::string::npos) << r.all;

  r = run_cli("run " + kMlp + " --input nonsense -o " + path("out"));
  EXPECT_EQ(r.code, 2) << r.all;
  EXPECT_NE(r.all.find("NAME=FILE.npy"), std::string::npos) << r.all;
}

TEST_F(Cli, BadFlags) {
  CliResult r = run_cli("bench " + kMlp + " --batch 0");
  EXPECT_EQ(r.code, 2) << r.all;
  r = run_cli("frobnicate");
  EXPECT_EQ(r.code, 2) << r.all;
}

}  // namespace
}  // namespace softdpu
