// softdpu eval MODEL... : accuracy of each precision on a labelled dataset, against FP32.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "cli/common.h"
#include "data/dataset.h"
#include "eval/evaluate.h"
#include "eval/precision_search.h"
#include "eval/svg_plot.h"
#include "formats/format.h"

namespace softdpu::cli {
namespace {

struct EvalArgs {
  std::vector<std::string> models;
  std::string dataset = "fashion-mnist";
  std::vector<std::string> precisions;
  PrecisionArgs pins;  // --layer-precision / --keep-fp32 / auto's budget and calibration
  int64_t limit = 0;
  int64_t batch = 100;
  int threads = 1;
  bool json = false;
  std::string plot;
};

std::vector<std::string> default_precisions() {
  return {"fp32",       "bf16",       "mxint8", "mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2",
          "mxfp6_e2m3", "mxfp4_e2m1", "ms-fp9", "ms-fp8",     "msfp12",     "msfp16"};
}

struct Row {
  std::string model, precision;
  eval::Scores scores;
  double fp32_top1 = 0;
  size_t weight_bytes = 0;
  double bits_per_weight = 32;
  std::map<std::string, std::string> layer_formats;
};

std::string model_label(const std::string& path) {
  // models/fashion_mlp/1/model.onnx -> fashion_mlp
  std::string p = path;
  for (int i = 0; i < 3; ++i) {
    auto slash = p.rfind('/');
    if (slash == std::string::npos) break;
    std::string last = p.substr(slash + 1);
    p = p.substr(0, slash);
    if (last != "model.onnx" && last != "model.sdpu" &&
        last.find_first_not_of("0123456789") != std::string::npos) {
      return last;
    }
  }
  return path;
}

std::vector<Row> eval_model(const EvalArgs& a, const std::string& model,
                            const data::Dataset& dataset) {
  std::unique_ptr<Session> s;
  Status st = Session::load(model, &s);
  if (!st) throw Error(st.code(), st.message());
  const std::string label = model_label(model);
  eval::RunOptions ro;
  ro.batch = a.batch;
  ro.threads = a.threads;

  PlanOptions fp32;
  apply_precision(PrecisionArgs{}, *s, &fp32);
  fp32.use_compiled_precision = false;
  ro.on_progress = [&](int64_t d, int64_t t) { print_progress(label + " fp32", d, t); };
  const eval::Predictions reference = eval::predict(*s, fp32, dataset, ro);
  const double fp32_top1 = eval::score(reference, reference, dataset.labels).top1;

  std::vector<Row> rows;
  std::vector<std::string> precisions = a.precisions;
  if (precisions.empty()) {
    precisions =
        s->compiled() ? std::vector<std::string>{"fp32", "compiled"} : default_precisions();
  }
  for (const std::string& precision : precisions) {
    if (precision == "compiled" && !s->compiled()) {
      throw Error(StatusCode::kInvalidArgument,
                  "--precision compiled needs a .sdpu model; " + model + " is not one");
    }
    PrecisionArgs pa = a.pins;
    pa.precision = precision == "compiled" ? "fp32" : precision;
    PlanOptions opt;
    apply_precision(pa, *s, &opt);
    opt.use_compiled_precision = precision == "compiled";
    PlanStats stats;
    ro.on_progress = [&](int64_t d, int64_t t) { print_progress(label + " " + precision, d, t); };
    const eval::Predictions p = eval::predict(*s, opt, dataset, ro, &stats);
    Row r;
    r.model = label;
    const std::string compression = compression_label(a.pins);
    r.precision = compression.empty() ? precision : precision + "+" + compression;
    r.scores = eval::score(p, reference, dataset.labels);
    r.fp32_top1 = fp32_top1;
    r.weight_bytes = stats.weight_bytes;
    r.bits_per_weight = stats.parameter_count ? 8.0 * static_cast<double>(stats.weight_bytes) /
                                                    static_cast<double>(stats.parameter_count)
                                              : 32.0;
    r.layer_formats = stats.layer_formats;
    rows.push_back(r);
  }
  return rows;
}

void print_table(const std::vector<Row>& rows, const data::Dataset& d) {
  std::printf("dataset %s, %lld samples\n", d.name.c_str(), static_cast<long long>(d.size()));
  std::printf("%-24s %-20s %8s %8s %10s %10s %12s %9s\n", "model", "precision", "top1 %", "vs fp32",
              "agree %", "KL", "weight B", "bits/w");
  for (const Row& r : rows) {
    std::printf("%-24s %-20s %8.2f %+8.2f %10.2f %10.2e %12zu %9.2f\n", r.model.c_str(),
                r.precision.c_str(), r.scores.top1, r.scores.top1 - r.fp32_top1, r.scores.agreement,
                r.scores.kl, r.weight_bytes, r.bits_per_weight);
  }
}

int run_eval(EvalArgs a) {
  for (const std::string& p : a.precisions) {
    if (p != "auto" && p != "compiled") formats::parse_format(p);  // fail before any work
  }
  const data::Dataset dataset = data::load_dataset(a.dataset, data::Split::kTest, a.limit);
  std::vector<Row> rows;
  for (const std::string& m : a.models) {
    std::vector<Row> r = eval_model(a, m, dataset);
    rows.insert(rows.end(), r.begin(), r.end());
  }
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const Row& r : rows) {
      out.push_back({{"model", r.model},
                     {"precision", r.precision},
                     {"top1", r.scores.top1},
                     {"fp32_top1", r.fp32_top1},
                     {"agreement", r.scores.agreement},
                     {"kl", r.scores.kl},
                     {"weight_bytes", r.weight_bytes},
                     {"bits_per_weight", r.bits_per_weight},
                     {"samples", dataset.size()},
                     {"layer_formats", r.layer_formats}});
    }
    std::cout << out.dump(2) << "\n";
  } else {
    print_table(rows, dataset);
  }
  if (!a.plot.empty()) {
    eval::PlotSpec spec;
    spec.title = "Top-1 accuracy against weight bits (" + dataset.name + ")";
    spec.x_label = "storage bits per weight (log scale)";
    spec.y_label = "top-1 accuracy %";
    for (const Row& r : rows) {
      if (spec.series.empty() || spec.series.back().name != r.model) {
        spec.series.push_back({r.model, {}});
      }
      spec.series.back().points.push_back({r.bits_per_weight, r.scores.top1, r.precision});
    }
    std::ofstream f(a.plot);
    f << eval::render_svg(spec);
    if (!f) throw Error(StatusCode::kIoError, "cannot write " + a.plot, a.plot);
  }
  return 0;
}

}  // namespace

