// softdpu run MODEL --input NAME=FILE.npy ... --output-dir DIR: one inference, outputs as .npy.
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/npy.h"

namespace softdpu::cli {
namespace {
struct RunArgs {
  PrecisionArgs precision;
  std::string model;
  std::vector<std::string> inputs;
  std::string output_dir = ".";
  int threads = 1;
};

int run_run(const RunArgs& a) {
  std::map<std::string, Tensor> inputs = read_named_inputs(a.inputs);
  std::unique_ptr<Session> s;
  Status st = Session::load(a.model, &s);
  if (!st) return report(st);
  PlanOptions opt;
  apply_precision(a.precision, *s, &opt);
  opt.threads = a.threads;
  for (const ValueInfo& vi : s->inputs()) {
    auto it = inputs.find(vi.name);
    if (it == inputs.end()) {
      return report({StatusCode::kInvalidArgument, "missing --input for model input '" + vi.name +
                                                       "' (" + dtype_name(vi.dtype) + " " +
                                                       shape_to_string(vi.shape) + ")"});
    }
    opt.input_shapes[vi.name] = it->second.shape();
  }
  for (const auto& [name, t] : inputs) {
    bool known = false;
    for (const ValueInfo& vi : s->inputs()) known = known || vi.name == name;
    if (!known)
      return report({StatusCode::kInvalidArgument, "the model has no input named '" + name + "'"});
    for (const ValueInfo& vi : s->inputs()) {
      if (vi.name == name && vi.dtype != t.dtype()) {
        return report(
            {StatusCode::kInvalidArgument, "input '" + name + "' expects " + dtype_name(vi.dtype) +
                                               ", the file holds " + dtype_name(t.dtype())});
      }
    }
  }
  st = s->plan(opt);
  if (!st) return report(st);
  std::map<std::string, Tensor> outputs;
  st = s->run(inputs, &outputs);
  if (!st) return report(st);
  std::filesystem::create_directories(a.output_dir);
  for (const auto& [name, t] : outputs) {
    std::string path = a.output_dir + "/" + name + ".npy";
    write_npy(path, t);
    std::cout << name << " " << dtype_name(t.dtype()) << " " << shape_to_string(t.shape()) << " -> "
              << path << "\n";
  }
  return 0;
}
}  // namespace

void register_run(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd =
      app.add_subcommand("run", "Run one inference on .npy inputs and write .npy outputs");
  cmd->add_option("model", args->model, "model.onnx or compiled .sdpu")->required();
  cmd->add_option("--input,-i", args->inputs, "NAME=FILE.npy (repeat for each input)");
  cmd->add_option("--output-dir,-o", args->output_dir, "directory for <output name>.npy");
  cmd->add_option("--threads", args->threads, "intra-op threads")->check(CLI::PositiveNumber);
  add_precision_flags(cmd, &args->precision);
  cmd->callback([args, run] { *run = [args] { return run_run(*args); }; });
}

}  // namespace softdpu::cli
