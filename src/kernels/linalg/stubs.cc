// Ops of the 'linalg' family not implemented yet: each answers kUnsupported at plan time.
// Remove an op from this file when its real prepare_<Op> lands.
#include "runtime/kernel.h"

namespace softdpu::runtime {

std::unique_ptr<Kernel> prepare_AveragePool(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Conv(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_ConvInteger(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_ConvTranspose(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Det(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Einsum(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Gemm(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_GlobalAveragePool(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_GlobalMaxPool(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_GridSample(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_LpPool(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_MatMul(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_MatMulInteger(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_MaxPool(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_MaxUnpool(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_QLinearConv(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_QLinearMatMul(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_RoiAlign(PrepareContext& ctx) { ctx.unsupported("not implemented"); }

}  // namespace softdpu::runtime