void register_eval(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Top-1 accuracy, agreement with FP32, KL divergence and weight bytes per precision");
  cmd->add_option("models", args->models, "ONNX model(s) or compiled .sdpu files")->required();
  cmd->add_option("--dataset", args->dataset,
                  "'fashion-mnist' (Debian's dataset-fashion-mnist, test split) or a DIR with "
                  "labels.npy and <input>.npy / inputs.npy");
  cmd->add_option("--precision", args->precisions,
                  "precisions to evaluate (comma list or repeated; 'auto' runs the search with "
                  "--budget; 'compiled' the precision a .sdpu was compiled with); default: fp32 "
                  "and every format preset (fp32 and compiled for a .sdpu)")
      ->delimiter(',');
  cmd->add_option("--layer-precision", args->pins.layer_precision,
                  "NODE=FORMAT pinned in every evaluated precision");
  cmd->add_option("--keep-fp32", args->pins.keep_fp32, "layers kept at fp32 in every precision")
      ->delimiter(',');
  add_activations_flag(cmd, &args->pins.activations);
  cmd->add_option("--budget", args->pins.budget,
                  "for 'auto': allowed drop of top-1 agreement with FP32, percentage points");
  cmd->add_option("--calibration", args->pins.calibration,
                  "for 'auto': 'fashion-mnist' (train split) or a dataset DIR");
  cmd->add_option("--calibration-samples", args->pins.calibration_samples,
                  "for 'auto': calibration samples")
      ->check(CLI::PositiveNumber);
  // The same compression flags as run / bench / info, applied to every evaluated precision
  // (layers they compress take that format instead of the precision).
  add_compression_flags(cmd, &args->pins);
  cmd->add_option("--limit", args->limit, "evaluate only the first N samples");
  cmd->add_option("--batch", args->batch, "samples per run")->check(CLI::PositiveNumber);
  cmd->add_option("--threads", args->threads, "intra-op threads")->check(CLI::PositiveNumber);
  cmd->add_flag("--json", args->json, "print a JSON list instead of the table");
  cmd->add_option("--plot", args->plot, "write an SVG of accuracy against bits per weight");
  cmd->callback([args, run] { *run = [args] { return run_eval(*args); }; });
}

}  // namespace softdpu::cli
