// Runs the softdpu command the way a user does, for the tests of the command line: one process per
// call, exit code and both output streams captured.
#pragma once

#include <string>

namespace softdpu::testing {

struct CliResult {
  int code = -1;    // exit status; 128 + signal when killed; -1 when it could not be started
  std::string out;  // stdout only (the JSON, when --json)
  std::string err;  // stderr only
  std::string all;  // out + err
};

// Runs `<build>/softdpu ARGS` once (ARGS goes through /bin/sh as written). stderr is captured
// through a temporary file unique per process and per call, since CTest runs tests in parallel
// processes.
CliResult run_cli(const std::string& args);

}  // namespace softdpu::testing
