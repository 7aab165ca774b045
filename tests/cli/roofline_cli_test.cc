// `softdpu roofline` and the weight-bandwidth fields it feeds into `softdpu bench --json`, through
// the real command line: the cache file is written where asked, bench reads it back and reports
// the fraction, and a missing cache gives a null fraction with the reason, not an error.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

namespace softdpu {
namespace {

namespace fs = std::filesystem;
const std::string kBin = std::string(SOFTDPU_BINARY_DIR) + "/softdpu";
const std::string kMlp = std::string(SOFTDPU_SOURCE_DIR) + "/models/fashion_mlp/1/model.onnx";
const std::string kLstm = std::string(SOFTDPU_SOURCE_DIR) + "/models/fashion_lstm/1/model.onnx";

struct Result {
  int code;
  std::string out;  // stdout only (stderr goes to the test log)
};

Result sh(const std::string& args) {
  FILE* p = popen((kBin + " " + args).c_str(), "r");
  Result r{-1, ""};
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

class RooflineCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("softdpu_roofline_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& f) const { return (dir_ / f).string(); }
  fs::path dir_;
};

TEST_F(RooflineCli, MeasuresCachesAndBenchReadsIt) {
  const std::string cache = path("sub/roofline.json");
  Result r = sh("roofline --threads 1 --trials 1 --seconds 0.001 --json --output " + cache);
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(fs::exists(cache));
  std::set<std::string> levels;
  for (const auto& b : j["bandwidth"]) {
    levels.insert(b["level"].get<std::string>());
    EXPECT_GT(b["gb_per_s"].get<double>(), 0) << b.dump();
  }
  EXPECT_EQ(levels, (std::set<std::string>{"L1", "L2", "L3", "DRAM"}));
  ASSERT_EQ(j["compute"].size(), 1u);
  EXPECT_GT(j["compute"][0]["fp32_gflops"].get<double>(), 0);
  EXPECT_GT(j["compute"][0]["int8_gops"].get<double>(), 0);

  // The MLP reads each weight once: 235,146 float parameters (models/README.md), plus the two
  // scalar normalisation constants.
  r = sh("bench " + kMlp + " --iterations 20 --warmup 2 --json --roofline " + cache);
  ASSERT_EQ(r.code, 0) << r.out;
  auto b = nlohmann::json::parse(r.out);
  EXPECT_EQ(b["weight_bytes_per_inference"].get<int64_t>(), 235146 * 4 + 2 * 4);
  EXPECT_GT(b["achieved_gb_per_s"].get<double>(), 0);
  EXPECT_TRUE(b["bandwidth_fraction"].is_number()) << b.dump();
  EXPECT_TRUE(b["level_gb_per_s"].is_number());

  // The LSTM re-reads its recurrent weights (4*128 x 128 floats) at each of its 28 steps.
  r = sh("bench " + kLstm + " --iterations 5 --warmup 1 --json --roofline " + cache);
  ASSERT_EQ(r.code, 0) << r.out;
  b = nlohmann::json::parse(r.out);
  EXPECT_EQ(b["weight_bytes_per_inference"].get<int64_t>() - b["weight_bytes"].get<int64_t>(),
            int64_t{27} * 4 * 128 * 128 * 4);
}

TEST_F(RooflineCli, BenchWithoutRooflineSaysWhy) {
  Result r =
      sh("bench " + kMlp + " --iterations 5 --warmup 1 --json --roofline " + path("none.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  auto b = nlohmann::json::parse(r.out);
  EXPECT_TRUE(b["bandwidth_fraction"].is_null());
  EXPECT_NE(b["roofline_note"].get<std::string>().find("none.json"), std::string::npos);
}

}  // namespace
}  // namespace softdpu
