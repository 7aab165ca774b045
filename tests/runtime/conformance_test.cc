// The conformance runner: its comparison rule (ONNX's assert_allclose tolerances), and whole runs
// over real ONNX test data that check the bookkeeping, not pass counts (kernels are still landing).
#include "runtime/conformance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "softdpu/status.h"

namespace softdpu::conformance {
namespace {

namespace fs = std::filesystem;

template <typename T>
Tensor make(Shape shape, std::vector<T> values) {
  Tensor t(DTypeOf<T>::value, std::move(shape));
  for (size_t i = 0; i < values.size(); ++i) t.data_as<T>()[i] = values[i];
  return t;
}

Tensor f32(std::vector<float> v) {
  return make<float>({static_cast<int64_t>(v.size())}, v);
}

bool matches(const Tensor& a, const Tensor& e) {
  return compare_tensors("y", a, e).empty();
}

TEST(ConformanceCompare, ToleranceEdges) {
  // Allowed error is atol + rtol * |expected| = 1e-7 + 1e-3 * 1000 = 1.0000001.
  EXPECT_TRUE(matches(f32({1000.5f}), f32({1000.f})));
  EXPECT_TRUE(matches(f32({1001.f}), f32({1000.f})));
  EXPECT_FALSE(matches(f32({1001.01f}), f32({1000.f})));
  // The relative part scales with the expected value, not the actual one.
  EXPECT_TRUE(matches(make<double>({1}, {0.0}), make<double>({1}, {1e-7})));
  EXPECT_FALSE(matches(make<double>({1}, {0.0}), make<double>({1}, {2.1e-7})));
  EXPECT_FALSE(matches(make<double>({1}, {1.0}), make<double>({1}, {0.0})));
  Tolerance loose{0.1, 0.5};
  EXPECT_TRUE(compare_tensors("y", f32({1.5f}), f32({1.f}), loose).empty());
}

TEST(ConformanceCompare, NanAndInfinity) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(matches(f32({nan, inf, -inf}), f32({nan, inf, -inf})));
  EXPECT_FALSE(matches(f32({nan}), f32({0.f})));
  EXPECT_FALSE(matches(f32({0.f}), f32({nan})));
  EXPECT_FALSE(matches(f32({inf}), f32({-inf})));
  EXPECT_FALSE(matches(f32({1e30f}), f32({inf})));
}

TEST(ConformanceCompare, WorstElementIsReported) {
  Tensor expected = make<float>({2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor actual = make<float>({2, 3}, {0, 1.5f, 2, 3, 9, 5});
  EXPECT_EQ(compare_tensors("y", actual, expected),
            "output 'y' [1, 1] got 9 expected 4 (shape [2, 3], 2 of 6 elements differ)");
  // A NaN where a number was expected is worse than any finite error.
  actual.data_as<float>()[2] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(compare_tensors("y", actual, expected).find("[0, 2] got nan expected 2"),
            std::string::npos);
}

TEST(ConformanceCompare, IntegersAndBoolsAreExact) {
  EXPECT_TRUE(matches(make<int64_t>({2}, {5, -7}), make<int64_t>({2}, {5, -7})));
  EXPECT_EQ(compare_tensors("i", make<int64_t>({2}, {5, -6}), make<int64_t>({2}, {5, -7})),
            "output 'i' [1] got -6 expected -7 (shape [2], 1 of 2 elements differ)");
  const uint64_t big = std::numeric_limits<uint64_t>::max();
  EXPECT_FALSE(matches(make<uint64_t>({1}, {big}), make<uint64_t>({1}, {big - 1})));
  EXPECT_EQ(compare_tensors("b", make<bool>({2}, {true, true}), make<bool>({2}, {true, false})),
            "output 'b' [1] got true expected false (shape [2], 1 of 2 elements differ)");
}

TEST(ConformanceCompare, DtypeAndShapeMismatch) {
  EXPECT_EQ(compare_tensors("y", make<double>({1}, {1.0}), f32({1.f})),
            "output 'y' has dtype float64, expected float32");
  EXPECT_EQ(compare_tensors("y", make<float>({1, 2}, {1, 2}), f32({1, 2})),
            "output 'y' has shape [1, 2], expected [2]");
  EXPECT_EQ(compare_tensors("y", make<int32_t>({1}, {1}), make<int64_t>({1}, {1})),
            "output 'y' has dtype int32, expected int64");
  // Empty tensors of equal shape match.
  EXPECT_TRUE(matches(Tensor(DType::kFloat32, {0, 3}), Tensor(DType::kFloat32, {0, 3})));
}

TEST(ConformanceCompare, Float16) {
  Tensor a(DType::kFloat16, {2}), e(DType::kFloat16, {2});
  a.data_as<uint16_t>()[0] = e.data_as<uint16_t>()[0] = 0x3c00;  // 1.0
  a.data_as<uint16_t>()[1] = 0x4000;                             // 2.0
  e.data_as<uint16_t>()[1] = 0x4200;                             // 3.0
  EXPECT_EQ(compare_tensors("h", a, e),
            "output 'h' [1] got 2 expected 3 (shape [2], 1 of 2 elements differ)");
}

TEST(ConformanceCompare, Strings) {
  Tensor a(DType::kString, {2}), e(DType::kString, {2});
  a.data_as<std::string>()[0] = e.data_as<std::string>()[0] = "monday";
  a.data_as<std::string>()[1] = "MONDAY";
  e.data_as<std::string>()[1] = "monday";
  EXPECT_EQ(
      compare_tensors("s", a, e),
      "output 's' [1] got \"MONDAY\" expected \"monday\" (shape [2], 1 of 2 elements differ)");
  a.data_as<std::string>()[1] = "monday";
  EXPECT_TRUE(matches(a, e));
}

TEST(ConformanceSummary, CountsAndFormat) {
  Summary s;
  s.suite = "node";
  s.add({"a", Outcome::kPass, "", {}, 0});
  s.add({"b", Outcome::kFail, "output 'y' ...", {}, 0});
  s.add({"c", Outcome::kError, "load: invalid model: x", {}, 0});
  s.add({"d", Outcome::kUnsupported, "op Foo", {}, 0});
  EXPECT_EQ(s.to_string(), "node: 4 tests, 1 passed, 2 failed (1 errors), 1 unsupported");
  EXPECT_EQ(format_result(s.tests[0]), "PASS a");
  EXPECT_EQ(format_result(s.tests[3]), "UNSUPPORTED d: op Foo");
}

// ---- runs over the installed ONNX test data ---------------------------------------------------

bool have_test_data() {
  return fs::is_directory(std::string(kDefaultDataDir) + "/node");
}

int count_model_dirs(const fs::path& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += fs::exists(e.path() / "model.onnx");
  return n;
}

void expect_consistent(const Summary& s) {
  EXPECT_EQ(s.total, static_cast<int>(s.tests.size()));
  EXPECT_EQ(s.total, s.passed + s.failed + s.unsupported);
  EXPECT_LE(s.errors, s.failed);
  for (const TestResult& r : s.tests) {
    if (r.outcome == Outcome::kPass) {
      EXPECT_TRUE(r.message.empty()) << r.name;
    } else {
      EXPECT_FALSE(r.message.empty()) << r.name;
    }
  }
}

TEST(ConformanceRunner, PytorchOperatorSuiteRunsEveryTest) {
  if (!have_test_data()) GTEST_SKIP() << "libonnx-testdata is not installed";
  RunnerOptions opt;
  int seen = 0;
  Summary s = run_suite("pytorch-operator", opt, [&](const TestResult&) { ++seen; });
  EXPECT_EQ(s.total, count_model_dirs(fs::path(kDefaultDataDir) / "pytorch-operator"));
  EXPECT_EQ(seen, s.total);
  expect_consistent(s);
}

TEST(ConformanceRunner, NodeTestsWithFilter) {
  if (!have_test_data()) GTEST_SKIP() << "libonnx-testdata is not installed";
  RunnerOptions opt;
  // Elementwise, shape-deciding integer inputs (Reshape: kNeedsConstant -> frozen), several
  // outputs, optional inputs (Clip without min/max), string tensors.
  for (const char* filter : {"test_relu", "test_reshape_reordered", "test_split_equal",
                             "test_clip_default", "test_strnorm", "test_gemm_default"}) {
    SCOPED_TRACE(filter);
    opt.filter = filter;
    Summary s = run_suite("node", opt);
    std::vector<std::string> names = list_tests(std::string(kDefaultDataDir) + "/node", filter);
    EXPECT_EQ(s.total, static_cast<int>(names.size()));
    EXPECT_GT(s.total, 0);
    expect_consistent(s);
  }
}

TEST(ConformanceRunner, BrokenTestDirectoriesAreErrorsNotCrashes) {
  const fs::path root = fs::temp_directory_path() / "softdpu_conformance_broken";
  fs::remove_all(root);
  fs::create_directories(root / "suite" / "test_garbage_model" / "test_data_set_0");
  { std::ofstream(root / "suite" / "test_garbage_model" / "model.onnx") << "not a protobuf"; }
  fs::create_directories(root / "suite" / "test_no_model");  // not a test: no model.onnx
  RunnerOptions opt;
  opt.data_dir = root.string();
  Summary s = run_suite("suite", opt);
  ASSERT_EQ(s.total, 1);
  EXPECT_EQ(s.tests[0].name, "test_garbage_model");
  EXPECT_NE(s.tests[0].outcome, Outcome::kPass);
  EXPECT_FALSE(s.tests[0].message.empty());
  EXPECT_THROW(run_suite("no_such_suite", opt), Error);
  fs::remove_all(root);
}

}  // namespace
}  // namespace softdpu::conformance
