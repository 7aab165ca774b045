// softdpu compile MODEL [precision flags] -o MODEL.sdpu: plans the model once and writes the
// compiled file (runtime/sdpu_file.h): the model, its precision choice (including what
// --precision auto found) and the encoded narrow weights, checksummed and memory-mappable.
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/common.h"

namespace softdpu::cli {
namespace {

struct CompileArgs {
  PrecisionArgs precision;
  std::string model;
  std::string output;
};

int run_compile(const CompileArgs& a) {
  std::unique_ptr<Session> s;
  Status st = Session::load(a.model, &s);
  if (!st) return report(st);
  PlanOptions opt;
  apply_precision(a.precision, *s, &opt);
  st = s->plan(opt);
  if (!st) return report(st);
  st = s->save_compiled(a.output);
  if (!st) return report(st);
  const PlanStats& ps = s->stats();
  std::printf("compiled %s -> %s (%ju bytes)\n", a.model.c_str(), a.output.c_str(),
              static_cast<uintmax_t>(std::filesystem::file_size(a.output)));
  for (const auto& [layer, format] : ps.layer_formats) {
    std::printf("  %-40s %s\n", layer.c_str(), format.c_str());
  }
  for (const auto& [format, bytes] : ps.weight_bytes_by_format) {
    std::printf("  weights in %-10s %zu bytes\n", format.c_str(), bytes);
  }
  return 0;
}

}  // namespace

void register_compile(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<CompileArgs>();
  CLI::App* cmd = app.add_subcommand(
      "compile", "Write a compiled model (.sdpu): precision choice and encoded weights baked in");
  cmd->add_option("model", args->model, "ONNX model (or a .sdpu to re-compile)")->required();
  cmd->add_option("-o,--output", args->output, "the .sdpu file to write")->required();
  add_precision_flags(cmd, &args->precision);
  cmd->callback([args, run] { *run = [args] { return run_compile(*args); }; });
}

}  // namespace softdpu::cli
