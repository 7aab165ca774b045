#include "runtime/conformance.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "onnx/tensor_proto.h"
#include "softdpu/session.h"
#include "softdpu/status.h"

namespace softdpu::conformance {
namespace fs = std::filesystem;

const std::vector<std::string>& all_suites() {
  static const std::vector<std::string> kSuites = {"node", "pytorch-converted", "pytorch-operator",
                                                   "simple"};
  return kSuites;
}

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kPass: return "PASS";
    case Outcome::kFail: return "FAIL";
    case Outcome::kUnsupported: return "UNSUPPORTED";
    case Outcome::kError: return "ERROR";
  }
  return "?";
}

std::string format_result(const TestResult& r) {
  std::string line = std::string(outcome_name(r.outcome)) + " " + r.name;
  if (!r.message.empty()) line += ": " + r.message;
  return line;
}

void Summary::add(TestResult r) {
  ++total;
  switch (r.outcome) {
    case Outcome::kPass: ++passed; break;
    case Outcome::kFail: ++failed; break;
    case Outcome::kError: ++failed, ++errors; break;
    case Outcome::kUnsupported: ++unsupported; break;
  }
  tests.push_back(std::move(r));
}

void Summary::merge(const Summary& other) {
  total += other.total;
  passed += other.passed;
  failed += other.failed;
  errors += other.errors;
  unsupported += other.unsupported;
  tests.insert(tests.end(), other.tests.begin(), other.tests.end());
}

std::string Summary::to_string() const {
  std::ostringstream os;
  os << suite << ": " << total << " tests, " << passed << " passed, " << failed << " failed";
  if (errors) os << " (" << errors << " errors)";
  os << ", " << unsupported << " unsupported";
  return os.str();
}

// ---------------------------------------------------------------------------------------------
// Comparison

namespace {

double half_to_double(uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  double v;
  if (exp == 0) {
    v = std::ldexp(mant, -24);  // subnormal
  } else if (exp == 31) {
    v = mant ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  } else {
    v = std::ldexp(mant + 1024, exp - 25);
  }
  return sign ? -v : v;
}

double bf16_to_double(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

double float_at(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kFloat32: return t.data_as<float>()[i];
    case DType::kFloat64: return t.data_as<double>()[i];
    case DType::kFloat16: return half_to_double(t.data_as<uint16_t>()[i]);
    case DType::kBFloat16: return bf16_to_double(t.data_as<uint16_t>()[i]);
    default: return 0;
  }
}

// Integers widened so that every integer dtype compares exactly (uint64 beyond int64 included).
struct WideInt {
  bool is_unsigned;
  uint64_t u;
  int64_t s;
  bool operator==(const WideInt& o) const { return is_unsigned ? u == o.u : s == o.s; }
  double distance(const WideInt& o) const {
    if (is_unsigned) return u > o.u ? static_cast<double>(u - o.u) : static_cast<double>(o.u - u);
    return std::fabs(static_cast<double>(s) - static_cast<double>(o.s));
  }
  std::string str() const { return is_unsigned ? std::to_string(u) : std::to_string(s); }
};

WideInt int_at(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kInt8: return {false, 0, t.data_as<int8_t>()[i]};
    case DType::kInt16: return {false, 0, t.data_as<int16_t>()[i]};
    case DType::kInt32: return {false, 0, t.data_as<int32_t>()[i]};
    case DType::kInt64: return {false, 0, t.data_as<int64_t>()[i]};
    case DType::kUInt8: return {true, t.data_as<uint8_t>()[i], 0};
    case DType::kUInt16: return {true, t.data_as<uint16_t>()[i], 0};
    case DType::kUInt32: return {true, t.data_as<uint32_t>()[i], 0};
    case DType::kUInt64: return {true, t.data_as<uint64_t>()[i], 0};
    case DType::kBool: return {true, t.data_as<uint8_t>()[i] != 0 ? 1u : 0u, 0};
    default: return {false, 0, 0};
  }
}

std::string index_string(const Shape& shape, int64_t flat) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  return shape_to_string(idx);
}

std::string float_string(double v) {
  std::ostringstream os;
  os.precision(9);
  os << v;
  return os.str();
}

// Strings (plan-time tensors of std::string) must be equal; the first difference is reported.
std::string compare_strings(const std::string& what, const Tensor& actual, const Tensor& expected) {
  const std::string* a = actual.data_as<std::string>();
  const std::string* e = expected.data_as<std::string>();
  int64_t mismatches = 0, first = -1;
  for (int64_t i = 0; i < expected.numel(); ++i) {
    if (a[i] == e[i]) continue;
    if (mismatches++ == 0) first = i;
  }
  if (mismatches == 0) return {};
  return what + " " + index_string(expected.shape(), first) + " got \"" + a[first] +
         "\" expected \"" + e[first] + "\" (shape " + shape_to_string(expected.shape()) + ", " +
         std::to_string(mismatches) + " of " + std::to_string(expected.numel()) +
         " elements differ)";
}

}  // namespace

