// The public entry point: load a model, plan it for a batch size and thread count, run it.
//
//   auto s = softdpu::Session::load("model.onnx");      // import + graph passes
//   softdpu::PlanOptions opt; opt.batch = 1; opt.threads = 1;
//   s->plan(opt);                                        // shapes, kernels, arena, packed weights
//   s->run(inputs, outputs);                             // no allocation, no throw
//
// Errors come back as Status (load/plan throw nothing either: the *_or_status forms are the API).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "softdpu/status.h"
#include "softdpu/tensor.h"

namespace softdpu {

struct ValueInfo {
  std::string name;
  DType dtype = DType::kUndefined;
  Shape shape;  // -1 for dimensions fixed only at plan time (before plan) / concrete (after)
};

struct PlanOptions {
  int64_t batch = 1;  // replaces the first dimension of inputs where the model leaves it symbolic
  int threads = 1;    // intra-op threads (the calling thread counts as one)
  // Concrete shapes for inputs whose other dimensions are symbolic (by input name).
  std::map<std::string, Shape> input_shapes;
  // Inputs whose values are fixed at plan time (like TensorRT shape tensors): they are folded
  // into the plan and must not be passed to run(). Used for shape-deciding integer inputs.
  std::map<std::string, Tensor> frozen_inputs;
  // Graph passes (fusion, BatchNorm folding, ...). Off only for debugging and tests.
  bool optimize = true;
  // Weight precision (docs/precision.md). Names are formats/format.h's ("fp32", "mxint8", ...).
  // Eligible layers: Gemm and MatMul whose weight input is a constant 2-D float32 matrix, and
  // LSTM/GRU/RNN (W and R).
  std::string precision = "fp32";                      // every eligible layer
  std::map<std::string, std::string> layer_precision;  // node name -> format (overrides)
  // Node names, or "first" / "last" (the first / last eligible layer in topological order),
  // kept at fp32 whatever precision says (layer_precision still wins for a named node).
  std::vector<std::string> keep_fp32;
  // Activations of the narrow Gemm/MatMul/LSTM/GRU/RNN products (docs/precision.md): "fp32"
  // multiplies them unchanged with the decoded weights; "native" quantises them per 32-block to
  // MXINT8 (mxint8 and mxfp4_e2m1 weights; bf16 for bf16) for integer dot products. Formats
  // without a native product (mxfp8, mxfp6, bfp, ...) always use fp32 activations, and so does
  // an RNN's batched input projection.
  std::string activations = "fp32";
  // For a compiled model (.sdpu): plan with the precision it was compiled with when the three
  // fields above are at their defaults. False plans exactly the fields above (e.g. an FP32
  // reference run of a compiled model).
  bool use_compiled_precision = true;
  // Compressed weight formats (docs/compression.md); they take precedence over precision.
  // circulant_block B (a power of two, 4..256; 0 = off) projects each eligible layer's weight to
  // the nearest block-circulant matrix (FFT product); circulant_layers limits it to those nodes.
  int circulant_block = 0;
  std::vector<std::string> circulant_layers;
  // prune_density D in (0, 1] (0 = off) keeps the D largest-magnitude weights of each eligible
  // layer not made circulant, stored EIE-sparse; codebook_bits (1..4, 0 = exact values) adds
  // k-means weight sharing with values in codebook_values (fp32, bf16, fp16).
  double prune_density = 0;
  int codebook_bits = 0;
  std::string codebook_values = "fp32";
  // Lossless detection: weights that already are block-circulant, or sparser than
  // sparse_threshold, are stored so without any flag (values exact).
  bool detect_compression = true;
  double sparse_threshold = 0.25;
};

struct PlanStats {
  size_t arena_bytes = 0;   // activations and scratch, one buffer reused by every run
  size_t weight_bytes = 0;  // constants the kernels read
  // Constant bytes one run actually reads: a recurrent weight (LSTM/GRU/RNN input R) counts once
  // per time step, a Gather from a constant table (an embedding) only the rows it gathers. This
  // is the traffic behind `softdpu bench --json`'s achieved GB/s.
  size_t weight_bytes_read = 0;
  // The weight bytes live across the reads that dominate weight_bytes_read, which decide whether
  // the weights stream from L2, L3 or DRAM: the largest recurrent layer's weights when the model
  // has one (its R is re-read every time step), else every constant byte one run touches (a
  // gathered table counting only its gathered rows).
  size_t weight_working_set = 0;
  int64_t parameter_count = 0;
  int kernel_count = 0;                  // nodes left after folding and fusion
  std::map<std::string, int> op_counts;  // per op type in the planned program
  // weight_bytes split by storage format: narrow layers count their packed bytes, every other
  // constant is counted under "fp32" (its plain size, whatever its type).
  std::map<std::string, size_t> weight_bytes_by_format;
  std::map<std::string, std::string> layer_formats;  // eligible node -> format it runs in
  // Layers whose weights were projected (circulant) or pruned / weight-shared: node -> relative
  // Frobenius error ||W - W'||_F / ||W||_F over its weight inputs (docs/compression.md).
  std::map<std::string, double> layer_compression_error;
};

class Session {
 public:
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Reads an ONNX model (with external data beside it) or a compiled model (.sdpu, written by
  // save_compiled / `softdpu compile`; told apart by its magic). On failure *out is null.
  static Status load(const std::string& path, std::unique_ptr<Session>* out);
  // From bytes in memory; base_dir is where external-data files are looked up.
  static Status load_from_bytes(const std::string& bytes, const std::string& base_dir,
                                std::unique_ptr<Session>* out);

  // Model-level description, valid after load.
  const std::vector<ValueInfo>& inputs() const;  // without frozen inputs after plan
  const std::vector<ValueInfo>& outputs() const;
  int64_t opset() const;
  std::map<std::string, int> model_op_counts() const;  // ops as imported, before passes

  // Fixes shapes, runs the passes, folds constants, chooses kernels, lays out the arena.
  // May be called again with other options (re-plans).
  Status plan(const PlanOptions& options);
  bool planned() const;
  const PlanStats& stats() const;

  // Writes the compiled model file (.sdpu, docs/precision.md): the source model, the precision
  // options of the current plan and the narrow weights it encoded, checksummed. Needs a plan.
  Status save_compiled(const std::string& path) const;
  // True for a session loaded from a .sdpu. Its plan() applies the precision options the file
  // was compiled with whenever the options passed leave precision, layer_precision and
  // keep_fp32 at their defaults, and then adopts the file's encoded weights in place.
  bool compiled() const;

  // Runs the plan. inputs/outputs are matched by position with inputs()/outputs(); dtypes and
  // shapes must equal the planned ones exactly (checked; a mismatch returns kInvalidArgument
  // naming the tensor). Output buffers are caller-owned. Allocates nothing.
  Status run(const std::vector<ConstTensorView>& inputs, const std::vector<TensorView>& outputs);
  // Convenience for tools and tests: inputs by name, outputs allocated (allocates).
  Status run(const std::map<std::string, Tensor>& inputs, std::map<std::string, Tensor>* outputs);

  // Per-kernel profile (`softdpu bench --per-op`), off by default. record_step_times(n) makes
  // the next runs record each kernel's wall time into a ring of n runs (allocated here, not in
  // run(); 0 turns it off); step_times() returns what was recorded, oldest run first. The
  // pool jobs count every job handed to the thread pool since plan(), late chunks the chunks of
  // those jobs the calling thread ran because their worker had not claimed them in time.
  struct StepTimes {
    std::vector<std::string> names, ops;  // per kernel, in run order
    std::vector<std::vector<double>> us;  // per kernel: its time in each recorded run
    int64_t pool_jobs = 0, pool_late_chunks = 0;
  };
  void record_step_times(int runs);
  StepTimes step_times() const;

 private:
  Session();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace softdpu
