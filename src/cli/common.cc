#include "cli/common.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <random>
#include <sstream>

#include "compress/compressed_matrix.h"
#include "core/npy.h"
#include "data/dataset.h"
#include "eval/precision_search.h"
#include "formats/format.h"

namespace softdpu::cli {

int exit_code_for(const Status& st) {
  switch (st.code()) {
    case StatusCode::kOk: return 0;
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kIoError: return 2;
    default: return 1;
  }
}

int report(const Status& st) {
  std::cerr << "error: " << st.message() << "\n";
  return exit_code_for(st);
}

std::unique_ptr<Session> load_and_plan(const std::string& path, const PlanOptions& opt, int* code) {
  std::unique_ptr<Session> s;
  Status st = Session::load(path, &s);
  if (st) st = s->plan(opt);
  if (!st) {
    *code = report(st);
    return nullptr;
  }
  *code = 0;
  return s;
}

std::map<std::string, Tensor> read_named_inputs(const std::vector<std::string>& specs) {
  std::map<std::string, Tensor> out;
  for (const std::string& spec : specs) {
    auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      throw Error(StatusCode::kInvalidArgument, "--input '" + spec + "' should be NAME=FILE.npy");
    }
    std::string name = spec.substr(0, eq);
    if (out.count(name))
      throw Error(StatusCode::kInvalidArgument, "--input '" + name + "' is given twice");
    out[name] = read_npy(spec.substr(eq + 1));
  }
  return out;
}

void add_activations_flag(CLI::App* cmd, std::string* activations) {
  cmd->add_option("--activations", *activations,
                  "activations of the narrow products: native (MXINT8 blocks and integer dot "
                  "products for mxint8 / mxfp4_e2m1 weights, bf16 for bf16) or fp32")
      ->check(CLI::IsMember({"native", "fp32"}));
}

void add_precision_flags(CLI::App* cmd, PrecisionArgs* args) {
  cmd->add_option("--precision", args->precision,
                  "weight format of every Gemm/MatMul/Conv/LSTM/GRU/RNN weight layer, or auto: " +
                      formats::format_name_list());
  cmd->add_option("--layer-precision", args->layer_precision,
                  "NODE=FORMAT for one layer (repeat for more; overrides --precision)");
  cmd->add_option("--keep-fp32", args->keep_fp32,
                  "layers kept at fp32: node names, 'first', 'last' (comma list)")
      ->delimiter(',');
  add_activations_flag(cmd, &args->activations);
  cmd->add_option("--budget", args->budget,
                  "with --precision auto: allowed drop of top-1 agreement with FP32, in "
                  "percentage points");
  cmd->add_option("--calibration", args->calibration,
                  "with --precision auto: 'fashion-mnist' (its train split) or a dataset DIR");
  cmd->add_option("--calibration-samples", args->calibration_samples,
                  "with --precision auto: samples of the calibration set to use")
      ->check(CLI::PositiveNumber);
  add_compression_flags(cmd, args);
}

void add_compression_flags(CLI::App* cmd, PrecisionArgs* args) {
  cmd->add_option("--circulant", args->circulant,
                  "block-circulant weights (FFT products) with blocks of B (4..256, a power of "
                  "two): every Gemm/MatMul/LSTM/GRU/RNN layer, or those of --circulant-layers");
  cmd->add_option("--circulant-layers", args->circulant_layers,
                  "layers --circulant applies to (comma list of node names)")
      ->delimiter(',');
  cmd->add_option("--prune", args->prune,
                  "EIE sparse weights: keep this fraction (0, 1] of each layer's weights by "
                  "magnitude (layers not made circulant)");
  cmd->add_option("--codebook-bits", args->codebook_bits,
                  "with --prune: share weights through a k-means codebook of 2^N values (1..4)");
  cmd->add_option("--codebook-values", args->codebook_values,
                  "precision of the shared codebook values: fp32, bf16, fp16");
}

std::string compression_label(const PrecisionArgs& args) {
  std::string label;
  if (args.circulant != -1) label = "circ" + std::to_string(args.circulant);
  if (args.prune != -1) {
    std::ostringstream d;
    d << args.prune;
    label += (label.empty() ? "" : "+") + ("prune" + d.str());
    if (args.codebook_bits > 0) label += "-cb" + std::to_string(args.codebook_bits);
    if (args.codebook_bits > 0 && args.codebook_values != "fp32")
      label += "-" + args.codebook_values;
  }
  return label;
}

