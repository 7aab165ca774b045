// Ops of the 'linalg' family not implemented yet: each answers kUnsupported at plan time.
// Remove an op from this file when its real prepare_<Op> lands.
#include "runtime/kernel.h"

namespace softdpu::runtime {

std::unique_ptr<Kernel> prepare_GridSample(PrepareContext& ctx) {
  ctx.unsupported("not implemented");
}
std::unique_ptr<Kernel> prepare_RoiAlign(PrepareContext& ctx) {
  ctx.unsupported("not implemented");
}

}  // namespace softdpu::runtime
