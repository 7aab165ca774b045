// Ops of the 'elementwise' family not implemented yet: each answers kUnsupported at plan time.
// Remove an op from this file when its real prepare_<Op> lands.
#include "runtime/kernel.h"

namespace softdpu::runtime {

std::unique_ptr<Kernel> prepare_Abs(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Acos(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Acosh(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Add(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_And(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Asin(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Asinh(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Atan(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Atanh(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_BitShift(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Cast(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_CastLike(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Ceil(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Celu(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Clip(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Cos(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Cosh(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_DequantizeLinear(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Div(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Dropout(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_DynamicQuantizeLinear(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Elu(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Equal(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Erf(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Exp(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Floor(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Gelu(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Greater(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_GreaterOrEqual(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_HardSigmoid(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_HardSwish(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Identity(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_IsInf(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_IsNaN(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_LeakyRelu(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Less(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_LessOrEqual(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Log(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Max(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Mean(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Min(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Mod(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Mul(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Neg(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Not(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Or(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_PRelu(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Pow(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_QuantizeLinear(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Reciprocal(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Relu(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Round(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Selu(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Shrink(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Sigmoid(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Sign(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Sin(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Sinh(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Softplus(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Softsign(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Sqrt(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Sub(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Sum(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Tan(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Tanh(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_ThresholdedRelu(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Where(PrepareContext& ctx) { ctx.unsupported("not implemented"); }
std::unique_ptr<Kernel> prepare_Xor(PrepareContext& ctx) { ctx.unsupported("not implemented"); }

}  // namespace softdpu::runtime