std::string compare_tensors(const std::string& name, const Tensor& actual, const Tensor& expected,
                            const Tolerance& tol) {
  const std::string what = "output '" + name + "'";
  if (actual.dtype() != expected.dtype()) {
    return what + " has dtype " + dtype_name(actual.dtype()) + ", expected " +
           dtype_name(expected.dtype());
  }
  if (actual.shape() != expected.shape()) {
    return what + " has shape " + shape_to_string(actual.shape()) + ", expected " +
           shape_to_string(expected.shape());
  }
  const int64_t n = expected.numel();
  if (n > 0 && (actual.empty() || expected.empty())) return what + " has no data";
  const DType dt = expected.dtype();
  if (dt == DType::kString) return compare_strings(what, actual, expected);
  const bool is_float = dtype_is_float(dt);
  if (!is_float && !dtype_is_integer(dt) && dt != DType::kBool) {
    return what + " has dtype " + std::string(dtype_name(dt)) + ", which the runner cannot compare";
  }

  int64_t mismatches = 0, worst = -1;
  double worst_excess = -1;  // how far past the tolerance; +inf for NaN/Inf mismatches
  for (int64_t i = 0; i < n; ++i) {
    double excess;
    if (is_float) {
      const double a = float_at(actual, i), e = float_at(expected, i);
      if (a == e || (std::isnan(a) && std::isnan(e))) continue;  // also equal infinities
      if (std::isnan(a) || std::isnan(e) || std::isinf(a) || std::isinf(e)) {
        excess = std::numeric_limits<double>::infinity();
      } else {
        excess = std::fabs(a - e) - (tol.atol + tol.rtol * std::fabs(e));
        if (!(excess > 0)) continue;
      }
    } else {
      const WideInt a = int_at(actual, i), e = int_at(expected, i);
      if (a == e) continue;
      excess = a.distance(e);
    }
    ++mismatches;
    if (excess > worst_excess) worst_excess = excess, worst = i;
  }
  if (mismatches == 0) return {};

  std::string got, want;
  if (is_float) {
    got = float_string(float_at(actual, worst));
    want = float_string(float_at(expected, worst));
  } else if (dt == DType::kBool) {
    got = int_at(actual, worst).u ? "true" : "false";
    want = int_at(expected, worst).u ? "true" : "false";
  } else {
    got = int_at(actual, worst).str();
    want = int_at(expected, worst).str();
  }
  return what + " " + index_string(expected.shape(), worst) + " got " + got + " expected " + want +
         " (shape " + shape_to_string(expected.shape()) + ", " + std::to_string(mismatches) +
         " of " + std::to_string(n) + " elements differ)";
}

// ---------------------------------------------------------------------------------------------
// Running tests

