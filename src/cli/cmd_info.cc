// softdpu info MODEL [--json]: what a model is and what its plan costs.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"

namespace softdpu::cli {
namespace {
struct InfoArgs {
  PrecisionArgs precision;
  std::string model;
  bool json = false;
  int64_t batch = 1;
};

nlohmann::json value_json(const ValueInfo& v) {
  return {{"name", v.name}, {"datatype", dtype_name(v.dtype)}, {"shape", v.shape}};
}

int run_info(const InfoArgs& a) {
  std::unique_ptr<Session> s;
  Status st = Session::load(a.model, &s);
  if (!st) return report(st);
  std::vector<ValueInfo> model_inputs = s->inputs();
  PlanOptions opt;
  apply_precision(a.precision, *s, &opt);
  opt.batch = a.batch;
  st = s->plan(opt);
  if (!st) return report(st);
  const PlanStats& ps = s->stats();
  nlohmann::json j;
  j["model"] = a.model;
  j["opset"] = s->opset();
  j["inputs"] = nlohmann::json::array();
  for (const ValueInfo& v : model_inputs) j["inputs"].push_back(value_json(v));
  j["outputs"] = nlohmann::json::array();
  for (const ValueInfo& v : s->outputs()) j["outputs"].push_back(value_json(v));
  j["model_ops"] = s->model_op_counts();
  j["planned_ops"] = ps.op_counts;
  j["kernels"] = ps.kernel_count;
  j["parameters"] = ps.parameter_count;
  j["weight_bytes"] = ps.weight_bytes;
  j["weight_bytes_by_format"] = ps.weight_bytes_by_format;
  j["layer_formats"] = ps.layer_formats;
  j["layer_compression_error"] = ps.layer_compression_error;
  j["arena_bytes"] = ps.arena_bytes;
  j["batch"] = a.batch;
  if (a.json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "model        " << a.model << " (opset " << s->opset() << ")\n";
  for (const ValueInfo& v : model_inputs)
    std::cout << "input        " << v.name << " " << dtype_name(v.dtype) << " "
              << shape_to_string(v.shape) << "\n";
  for (const ValueInfo& v : s->outputs())
    std::cout << "output       " << v.name << " " << dtype_name(v.dtype) << " "
              << shape_to_string(v.shape) << "\n";
  std::cout << "ops          ";
  for (const auto& [op, n] : s->model_op_counts()) std::cout << op << " x" << n << "  ";
  std::cout << "\nplanned      " << ps.kernel_count << " kernels: ";
  for (const auto& [op, n] : ps.op_counts) std::cout << op << " x" << n << "  ";
  std::cout << "\nparameters   " << ps.parameter_count << "\n";
  std::cout << "weights      " << ps.weight_bytes << " bytes (";
  const char* sep = "";
  for (const auto& [format, bytes] : ps.weight_bytes_by_format) {
    std::cout << sep << format << " " << bytes;
    sep = ", ";
  }
  std::cout << ")\n";
  for (const auto& [node, format] : ps.layer_formats) {
    std::cout << "layer        " << node << " " << format;
    const auto e = ps.layer_compression_error.find(node);
    if (e != ps.layer_compression_error.end())
      std::cout << " (relative Frobenius error " << e->second << ")";
    std::cout << "\n";
  }
  std::cout << "arena        " << ps.arena_bytes << " bytes at batch " << a.batch << "\n";
  return 0;
}
}  // namespace

void register_info(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<InfoArgs>();
  CLI::App* cmd =
      app.add_subcommand("info", "Describe a model: ops, parameters, weight and arena bytes");
  cmd->add_option("model", args->model, "model.onnx or compiled .sdpu")->required();
  cmd->add_option("--batch", args->batch, "batch size to plan for")->check(CLI::PositiveNumber);
  cmd->add_flag("--json", args->json, "print JSON");
  add_precision_flags(cmd, &args->precision);
  cmd->callback([args, run] { *run = [args] { return run_info(*args); }; });
}

}  // namespace softdpu::cli
