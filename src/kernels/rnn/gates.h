// The per-time-step gate epilogues of LSTM, GRU and RNN: everything a step does after the
// recurrent matrix-vector product, fused into one pass over the hidden units.
//
// Each row function handles one batch row and the hidden units [j0, j1) of it, so the caller can
// split the units across threads. Pre-activations arrive as two parts, the input projection row
// `xp` (X·Wᵀ plus the folded biases, computed for all steps at once) and the recurrent product row
// `rp` (H_{t-1}·Rᵀ); adding them here is what lets the reverse direction of a batch with mixed
// sequence lengths read each row from a different time step.
//
// There is one implementation (gates_impl.inc) compiled three times: scalar (the reference twin),
// AVX2+FMA and AVX-512. Sigmoid and tanh use polynomial approximations (Cephes-style exp and tanh,
// about 1e-7 relative error), identical in every path except that the scalar twin does not fuse
// multiply-adds.
#pragma once

#include <cstdint>

#include "core/cpu.h"

namespace softdpu::kernels::rnn {

// The activation functions the ONNX recurrent ops accept (attribute `activations`).
enum class ActFn : int {
  kSigmoid,
  kTanh,
  kRelu,
  kHardSigmoid,
  kLeakyRelu,
  kAffine,
  kThresholdedRelu,
  kScaledTanh,
  kElu,
  kSoftsign,
  kSoftplus,
};

struct ActParams {
  ActFn fn = ActFn::kSigmoid;
  float alpha = 0;
  float beta = 0;
};

// LSTM, gate order i o f c. Ct = f⊙Ct-1 + i⊙g(c), Ht = o⊙h(Ct); peepholes add P⊙C to i, f
// (previous C) and o (new C). `clip` bounds the inputs of f and g (+inf: no clip).
struct LstmParams {
  ActParams f, g, h;
  float clip;
  bool input_forget;  // couple the gates: forget = 1 - input
};
struct LstmRow {
  const float* xp;    // [4H]
  const float* rp;    // [4H]
  const float* peep;  // [3H] (i o f) or nullptr
  float* c;           // [H] cell state, updated in place
  float* h;           // [H] hidden state, updated in place
  float* y;           // [H] Y row, or nullptr
  int64_t hidden;
};

// GRU, gate order z r h. Ht = (1-z)⊙ĥ + z⊙Ht-1.
struct GruParams {
  ActParams f, g;
  float clip;
};
struct GruRow {
  const float* xp;  // [3H]
  float* rp;        // [2H] (z r) recurrent product; gru_zr overwrites the z half with z
  const float* rph;  // [H] recurrent product of the h gate: (r⊙Ht-1)·Rhᵀ, or Ht-1·Rhᵀ (lbr=1)
  const float* rbh;  // [H] Rbh, added inside r⊙(...) when linear_before_reset; nullptr = zero
  float* h;          // [H] hidden state, updated in place
  float* rh;         // [H] gru_zr writes r⊙Ht-1 here (the input of the second product)
  float* y;          // [H] Y row, or nullptr
  int64_t hidden;
};

// RNN: Ht = f(xp + rp).
struct RnnParams {
  ActParams f;
  float clip;
};
struct RnnRow {
  const float* xp;  // [H]
  const float* rp;  // [H]
  float* h;         // [H]
  float* y;         // [H] or nullptr
};

struct GateKernels {
  const char* name;
  void (*lstm)(const LstmParams&, const LstmRow&, int64_t j0, int64_t j1);
  // GRU with linear_before_reset = 0 runs in two phases around the second product:
  // gru_zr (z, r, r⊙Ht-1) then gru_h (ĥ and the new state).
  void (*gru_zr)(const GruParams&, const GruRow&, int64_t j0, int64_t j1);
  void (*gru_h)(const GruParams&, const GruRow&, int64_t j0, int64_t j1);
  // GRU with linear_before_reset = 1: one phase, rph is the plain Ht-1·Rhᵀ.
  void (*gru_lbr)(const GruParams&, const GruRow&, int64_t j0, int64_t j1);
  void (*rnn)(const RnnParams&, const RnnRow&, int64_t j0, int64_t j1);
  // y = act(x) over n floats (tests measure the approximations through it).
  void (*activation)(const ActParams&, const float* x, float* y, int64_t n);
};

extern const GateKernels kGatesScalar;
extern const GateKernels kGatesAvx2;
extern const GateKernels kGatesAvx512;

// The path for `isa` (the scalar one when this build has no x86 vector paths).
const GateKernels& gate_kernels(Isa isa);

}  // namespace softdpu::kernels::rnn