namespace {

// Ends a test early with an outcome; caught in run_test.
struct Stop {
  Outcome outcome;
  std::string message;
};

// A failed Status -> the outcome it stands for. kUnsupported keeps the bare message (it names the
// op or feature); other codes keep their code name, which says which layer gave up.
[[noreturn]] void stop_with(const Status& st, Outcome otherwise, const std::string& context = {}) {
  if (st.code() == StatusCode::kUnsupported) throw Stop{Outcome::kUnsupported, st.message()};
  throw Stop{otherwise, context + st.to_string()};
}

// Files "<prefix><k><suffix>" in dir, ordered by k numerically (input_10 after input_9).
std::vector<fs::path> numbered(const fs::path& dir, const std::string& prefix,
                               const std::string& suffix, bool want_dirs) {
  std::vector<std::pair<long, fs::path>> found;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_directory() != want_dirs || name.size() <= prefix.size() + suffix.size() ||
        name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    const std::string digits =
        name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    const bool is_index =
        !digits.empty() && digits.size() <= 9 &&
        std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    if (!is_index) continue;
    found.emplace_back(std::stol(digits), e.path());
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

std::vector<Tensor> load_pbs(const std::vector<fs::path>& files) {
  std::vector<Tensor> out;
  for (const fs::path& f : files) {
    try {
      out.push_back(onnx_io::load_tensor_pb(f.string()));
    } catch (const Error& e) {
      const std::string msg =
          f.parent_path().filename().string() + "/" + f.filename().string() + ": " + e.what();
      stop_with(Status(e.code(), msg), Outcome::kError);
    }
  }
  return out;
}

// Graph inputs that may go without data: optional-typed ones, and (old IR) inputs that also have
// an initializer, i.e. a default. Read from the model itself, since ValueInfo does not carry it.
std::set<std::string> omittable_inputs(const fs::path& model_path) {
  std::set<std::string> names;
  onnx::ModelProto model;
  std::ifstream f(model_path, std::ios::binary);
  if (!f || !model.ParseFromIstream(&f)) return names;
  for (const auto& in : model.graph().input()) {
    if (in.type().has_optional_type()) names.insert(in.name());
  }
  for (const auto& init : model.graph().initializer()) names.insert(init.name());
  return names;
}

// Value names quoted as "('name')" in a kNeedsConstant message, in order of appearance.
std::vector<std::string> quoted_names(const std::string& message) {
  std::vector<std::string> names;
  for (size_t pos = message.find("('"); pos != std::string::npos;
       pos = message.find("('", pos + 2)) {
    const size_t end = message.find("')", pos + 2);
    if (end == std::string::npos) break;
    names.push_back(message.substr(pos + 2, end - pos - 2));
  }
  return names;
}

// numpy has no bfloat16, so the ONNX test data stores bfloat16 tensors as their uint16 bits. Where
// the model declares bfloat16, the bits are taken as bfloat16 again.
Tensor as_declared(const Tensor& t, DType declared) {
  if (declared != DType::kBFloat16 || t.dtype() != DType::kUInt16) return t;
  Tensor out(DType::kBFloat16, t.shape());
  if (t.nbytes()) std::memcpy(out.data(), t.data(), t.nbytes());
  return out;
}

std::string describe(const Tensor& t) {
  return std::string(dtype_name(t.dtype())) + " " + shape_to_string(t.shape());
}

struct TestContext {
  fs::path dir;
  const RunnerOptions& options;
  Session& session;
  std::vector<ValueInfo> inputs;  // as loaded: plan() with frozen inputs shrinks inputs()
  std::vector<ValueInfo> outputs;
  std::vector<std::string>& notes;
};

// Plans for the data set's shapes. Shape-deciding integer inputs (Reshape's shape, Expand's
// shape, ...) make plan fail with kNeedsConstant; they are then frozen, the message's subject
// first, else every non-float input, and planning is retried.
std::set<std::string> plan_for(TestContext& c, const std::map<std::string, Tensor>& feeds,
                               const std::string& set_name) {
  PlanOptions po;
  po.threads = c.options.threads;
  bool batch_set = false;
  for (const ValueInfo& in : c.inputs) {
    auto it = feeds.find(in.name);
    if (it == feeds.end()) continue;
    po.input_shapes[in.name] = it->second.shape();
    if (!batch_set && !it->second.shape().empty()) {
      po.batch = it->second.shape()[0];
      batch_set = true;
    }
  }
  std::set<std::string> frozen;
  while (true) {
    const Status st = c.session.plan(po);
    if (st.is_ok()) return frozen;
    if (st.code() != StatusCode::kNeedsConstant) stop_with(st, Outcome::kError, "plan: ");

    std::vector<std::string> freeze;
    for (const std::string& name : quoted_names(st.message())) {
      if (feeds.count(name) && !frozen.count(name)) {
        freeze.push_back(name);
        break;
      }
    }
    if (freeze.empty()) {
      for (const auto& [name, t] : feeds) {
        if (!dtype_is_float(t.dtype()) && !frozen.count(name)) freeze.push_back(name);
      }
    }
    if (freeze.empty()) {
      stop_with(st, Outcome::kError, "plan (after freezing the non-float inputs): ");
    }
    for (const std::string& name : freeze) {
      po.frozen_inputs[name] = feeds.at(name);
      po.input_shapes.erase(name);
      frozen.insert(name);
      c.notes.push_back(set_name + ": froze input '" + name + "' (" + describe(feeds.at(name)) +
                        ")");
    }
  }
}

void run_data_set(TestContext& c, const fs::path& set_dir, bool many_sets) {
  const std::string set_name = set_dir.filename().string();
  std::vector<Tensor> in_data = load_pbs(numbered(set_dir, "input_", ".pb", false));
  std::vector<Tensor> out_data = load_pbs(numbered(set_dir, "output_", ".pb", false));

  if (in_data.size() > c.inputs.size()) {
    throw Stop{Outcome::kError, set_name + " has " + std::to_string(in_data.size()) +
                                    " inputs, the model " + std::to_string(c.inputs.size())};
  }
  std::map<std::string, Tensor> feeds;
  for (size_t i = 0; i < in_data.size(); ++i) {
    feeds[c.inputs[i].name] = as_declared(in_data[i], c.inputs[i].dtype);
  }
  if (in_data.size() < c.inputs.size()) {
    const std::set<std::string> omittable = omittable_inputs(c.dir / "model.onnx");
    for (size_t i = in_data.size(); i < c.inputs.size(); ++i) {
      if (!omittable.count(c.inputs[i].name)) {
        throw Stop{Outcome::kError, "input '" + c.inputs[i].name + "' has no data in " + set_name};
      }
    }
  }
  if (out_data.size() != c.outputs.size()) {
    throw Stop{Outcome::kFail, "the model has " + std::to_string(c.outputs.size()) + " outputs, " +
                                   set_name + " " + std::to_string(out_data.size())};
  }

  for (size_t i = 0; i < out_data.size(); ++i) {
    out_data[i] = as_declared(out_data[i], c.outputs[i].dtype);
  }

  const std::set<std::string> frozen = plan_for(c, feeds, set_name);
  for (const std::string& name : frozen) feeds.erase(name);  // frozen inputs are not run inputs

  std::map<std::string, Tensor> results;
  const Status st = c.session.run(feeds, &results);
  if (!st.is_ok()) stop_with(st, Outcome::kFail, "run: ");

  for (size_t i = 0; i < c.outputs.size(); ++i) {
    const std::string& name = c.outputs[i].name;
    auto it = results.find(name);
    if (it == results.end()) throw Stop{Outcome::kFail, "output '" + name + "' was not produced"};
    std::string diff = compare_tensors(name, it->second, out_data[i], c.options.tolerance);
    if (!diff.empty()) {
      if (many_sets) diff += " in " + set_name;
      throw Stop{Outcome::kFail, diff};
    }
  }
  c.notes.push_back(set_name + ": all " + std::to_string(c.outputs.size()) + " output(s) match");
}

void run_test_body(const fs::path& dir, const RunnerOptions& options, TestResult& r) {
  std::unique_ptr<Session> session;
  const Status st = Session::load((dir / "model.onnx").string(), &session);
  if (!st.is_ok()) stop_with(st, Outcome::kError, "load: ");
  if (!session) throw Stop{Outcome::kError, "load: no session"};

  TestContext c{dir, options, *session, session->inputs(), session->outputs(), r.notes};
  const std::vector<fs::path> sets = numbered(dir, "test_data_set_", "", true);
  if (sets.empty()) throw Stop{Outcome::kError, "no test_data_set_* directory"};
  for (const fs::path& set : sets) run_data_set(c, set, sets.size() > 1);
}

}  // namespace

std::vector<std::string> list_tests(const std::string& suite_dir, const std::string& filter) {
  std::error_code ec;
  if (!fs::is_directory(suite_dir, ec)) {
    throw Error(StatusCode::kNotFound, "test suite directory '" + suite_dir + "' does not exist");
  }
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(suite_dir)) {
    const std::string name = e.path().filename().string();
    if (!e.is_directory() || !fs::exists(e.path() / "model.onnx")) continue;
    if (!filter.empty() && name.find(filter) == std::string::npos) continue;
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

TestResult run_test(const std::string& test_dir, const RunnerOptions& options) {
  TestResult r;
  r.name = fs::path(test_dir).filename().string();
  const auto start = std::chrono::steady_clock::now();
  // Everything a test can throw ends as its outcome, so one broken test never stops a suite.
  try {
    run_test_body(test_dir, options, r);
    r.outcome = Outcome::kPass;
  } catch (const Stop& s) {
    r.outcome = s.outcome;
    r.message = s.message;
  } catch (const Error& e) {
    r.outcome = e.code() == StatusCode::kUnsupported ? Outcome::kUnsupported : Outcome::kError;
    r.message = e.code() == StatusCode::kUnsupported ? e.what() : e.status().to_string();
  } catch (const std::exception& e) {
    r.outcome = Outcome::kError;
    r.message = std::string("exception: ") + e.what();
  } catch (...) {
    r.outcome = Outcome::kError;
    r.message = "unknown exception";
  }
  if (r.outcome != Outcome::kPass && r.message.empty()) r.message = "(no message)";
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

Summary run_suite(const std::string& suite, const RunnerOptions& options,
                  const std::function<void(const TestResult&)>& on_result) {
  const fs::path suite_dir = fs::path(options.data_dir) / suite;
  Summary summary;
  summary.suite = suite;
  for (const std::string& name : list_tests(suite_dir.string(), options.filter)) {
    TestResult r = run_test((suite_dir / name).string(), options);
    if (on_result) on_result(r);
    summary.add(std::move(r));
  }
  return summary;
}

}  // namespace softdpu::conformance
