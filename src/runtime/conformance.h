// The ONNX backend conformance runner behind `softdpu conformance`: runs the test directories of
// the ONNX test data (Debian libonnx-testdata: <suite>/<test>/model.onnx + test_data_set_*/
// {input,output}_*.pb) through Session and compares with ONNX's own tolerances. The expected
// outputs come from the ONNX reference implementation, never from softdpu.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "softdpu/tensor.h"

namespace softdpu::conformance {

// Where Debian installs the test data.
inline constexpr const char* kDefaultDataDir = "/usr/share/libonnx-testdata/data";

// The suites `--suite all` covers ('real' only has download links, no models).
const std::vector<std::string>& all_suites();

enum class Outcome {
  kPass,
  kFail,         // ran, but an output is wrong, or running stopped with an error
  kUnsupported,  // softdpu reported kUnsupported (an op, attribute or dtype it does not implement)
  kError,        // loading, reading the test data or planning failed for another reason
};
const char* outcome_name(Outcome o);  // "PASS", "FAIL", "UNSUPPORTED", "ERROR"

struct TestResult {
  std::string name;  // the test directory name ("test_abs"), prefixed "suite/" under `all`
  Outcome outcome = Outcome::kPass;
  std::string message;             // empty for kPass
  std::vector<std::string> notes;  // details for --verbose (frozen inputs, data sets run)
  double seconds = 0;
};

// One result line as printed: "PASS test_abs", "FAIL test_x: output 'y' ...".
std::string format_result(const TestResult& r);

struct Summary {
  std::string suite;
  int total = 0;
  int passed = 0;
  int failed = 0;  // kFail and kError: both make the exit code 1
  int errors = 0;  // the kError part of `failed`
  int unsupported = 0;
  std::vector<TestResult> tests;

  void add(TestResult r);
  void merge(const Summary& other);
  // "node: 932 tests, 400 passed, 100 failed (12 errors), 432 unsupported"
  std::string to_string() const;
};

// ONNX's backend test tolerance (numpy.testing.assert_allclose): a float element matches when
// |actual - expected| <= atol + rtol * |expected|; NaN matches NaN; equal infinities match.
// Integers, bools and strings must be equal.
struct Tolerance {
  double rtol = 1e-3;
  double atol = 1e-7;
};

// Compares one output. Returns "" when it matches, else why not: a dtype or shape mismatch, or the
// worst element as "output 'y' [1, 2] got 0.5 expected 0.25 (shape [2, 3], 3 of 6 differ)".
std::string compare_tensors(const std::string& output_name, const Tensor& actual,
                            const Tensor& expected, const Tolerance& tol = {});

struct RunnerOptions {
  std::string data_dir = kDefaultDataDir;
  std::string filter;  // only test names containing this substring
  int threads = 1;
  Tolerance tolerance;
};

// Sorted names of the test directories of a suite that contain a model.onnx and match the filter.
// Throws Error(kNotFound) when the suite directory does not exist.
std::vector<std::string> list_tests(const std::string& suite_dir, const std::string& filter = {});

// Runs one test directory. Never throws: every failure becomes the result's outcome.
TestResult run_test(const std::string& test_dir, const RunnerOptions& options);

// Runs every (filtered) test of a suite; on_result is called after each test, for streaming output.
// Throws Error(kNotFound) when the suite directory does not exist.
Summary run_suite(const std::string& suite, const RunnerOptions& options,
                  const std::function<void(const TestResult&)>& on_result = {});

}  // namespace softdpu::conformance
