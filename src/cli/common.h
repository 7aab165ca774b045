// Helpers shared by the subcommands: loading and planning with readable errors, --input parsing.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "softdpu/session.h"

namespace CLI {
class App;
}

namespace softdpu::cli {

// The precision flags run, bench and info share (docs/precision.md).
struct PrecisionArgs {
  std::string precision = "fp32";
  std::vector<std::string> layer_precision;  // NODE=FORMAT
  std::vector<std::string> keep_fp32;        // node names or first/last (comma lists allowed)
  std::string activations = "fp32";          // PlanOptions::activations
  // --precision auto: the agreement budget (percentage points) and the calibration data.
  double budget = -1;
  std::string calibration = "fashion-mnist";  // the train split; a DIR's first samples
  int64_t calibration_samples = 1000;
  // Compressed formats (docs/compression.md); -1 = flag not given.
  int circulant = -1;
  std::vector<std::string> circulant_layers;
  double prune = -1;
  int codebook_bits = 0;
  std::string codebook_values = "fp32";
};

// Adds --activations native|fp32 (PlanOptions::activations).
void add_activations_flag(CLI::App* cmd, std::string* activations);

// Adds --precision, --layer-precision NODE=F (repeatable), --keep-fp32 a,b, --budget,
// --calibration, --calibration-samples (for --precision auto) and the compression flags
// --circulant B, --circulant-layers a,b, --prune D, --codebook-bits N, --codebook-values F.
void add_precision_flags(CLI::App* cmd, PrecisionArgs* args);

// Only the compression flags (part of add_precision_flags; eval, which has its own --precision
// list, adds these alone).
void add_compression_flags(CLI::App* cmd, PrecisionArgs* args);

// The compression flags in a short form for reports: "circ8", "prune0.15-cb4", "" when none.
std::string compression_label(const PrecisionArgs& args);

// Copies the flags into opt. Throws Error(kInvalidArgument) for a malformed NODE=F or a node
// given twice; format and node names are checked by Session::plan. With --precision auto it runs
// the search (eval/precision_search.h) on `session`, prints the chosen table to stderr and
// stores the choice in opt->layer_precision.
void apply_precision(const PrecisionArgs& args, Session& session, PlanOptions* opt);

// What a plan's precision is called in reports: the --precision flag (layer_formats has the
// detail), or "compiled" for a .sdpu planned with the precision baked into it.
std::string precision_label(const PrecisionArgs& args, const Session& session);

// Prints a progress bar for (done, total) to stderr when stderr is a terminal; a final call with
// done == total ends the line.
void print_progress(const std::string& what, int64_t done, int64_t total);

// Exit codes: 0 ok, 1 the work failed (model or runtime), 2 the user's input is wrong.
int exit_code_for(const Status& st);

// Prints "error: <message>" to stderr and returns the exit code for it.
int report(const Status& st);

// Loads and plans; prints the error and returns null on failure (*code set).
std::unique_ptr<Session> load_and_plan(const std::string& path, const PlanOptions& opt, int* code);

// Parses NAME=FILE.npy pairs and reads the arrays. Throws Error naming the bad argument.
std::map<std::string, Tensor> read_named_inputs(const std::vector<std::string>& specs);

// Fills a tensor with deterministic pseudo-random data suited to its type (floats in [0, 1)).
Tensor random_input(const ValueInfo& info, uint32_t seed);

}  // namespace softdpu::cli