std::string precision_label(const PrecisionArgs& args, const Session& session) {
  const bool flags =
      args.precision != "fp32" || !args.layer_precision.empty() || !args.keep_fp32.empty();
  return session.compiled() && !flags ? "compiled" : args.precision;
}

void print_progress(const std::string& what, int64_t done, int64_t total) {
  if (!isatty(STDERR_FILENO) || total <= 0) return;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * done / total);
  std::fprintf(stderr, "\r%-24.24s [%s%s] %3d%%", what.c_str(), std::string(filled, '#').c_str(),
               std::string(kWidth - filled, ' ').c_str(), static_cast<int>(100 * done / total));
  if (done >= total) std::fprintf(stderr, "\r%*s\r", 24 + kWidth + 8, "");
  std::fflush(stderr);
}

namespace {

void resolve_auto(const PrecisionArgs& args, Session& session, PlanOptions* opt) {
  if (args.budget < 0) {
    throw Error(StatusCode::kInvalidArgument,
                "--precision auto needs --budget X (the allowed drop of top-1 agreement with "
                "FP32, in percentage points)");
  }
  const data::Dataset calib =
      data::load_dataset(args.calibration, data::Split::kTrain, args.calibration_samples);
  eval::SearchOptions so;
  so.budget = args.budget;
  so.run.batch = 100;
  so.run.on_progress = [](int64_t done, int64_t total) {
    print_progress("precision search", done, total);
  };
  PlanOptions base = *opt;
  base.precision = "fp32";
  const eval::SearchResult r = eval::search_precision(session, base, calib, so);
  std::fprintf(
      stderr, "precision auto (budget %.2f points, %lld calibration samples of %s, %d runs):\n",
      args.budget, static_cast<long long>(calib.size()), args.calibration.c_str(), r.measurements);
  for (const eval::LayerChoice& c : r.layers) {
    std::fprintf(stderr, "  %-32s %-12s %5.2f bits  drop alone %.2f\n", c.layer.c_str(),
                 c.format.c_str(), c.bits, c.alone_drop);
  }
  std::fprintf(stderr, "  combined agreement with fp32: %.2f %%\n", r.agreement);
  opt->precision = "fp32";
  opt->layer_precision = r.layer_precision;
}

}  // namespace

void apply_precision(const PrecisionArgs& args, Session& session, PlanOptions* opt) {
  opt->precision = args.precision == "auto" ? "fp32" : args.precision;
  for (const std::string& spec : args.layer_precision) {
    const auto eq = spec.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      throw Error(StatusCode::kInvalidArgument,
                  "--layer-precision '" + spec + "' should be NODE=FORMAT");
    }
    const std::string node = spec.substr(0, eq);
    if (!opt->layer_precision.emplace(node, spec.substr(eq + 1)).second) {
      throw Error(StatusCode::kInvalidArgument,
                  "--layer-precision names node '" + node + "' twice");
    }
  }
  opt->keep_fp32 = args.keep_fp32;
  opt->activations = args.activations;
  if (args.circulant != -1) {
    compress::check_circulant_block(args.circulant);
    opt->circulant_block = args.circulant;
  }
  opt->circulant_layers = args.circulant_layers;
  if (args.prune != -1) {
    compress::check_density(args.prune);
    opt->prune_density = args.prune;
  }
  opt->codebook_bits = args.codebook_bits;
  opt->codebook_values = args.codebook_values;
  if (args.precision == "auto") resolve_auto(args, session, opt);
}

Tensor random_input(const ValueInfo& info, uint32_t seed) {
  Tensor t(info.dtype, info.shape);
  std::mt19937 rng(seed);
  if (info.dtype == DType::kFloat32) {
    std::uniform_real_distribution<float> d(0.f, 1.f);
    for (int64_t i = 0; i < t.numel(); ++i) t.data_as<float>()[i] = d(rng);
  } else if (info.dtype == DType::kFloat64) {
    std::uniform_real_distribution<double> d(0., 1.);
    for (int64_t i = 0; i < t.numel(); ++i) t.data_as<double>()[i] = d(rng);
  }
  // Integer and bool inputs stay zero: a safe index for embeddings and gathers.
  return t;
}

}  // namespace softdpu::cli
