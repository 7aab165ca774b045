// Per-layer weight precision (PlanOptions::precision / layer_precision / keep_fp32): decides, once
// the graph passes have run, which format each weight layer stores its weights in, and records
// the choice as the node attribute kWeightFormatAttr that the kernels' prepare functions read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "formats/format.h"
#include "ir/graph.h"
#include "softdpu/session.h"

namespace softdpu::runtime {

// String attribute on a node: a formats/format.h name. Absent or "fp32" = the fp32 path.
inline constexpr const char* kWeightFormatAttr = "_weight_format";
// String attribute on the same nodes: PlanOptions::activations ("native" or "fp32"), how the
// narrow products treat their activations (kernels::QuantActivations). Absent = "fp32".
inline constexpr const char* kActivationsAttr = "_activations";

// Checks the format names (and that layer_precision / keep_fp32 name nodes of the model) before
// any work is done. Throws Error(kInvalidArgument) naming the bad entry and listing valid ones.
void validate_precision_options(const ir::Graph& model, const PlanOptions& opt);

// Annotates every eligible node of the planned graph (Gemm/MatMul with a constant 2-D float32
// weight; LSTM/GRU/RNN with constant float32 W and R) with kWeightFormatAttr. Throws
// Error(kInvalidArgument) when a node named in layer_precision / keep_fp32 is not a weight layer
// after the passes.
void assign_weight_formats(ir::Graph& g, const PlanOptions& opt);

// The inputs a narrow format applies to (B of Gemm/MatMul; W and R of the RNNs); empty when the
// node is not eligible.
std::vector<int> weight_inputs(const ir::Graph& g, const ir::Node& node);

// Rows (outputs, N) and columns (reduction, K) of weight input `input` of an eligible node as
// its kernel packs it; an RNN's directions and gates stack into the rows.
void weight_rows_cols(const ir::Node& node, int input, const Shape& shape, int64_t* n, int64_t* k);

// The format a node was annotated with (fp32 when none).
formats::WeightFormat node_weight_format(const ir::Node& node);

// Bytes of an n x k weight packed in f (formats::PackedMatrix::bytes() without packing it).
size_t packed_weight_bytes(const formats::WeightFormat& f, int64_t n, int64_t k);

}  // namespace softdpu::runtime
