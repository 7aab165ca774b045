#include "passes/passes.h"

namespace softdpu::passes {

void optimize(ir::Graph& g) {
  eliminate_identity(g);
  fold_batchnorm_into_conv(g);
  fuse_matmul_add(g);
  fuse_residual_add(g);  // before fuse_activation: the Relu after the Add then moves in too
  fuse_activation(g);
  ir::remove_dead_nodes(g);
}

}  // namespace softdpu::passes
