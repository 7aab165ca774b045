// `softdpu roofline` and the weight-bandwidth fields it feeds into `softdpu bench --json`, through
// the real command line: the cache file is written where asked, bench reads it back and reports
// the fraction, and a missing cache gives a null fraction with the reason, not an error.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "support/cli_runner.h"

namespace softdpu {
namespace {

using testing::CliResult;
using testing::run_cli;

namespace fs = std::filesystem;
const std::string kMlp = std::string(SOFTDPU_SOURCE_DIR) + "/models/fashion_mlp/1/model.onnx";
const std::string kLstm = std::string(SOFTDPU_SOURCE_DIR) + "/models/fashion_lstm/1/model.onnx";

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
  CliResult r = run_cli("roofline --threads 1 --trials 1 --seconds 0.001 --json --output " + cache);
  ASSERT_EQ(r.code, 0) << r.all;
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
  r = run_cli("bench " + kMlp + " --iterations 20 --warmup 2 --json --roofline " + cache);
  ASSERT_EQ(r.code, 0) << r.all;
  auto b = nlohmann::json::parse(r.out);
  EXPECT_EQ(b["weight_bytes_per_inference"].get<int64_t>(), 235146 * 4 + 2 * 4);
  EXPECT_GT(b["achieved_gb_per_s"].get<double>(), 0);
  EXPECT_TRUE(b["bandwidth_fraction"].is_number()) << b.dump();
  EXPECT_TRUE(b["level_gb_per_s"].is_number());

  // Where sysfs and CPUID don't know the L3 (some VMs), roofline measures it from a sweep, and
  // bench files weights against that measured size.
  const auto& caches = j["caches"];
  const std::string l3_source = caches["l3_source"].get<std::string>();
  EXPECT_TRUE(std::set<std::string>({"sysfs", "cpuid", "measured", "default"}).count(l3_source))
      << l3_source;
  EXPECT_EQ(caches["l3_sweep"].empty(), l3_source == "sysfs" || l3_source == "cpuid")
      << caches.dump();
  if (l3_source == "measured") {
    EXPECT_GT(caches["l3_bytes"].get<size_t>(), caches["l2_bytes"].get<size_t>());
    EXPECT_EQ(b["l3_source"], "measured");
    EXPECT_EQ(b["l3_bytes"], caches["l3_bytes"]);
  }

  // The LSTM re-reads its recurrent weights (4*128 x 128 floats) at each of its 28 steps.
  r = run_cli("bench " + kLstm + " --iterations 5 --warmup 1 --json --roofline " + cache);
  ASSERT_EQ(r.code, 0) << r.all;
  b = nlohmann::json::parse(r.out);
  EXPECT_EQ(b["weight_bytes_per_inference"].get<int64_t>() - b["weight_bytes"].get<int64_t>(),
            int64_t{27} * 4 * 128 * 128 * 4);
}

// At 1 thread bench also compares with the read sweep at the weight working set, interpolated
// in log(size): a roofline file with a synthetic two-point sweep around the MLP's 0.9 MiB.
TEST_F(RooflineCli, BenchComparesWithTheSweepAtTheWorkingSet) {
  const std::string cache = path("roofline.json");
  CliResult r = run_cli("roofline --threads 1 --trials 1 --seconds 0.001 --json --output " + cache);
  ASSERT_EQ(r.code, 0) << r.all;
  const nlohmann::json measured = nlohmann::json::parse(r.out);
  // bench's JSON against the measured roofline with the sweep replaced by two points.
  auto bench = [&](int64_t s0, int64_t s1, int threads) {
    nlohmann::json j = measured;
    j["caches"]["l3_sweep"] =
        nlohmann::json::array({{{"working_set_bytes", s0}, {"gb_per_s", 100.0}},
                               {{"working_set_bytes", s1}, {"gb_per_s", 50.0}}});
    std::ofstream(cache) << j.dump();
    CliResult out = run_cli("bench " + kMlp + " --iterations 5 --warmup 1 --json --threads " +
                            std::to_string(threads) + " --roofline " + cache);
    EXPECT_EQ(out.code, 0) << out.all;
    return nlohmann::json::parse(out.out);
  };
  nlohmann::json b = bench(1 << 19, 1 << 21, 1);
  const double ws = b["weight_working_set_bytes"].get<double>();
  ASSERT_GT(ws, 1 << 19);
  ASSERT_LT(ws, 1 << 21);
  const double want = 100.0 - 50.0 * std::log(ws / (1 << 19)) / std::log(4.0);
  EXPECT_NEAR(b["sweep_gb_per_s_at_working_set"].get<double>(), want, 1e-9) << b.dump();
  EXPECT_NEAR(b["sweep_fraction"].get<double>(), b["achieved_gb_per_s"].get<double>() / want, 1e-9);

  // Outside the sweep, or at 2 threads (the sweep is a 1-thread one), there is no such figure.
  for (const nlohmann::json& o : {bench(1 << 21, 1 << 22, 1), bench(1 << 19, 1 << 21, 2)}) {
    EXPECT_FALSE(o.contains("sweep_fraction")) << o.dump();
    EXPECT_TRUE(o["bandwidth_fraction"].is_number());
  }
}

TEST_F(RooflineCli, BenchWithoutRooflineSaysWhy) {
  CliResult r = run_cli("bench " + kMlp + " --iterations 5 --warmup 1 --json --roofline " +
                        path("none.json"));
  ASSERT_EQ(r.code, 0) << r.all;
  auto b = nlohmann::json::parse(r.out);
  EXPECT_TRUE(b["bandwidth_fraction"].is_null());
  EXPECT_NE(b["roofline_note"].get<std::string>().find("none.json"), std::string::npos);
}

}  // namespace
}  // namespace softdpu
