// Compressed weight formats per layer (docs/compression.md): decides, after the graph passes,
// which weight layers run block-circulant (FFT) or EIE-sparse, applies the projection / pruning /
// weight sharing to their constant weights once, and records the choice as node attributes that
// the prepare functions of Gemm, MatMul and LSTM/GRU/RNN read before the narrow-precision path.
#pragma once

#include "ir/graph.h"
#include "softdpu/session.h"

namespace softdpu::runtime {

// compress::CompressionSpec::to_string() of the layer's format; absent = not compressed.
inline constexpr const char* kCompressionAttr = "_compression";
// Shown in PlanStats::layer_formats ("circulant-b16", "sparse-cb4", ...).
inline constexpr const char* kCompressionFormatAttr = "_compression_format";
// Bytes of each weight input's compressed form, in weight_inputs() order.
inline constexpr const char* kCompressedBytesAttr = "_compressed_bytes";
// Relative Frobenius error of a projected / pruned layer.
inline constexpr const char* kCompressionErrorAttr = "_compression_error";

// Checks the compression options against the imported model (ranges, node names) before any
// work. Throws Error(kInvalidArgument) naming the bad value.
void validate_compression_options(const ir::Graph& model, const PlanOptions& opt);

// Annotates (and rewrites the weights of) the layers that take a compressed format. Throws
// Error(kInvalidArgument) when a layer named in circulant_layers cannot take the format, saying
// why.
void assign_compression(ir::Graph& g, const PlanOptions& opt);

}  // namespace softdpu::runtime
