// Ops of the 'tensor' family not implemented yet: each answers kUnsupported at plan time.
// Remove an op from this file when its real prepare_<Op> lands.
#include "runtime/kernel.h"

namespace softdpu::runtime {

std::unique_ptr<Kernel> prepare_BlackmanWindow(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Compress(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Concat(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Constant(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_ConstantOfShape(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_CumSum(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_DepthToSpace(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Expand(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_EyeLike(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Flatten(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Gather(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_GatherElements(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_GatherND(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_HammingWindow(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_HannWindow(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_NonZero(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_OneHot(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Pad(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Range(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Reshape(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Resize(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_ReverseSequence(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Scatter(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_ScatterElements(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_ScatterND(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Shape(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Size(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Slice(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_SpaceToDepth(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Split(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Squeeze(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Tile(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_TopK(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Transpose(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Trilu(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Unique(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Unsqueeze(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Upsample(PrepareContext& ctx) { ctx.unsupported("not implemented"); }

}  // namespace softdpu::runtime
