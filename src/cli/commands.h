// Each softdpu subcommand lives in its own cmd_<name>.cc and registers itself on the CLI11 app.
// The callback returns the process exit code (0 ok, 1 runtime failure, 2 bad usage/input).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace softdpu::cli {

using CommandFn = std::function<int()>;

// Adds the subcommand to app; *run is set to its body when the user picks it.
void register_info(CLI::App& app, CommandFn* run);
void register_run(CLI::App& app, CommandFn* run);
void register_bench(CLI::App& app, CommandFn* run);
void register_conformance(CLI::App& app, CommandFn* run);
void register_quantize(CLI::App& app, CommandFn* run);
void register_eval(CLI::App& app, CommandFn* run);
void register_compile(CLI::App& app, CommandFn* run);
void register_roofline(CLI::App& app, CommandFn* run);
void register_serve(CLI::App& app, CommandFn* run);

}  // namespace softdpu::cli
