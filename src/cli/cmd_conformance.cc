// softdpu conformance: runs the ONNX backend test data through softdpu (see runtime/conformance.h).
// Exit code 0 when no test failed (unsupported is not a failure), 1 otherwise, 2 on bad usage.
// With --min-passed / --min-pass-rate the command is a gate instead: exit 0 when enough passed.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "runtime/conformance.h"
#include "softdpu/status.h"

namespace softdpu::cli {
namespace {

struct ConformanceArgs {
  std::string suite = "node";
  conformance::RunnerOptions runner;
  bool json = false;
  bool verbose = false;
  int64_t min_passed = -1;
  double min_pass_rate = -1;
};

std::vector<std::string> split_suites(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

nlohmann::json counts_json(const conformance::Summary& s) {
  return {{"suite", s.suite},   {"total", s.total},   {"passed", s.passed},
          {"failed", s.failed}, {"errors", s.errors}, {"unsupported", s.unsupported}};
}

int run_conformance(const ConformanceArgs& args) {
  namespace cf = conformance;
  std::error_code ec;
  if (!std::filesystem::is_directory(args.runner.data_dir, ec)) {
    std::cerr << "error: test data directory '" << args.runner.data_dir
              << "' does not exist (install libonnx-testdata or pass --data-dir)\n";
    return 2;
  }
  const bool all = args.suite == "all" || args.suite.find(',') != std::string::npos;
  const std::vector<std::string> suites =
      args.suite == "all" ? cf::all_suites() : split_suites(args.suite);
  for (const std::string& s : suites) {
    const auto& known = cf::all_suites();
    if (std::find(known.begin(), known.end(), s) == known.end()) {
      std::cerr << "error: unknown suite '" << s
                << "' (node, pytorch-converted, pytorch-operator, simple, all)\n";
      return 2;
    }
  }
  // With --json, stdout carries only the JSON document; progress lines go to stderr.
  std::ostream& lines = args.json ? std::cerr : std::cout;

  cf::Summary total;
  total.suite = args.suite;
  std::vector<cf::Summary> per_suite;
  for (const std::string& suite : suites) {
    // Under `all` test names are qualified, so each line says which suite it belongs to.
    const std::string prefix = all ? suite + "/" : "";
    auto print = [&](const cf::TestResult& r) {
      cf::TestResult shown = r;
      shown.name = prefix + r.name;
      lines << cf::format_result(shown);
      if (args.verbose) {
        lines << "  (" << static_cast<int>(r.seconds * 1000) << " ms)";
        for (const std::string& note : r.notes) lines << "\n    " << note;
      }
      lines << std::endl;  // flushed: a crash in a later test still leaves this line
    };
    cf::Summary s;
    try {
      s = cf::run_suite(suite, args.runner, print);
    } catch (const Error& e) {
      std::cerr << "error: " << e.what() << "\n";
      return 2;
    }
    for (cf::TestResult& r : s.tests) r.name = prefix + r.name;
    if (all) lines << s.to_string() << "\n";
    total.merge(s);
    per_suite.push_back(std::move(s));
  }
  lines << total.to_string() << std::endl;
  if (total.total == 0) std::cerr << "warning: no test matched\n";

  if (args.json) {
    nlohmann::json j = counts_json(total);
    if (all) {
      j["suites"] = nlohmann::json::array();
      for (const cf::Summary& s : per_suite) j["suites"].push_back(counts_json(s));
    }
    j["tests"] = nlohmann::json::array();
    for (const cf::TestResult& r : total.tests) {
      j["tests"].push_back({{"name", r.name},
                            {"status", cf::outcome_name(r.outcome)},
                            {"message", r.message},
                            {"seconds", r.seconds}});
    }
    // Messages may quote model bytes: replace invalid UTF-8 rather than throw.
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  }
  if (args.min_passed >= 0 || args.min_pass_rate >= 0) {
    const double rate = total.total ? static_cast<double>(total.passed) / total.total : 0;
    const bool ok = total.passed >= args.min_passed && rate >= args.min_pass_rate;
    std::cerr << (ok ? "gate passed: " : "gate FAILED: ") << total.passed << " of " << total.total
              << " passed (" << rate * 100 << "%), required "
              << std::max<int64_t>(args.min_passed, 0) << " and "
              << std::max(args.min_pass_rate, 0.0) * 100 << "%\n";
    return ok ? 0 : 1;
  }
  return total.failed == 0 ? 0 : 1;
}

}  // namespace

void register_conformance(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<ConformanceArgs>();
  CLI::App* cmd = app.add_subcommand(
      "conformance", "Run the ONNX backend test data (libonnx-testdata) and compare the outputs");
  cmd->add_option("--suite", args->suite,
                  "node, pytorch-converted, pytorch-operator, simple, all, or a comma list")
      ->capture_default_str();
  cmd->add_option("--min-passed", args->min_passed,
                  "Gate: exit 0 when at least this many tests pass");
  cmd->add_option("--min-pass-rate", args->min_pass_rate,
                  "Gate: exit 0 when this fraction (0..1) passes")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--data-dir", args->runner.data_dir, "Directory holding the suites")
      ->capture_default_str();
  cmd->add_option("--filter", args->runner.filter, "Only tests whose name contains this");
  cmd->add_option("--threads", args->runner.threads, "Intra-op threads per test")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--json", args->json, "Print a JSON summary on stdout (result lines to stderr)");
  cmd->add_flag("--verbose", args->verbose, "Print timings, frozen inputs and data sets per test");
  cmd->callback([run, args] { *run = [args] { return run_conformance(*args); }; });
}

}  // namespace softdpu::cli
