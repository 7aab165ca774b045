// softdpu quantize --format F [--rounding even|nearest] IN.npy OUT.npy: quantises a float32
// array in blocks along its last axis and writes the dequantised float32 values, so users can
// see what a weight format does to their numbers (and tests can compare with reference data).
// A last axis that is not a multiple of the block size is fine: the last block of each row is
// padded with zeros, which never changes a block's scale (microxcaling does the same).
#include <cmath>
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/npy.h"
#include "formats/format.h"
#include "formats/quantize.h"

namespace softdpu::cli {
namespace {

struct QuantizeArgs {
  std::string format;
  std::string rounding = "even";
  std::string input;
  std::string output;
};

int run_quantize(const QuantizeArgs& a) {
  const formats::WeightFormat f = formats::parse_format(a.format);
  const formats::Rounding r = formats::parse_rounding(a.rounding);
  const Tensor in = read_npy(a.input);
  if (in.dtype() != DType::kFloat32) {
    return report({StatusCode::kInvalidArgument, a.input + " holds " + dtype_name(in.dtype()) +
                                                     " " + shape_to_string(in.shape()) +
                                                     "; quantize takes float32 arrays"});
  }
  const int64_t cols = in.shape().empty() ? 1 : in.shape().back();
  const int64_t rows = cols == 0 ? 0 : in.numel() / cols;
  Tensor out(DType::kFloat32, in.shape());
  formats::quantize_dequantize(in.data_as<float>(), rows, cols, f, r, out.data_as<float>());
  write_npy(a.output, out);

  double max_err = 0, sq = 0;
  int64_t finite = 0;
  for (int64_t i = 0; i < in.numel(); ++i) {
    const double d = double(out.data_as<float>()[i]) - in.data_as<float>()[i];
    if (!std::isfinite(d)) continue;
    max_err = std::max(max_err, std::fabs(d));
    sq += d * d;
    ++finite;
  }
  const int block = f.block == 0 ? int(cols) : f.block;
  std::cout << a.input << " " << shape_to_string(in.shape()) << " -> " << a.output << " as "
            << f.name << " (rounding " << formats::rounding_name(r) << "): " << rows << " rows of "
            << cols;
  if (block > 1) {
    std::cout << " in blocks of " << block;
    if (cols % block) std::cout << " (last block of each row zero padded)";
  }
  std::cout << "\n"
            << formats::format_bits_per_weight(f) << " bits per weight; max |error| " << max_err
            << ", rms error " << (finite ? std::sqrt(sq / double(finite)) : 0.0) << "\n";
  return 0;
}

}  // namespace

void register_quantize(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<QuantizeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "quantize",
      "Quantise a float32 .npy in blocks along its last axis; write the dequantised values");
  cmd->add_option("--format,-f", args->format, "weight format: " + formats::format_name_list())
      ->required();
  cmd->add_option("--rounding", args->rounding,
                  "even (round half to even, default) or nearest (half away from zero)");
  cmd->add_option("input", args->input, "IN.npy (float32)")->required();
  cmd->add_option("output", args->output, "OUT.npy")->required();
  cmd->callback([args, run] { *run = [args] { return run_quantize(*args); }; });
}

}  // namespace softdpu::cli
