// Graph rewrites run between shape inference and kernel selection. Each pass lives in its own
// file, keeps every value's dtype and shape valid, and returns how many rewrites it made.
#pragma once

#include "ir/graph.h"

namespace softdpu::passes {

int eliminate_identity(ir::Graph& g);  // Identity, Dropout (inference) -> rewire readers
int fold_batchnorm_into_conv(ir::Graph& g);
int fuse_matmul_add(ir::Graph& g);    // MatMul (2-D, constant B) + Add(bias) -> Gemm
int fuse_residual_add(ir::Graph& g);  // Conv + Add(same-shape residual) -> Conv input 3
int fuse_activation(ir::Graph& g);    // Gemm/MatMul/Conv + Relu/LeakyRelu/Sigmoid/Tanh/Clip

// The standard pipeline, in order.
void optimize(ir::Graph& g);

}  // namespace softdpu::passes
