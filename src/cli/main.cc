// softdpu: the command-line front end. One subcommand a file (cmd_*.cc).
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"

int main(int argc, char** argv) {
  CLI::App app{"softdpu: real-time DNN inference on CPUs (ONNX in, batch-1 latency out)"};
  app.set_version_flag("--version", std::string("softdpu ") + SOFTDPU_VERSION);
  app.require_subcommand(1);
  softdpu::cli::CommandFn run;
  softdpu::cli::register_info(app, &run);
  softdpu::cli::register_run(app, &run);
  softdpu::cli::register_bench(app, &run);
  softdpu::cli::register_conformance(app, &run);
  softdpu::cli::register_quantize(app, &run);
  softdpu::cli::register_eval(app, &run);
  softdpu::cli::register_compile(app, &run);
  softdpu::cli::register_roofline(app, &run);
  softdpu::cli::register_serve(app, &run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    return run ? run() : 2;
  } catch (const softdpu::Error& e) {
    return softdpu::cli::report(e.status());
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
