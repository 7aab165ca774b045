// Ops of the 'reduce' family not implemented yet: each answers kUnsupported at plan time.
// Remove an op from this file when its real prepare_<Op> lands.
#include "runtime/kernel.h"

namespace softdpu::runtime {

std::unique_ptr<Kernel> prepare_ArgMax(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_ArgMin(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_BatchNormalization(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Hardmax(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_InstanceNormalization(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_LRN(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_LayerNormalization(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_LogSoftmax(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_LpNormalization(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_MeanVarianceNormalization(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_NegativeLogLikelihoodLoss(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_ReduceL1(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_ReduceL2(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_ReduceLogSum(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_ReduceLogSumExp(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_ReduceMax(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_ReduceMean(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_ReduceMin(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_ReduceProd(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_ReduceSum(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_ReduceSumSquare(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Softmax(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_SoftmaxCrossEntropyLoss(PrepareContext& ctx) { ctx.unsupported("not implemented"); }

}  // namespace softdpu::runtime
